"""The inbox deployment end to end with real Prefect: good, bad and half-written files each end up
in the right place, each file is a task run named after it, and the board is refreshed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from wxrisk.flows.deployments import deployments
from wxrisk.inbox import stable_files
from wxrisk.store import connect
from wxrisk.store.publish import current_board_path_or_none

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
HEADER = "incident_id,occurred_at,lat,lon,road_ref,severity,surface,weather,vehicles,casualties,synthetic\n"

pytestmark = pytest.mark.slow


def test_the_inbox_is_served_every_minute():
    by_name = {d.name: d for d in deployments("data/x.duckdb", "Asia/Shanghai")}
    schedule = by_name["inbox"].schedules[0].schedule
    assert schedule.interval == timedelta(seconds=60)
    assert by_name["inbox"].parameters["db"] == "data/x.duckdb"


def test_a_file_is_taken_only_when_unchanged_since_the_previous_poll(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "incidents").mkdir(parents=True)
    (inbox / "incidents" / "a.csv").write_text("x\n")
    (inbox / "incidents" / "b.csv.part").write_text("x\n")
    (inbox / "incidents" / ".c.csv.swp").write_text("x\n")
    assert stable_files(inbox) == ([], ["incidents/a.csv"])
    assert stable_files(inbox) == (["incidents/a.csv"], [])
    with (inbox / "incidents" / "a.csv").open("a") as handle:
        handle.write("more\n")
    assert stable_files(inbox) == ([], ["incidents/a.csv"])


@pytest.mark.parametrize(("options", "expected"), [("", {"d1", "d2"}), ("same_name_replaces: true\n", {"d2"})])
def test_a_daily_export_under_a_fixed_name_adds_unless_declared_a_snapshot(tmp_path, options, expected):
    from wxrisk.config import Settings
    from wxrisk.inbox import process_file

    inbox, db = tmp_path / "inbox", tmp_path / "x.duckdb"
    (inbox / "incidents").mkdir(parents=True)
    (inbox / "incidents" / "inbox.yaml").write_text("tz: UTC\n" + options, encoding="utf-8")
    for day in ("d1", "d2"):
        (inbox / "incidents" / "export.csv").write_text(
            f"incident_id,occurred_at,lat,lon\n{day},2024-02-0{day[1]}T08:00:00Z,30.5,114.3\n", encoding="utf-8")
        process_file(db, Settings(), inbox, "incidents/export.csv")
    with connect(db, read_only=True) as con:
        assert {i for (i,) in con.execute("SELECT incident_id FROM incidents").fetchall()} == expected
    assert sorted(p.name for p in (inbox / "processed").rglob("export*.csv")) == ["export.1.csv", "export.csv"]


def incident_rows(con, start, count: int, prefix: str) -> str:
    """`count` new incidents on real segments of the world, in the hours before `start`."""
    segments = con.execute("SELECT lon, lat, road_ref FROM segments ORDER BY segment_id LIMIT ?", [count]).fetchall()
    return "".join(f"{prefix}-{n},{(start - timedelta(hours=n + 1)):%Y-%m-%dT%H:%M:%SZ},{lat},{lon},{ref},"
                   f"slight,ice,freezing_rain,2,1,true\n" for n, (lon, lat, ref) in enumerate(segments))


def flow_run_task_names(state) -> set[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    return {run.name for run in runs}


def latest_inbox_artifact() -> list[dict]:
    import json

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["wxrisk-inbox"])))
    newest = max(artifacts, key=lambda a: a.created)
    return json.loads(newest.data) if isinstance(newest.data, str) else newest.data


def test_good_bad_and_half_written_files_reach_the_right_place(world_copy, tmp_path, monkeypatch):
    from prefect.testing.utilities import prefect_test_harness

    from wxrisk.flows.inbox import inbox_flow

    env, start = world_copy
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    db, inbox = env["WXRISK_DB"], tmp_path / "inbox"
    incidents, weather = inbox / "incidents", inbox / "weather"
    incidents.mkdir(parents=True)
    weather.mkdir()
    with connect(db, read_only=True) as con:
        good_rows, late_rows = incident_rows(con, start, 3, "inbox"), incident_rows(con, start, 2, "late")
        part_rows = incident_rows(con, start, 2, "part")
    (incidents / "inbox.yaml").write_text("preset: generic\ntz: UTC\n", encoding="utf-8")
    (incidents / "good.csv").write_text(HEADER + good_rows, encoding="utf-8")
    (incidents / "leeds-casualties.csv").write_bytes((REAL / "leeds-accidents-2019.csv").read_bytes())  # no mapping
    (weather / "era5-cut.grib").write_bytes((REAL / "era5-2mt-2019-03-uk.grib").read_bytes()[:3360 * 10 - 1])
    (incidents / "late.csv.part").write_text(HEADER + part_rows, encoding="utf-8")
    growing = incidents / "growing.csv"
    growing.write_text(HEADER + late_rows[: len(late_rows) // 2], encoding="utf-8")  # still being written
    board_before = current_board_path_or_none(Path(env["WXRISK_BOARDS"]))

    def poll():
        return inbox_flow(db, str(inbox), board_start=start, board_hours=6, return_state=True)

    with prefect_test_harness(server_startup_timeout=120):
        first = poll()  # everything is new: nothing is read yet
        assert first.is_completed()
        assert sorted(p.name for p in incidents.iterdir()) == [
            "good.csv", "growing.csv", "inbox.yaml", "late.csv.part", "leeds-casualties.csv"]
        with growing.open("a", encoding="utf-8") as handle:
            handle.write(late_rows[len(late_rows) // 2: -5])  # the writer goes on

        second = poll()
        assert second.is_failed() and "rejected: incidents/leeds-casualties.csv, weather/era5-cut.grib" \
            in second.message
        names = flow_run_task_names(second)
        outcomes = {row["file"]: row for row in latest_inbox_artifact()}

    day = next((inbox / "processed").iterdir()).name
    processed, rejected = inbox / "processed" / day, inbox / "rejected" / day
    assert (processed / "incidents" / "good.csv").exists()
    assert (processed / "incidents" / "good.csv.reason.txt").read_text().startswith(
        "imported incidents: 3 read = 3 kept + 0 quarantined + 0 merged")
    assert (rejected / "incidents" / "leeds-casualties.csv").exists()
    assert "missing required column incident_id" in (rejected / "incidents" / "leeds-casualties.csv.reason.txt"
                                                     ).read_text()
    assert "GRIB message 10" in (rejected / "weather" / "era5-cut.grib.reason.txt").read_text()
    assert all(len(p.read_text().splitlines()) == 1 for p in inbox.rglob("*.reason.txt"))
    # the half-written files are untouched: the growing one changed since the last poll, the .part never counts
    assert sorted(p.name for p in incidents.iterdir()) == ["growing.csv", "inbox.yaml", "late.csv.part"]
    assert {"incidents/good.csv", "incidents/leeds-casualties.csv", "weather/era5-cut.grib"} <= names
    assert outcomes["incidents/good.csv"]["outcome"] == "processed"
    assert outcomes["weather/era5-cut.grib"]["outcome"] == "rejected"
    assert outcomes["incidents/growing.csv"]["outcome"] == "waiting"
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM incidents WHERE incident_id LIKE 'inbox-%'").fetchone() == (3,)
    board_after = current_board_path_or_none(Path(env["WXRISK_BOARDS"]))
    assert board_after != board_before, "new incidents refresh the board"

    with growing.open("a", encoding="utf-8") as handle:
        handle.write(late_rows[-5:])  # the writer finishes; the other file is renamed when complete
    (incidents / "late.csv.part").rename(incidents / "growing-2.csv")
    with prefect_test_harness(server_startup_timeout=120):
        assert poll().is_completed()  # both changed or new since the last poll: waiting
        assert (incidents / "growing.csv").exists()
        third = poll()
    assert third.is_completed(), third.message
    assert (processed / "incidents" / "growing.csv.reason.txt").read_text().startswith(
        "imported incidents: 2 read = 2 kept")
    assert (processed / "incidents" / "growing-2.csv.reason.txt").read_text().startswith(
        "imported incidents: 2 read = 2 kept")
