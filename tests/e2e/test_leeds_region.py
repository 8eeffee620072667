"""The "run it on your own region" worked example (docs/own-region.md) on the real Leeds files.

The page's commands run once through the command line (the session fixture `leeds_region` in
tests/conftest.py: imports, `train --until 2022-07-01`, `evaluate` of the winter 2022/23; the
model's real check reads the same run), then this module scores the board of the morning of
14 December 2022 and exports it. The tests check that the page shows what the commands print.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from wxrisk.boardview.bench import APP_PATH
from wxrisk.store import connect
from wxrisk.store.publish import current_board_path_or_none, open_board

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "own-region.md"
APP = str(APP_PATH)
POINT = "tests/data/real/openmeteo_leeds_53.81N_1.56W_48m_2019-2024_hourly.csv.gz"
BOARD_START = "2022-12-14T05:00Z"
BOARD_HOURS = 72
VERSION = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")  # a model version: its time of training differs each run
PROGRESS = re.compile(r"^\[\d\d:\d\d:\d\d\]|^  \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d: ")  # per-week/fortnight lines


@pytest.fixture(scope="module")
def leeds(leeds_region):
    """The shared Leeds run, plus the board of 05:00 UTC on 14 December 2022 and its exports."""
    env, root, wxrisk_cli = leeds_region["env"], leeds_region["root"], leeds_region["cli"]
    out = dict(leeds_region["out"])
    out["score"] = wxrisk_cli(env, "score", "--start", BOARD_START, "--hours", str(BOARD_HOURS))
    out["export_risk"] = wxrisk_cli(env, "export", "risk", "--out", str(root / "leeds-risk.csv"))
    out["export_board"] = wxrisk_cli(env, "export", "board", "--format", "csv", "--lang", "en",
                                     "--out", str(root / "leeds-board.csv"))
    return {"root": root, "env": env, "out": out, "evaluation": leeds_region["evaluation"],
            "run_id": out["score"].strip().splitlines()[-1]}


def page_text() -> str:
    return VERSION.sub("VERSION", DOC.read_text(encoding="utf-8"))


def printed_lines(text: str) -> list[str]:
    """The lines a command printed that the page must show: progress lines left out, versions masked."""
    return [VERSION.sub("VERSION", line).rstrip() for line in text.splitlines()
            if line.strip() and not PROGRESS.match(line)]


def _ledger(env: dict[str, str], kind: str) -> tuple[int, int, dict]:
    with connect(env["WXRISK_DB"], read_only=True) as con:
        read, kept, details = con.execute(
            "SELECT rows_read, rows_kept, details FROM import_ledger WHERE kind = ? ORDER BY import_id DESC",
            [kind]).fetchone()
    return read, kept, json.loads(details)


def test_the_imports_print_what_the_page_shows(leeds):
    page = page_text()
    for step in ("roads", "incidents", "weather"):
        for line in printed_lines(leeds["out"][step]):
            assert line in page, f"docs/own-region.md does not show the {step} line {line!r}"


def test_all_collisions_kept_and_the_ice_and_snow_ones_counted(leeds):
    read, kept, details = _ledger(leeds["env"], "incidents")
    assert read == kept == 6900 and details["mapping"] == "stats19-decoded"
    with connect(leeds["env"]["WXRISK_DB"], read_only=True) as con:
        surfaces = dict(con.execute("SELECT surface, count(*) FROM incidents GROUP BY 1").fetchall())
        matched_icy = con.execute("SELECT count(*) FROM incidents WHERE surface IN ('ice', 'snow') "
                                  "AND segment_id IS NOT NULL").fetchone()[0]
    assert surfaces["ice"] == 70 and surfaces["snow"] == 21, "Frost or ice 70, Snow 21 (NOTICE.md)"
    assert matched_icy == 12 and details["matched"] == 1192


def test_the_point_serves_every_segment_with_the_files_temperatures(leeds):
    _, kept, details = _ledger(leeds["env"], "weather")
    assert kept == 52608 and details["segments_served"] == 1122 == details["segments"]
    with gzip.open(REPO / POINT, "rt", encoding="utf-8") as handle:
        point = pd.read_csv(handle, parse_dates=["time"]).set_index("time")["temperature_2m (°C)"]
    with connect(leeds["env"]["WXRISK_DB"], read_only=True) as con:
        rows = con.execute("SELECT valid_time, t2m_c FROM weather_rows WHERE valid_time >= '2022-12-14' "
                           "AND valid_time < '2022-12-15'").df()
    assert len(rows) == 24 * 1122
    assert (rows["t2m_c"].to_numpy() - point.reindex(rows["valid_time"]).to_numpy()).max() < 1e-4
    assert rows["t2m_c"].min() == pytest.approx(-4.5), "-4.5 °C on the evening of 14 Dec 2022"


def test_training_prints_what_the_page_shows(leeds):
    page = page_text()
    lines = printed_lines(leeds["out"]["train"])
    summary = lines[next(i for i, line in enumerate(lines) if "segment-hours kept" in line):]
    assert len(summary) > 10, leeds["out"]["train"]
    for line in [lines[0], *summary]:
        assert line in page, f"docs/own-region.md does not show the training line {line!r}"


def test_the_evaluation_tables_are_the_ones_in_the_docs(leeds):
    page = page_text()
    lines = printed_lines(leeds["out"]["evaluate"])
    assert any("ice/snow" in line for line in lines) and any(re.search(r"\s\d\.\d{2,}", line) for line in lines)
    for line in lines:
        assert line in page, f"docs/own-region.md does not show the evaluation line {line!r}"


def test_the_page_counts_the_ice_and_snow_hours_it_judges_on(leeds):
    hours = leeds["evaluation"]["region_hours"]
    assert hours["hours"] == 8760 and hours["ice_incidents"] == 29, "2022/23: all of Leeds, matched or not"
    assert f"{hours['ice_incidents']} ice/snow collisions" in DOC.read_text(encoding="utf-8")


def test_the_board_of_14_december_covers_every_segment_for_72_hours(leeds):
    board = current_board_path_or_none(Path(leeds["env"]["WXRISK_BOARDS"]))
    assert board is not None and board.stem == leeds["run_id"]
    with open_board(board) as con:
        risk = con.execute("SELECT segment_id, valid_time, risk, ice_risk FROM risk").df()
    assert len(risk) == BOARD_HOURS * 1122 and risk["risk"].between(0.0, 1.0).all()
    assert risk["valid_time"].min() == pd.Timestamp("2022-12-14 05:00")
    exported = pd.read_csv(leeds["root"] / "leeds-risk.csv")
    assert len(exported) == len(risk) and {"risk", "ice_risk"} <= set(exported.columns)


def test_streamlit_board_renders_the_leeds_run_as_real_data(leeds, monkeypatch):
    for name, value in leeds["env"].items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "English"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(leeds["run_id"] in c.value for c in at.caption)
    assert any("ptype" in w.value for w in at.warning), "the board says precipitation type was left out"
    assert not any("synthetic" in e.value.lower() for e in at.error), "real data carries no demo banner"
