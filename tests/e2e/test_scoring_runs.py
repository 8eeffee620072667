"""Board runs on the tiny demo world: what the officer sees is what the model used, the local time
zone reaches every part, and a window running past the weather is named, not scored blind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wxrisk.boardview import snapshot
from wxrisk.config import load_settings
from wxrisk.features import build_features, tile_features
from wxrisk.pipeline import RunPlan, WeatherChoice, run_window
from wxrisk.store import connect
from wxrisk.store.publish import current_board_path_or_none, open_board

pytestmark = pytest.mark.slow


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wxrisk.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600)


def _run_row(db: str, run_id: str | None = None) -> dict:
    with connect(db, read_only=True) as con:
        frame = con.execute("SELECT * FROM runs ORDER BY created_at DESC").df()
    row = frame.iloc[0] if run_id is None else frame.set_index("run_id").loc[run_id].rename(run_id)
    return row.to_dict() | {"run_id": row.get("run_id", run_id)}


def test_the_stretch_weather_is_the_weather_the_model_used(tiny_world):
    """The demo replay has analysis and forecast for the same hours: the board shows the forecast the
    model scored on, never the analysis of hours that were still ahead at the board's start."""
    env = tiny_world["env"]
    settings = load_settings(env["WXRISK_DB"])
    run = _run_row(env["WXRISK_DB"], tiny_world["runs"][1])
    start, issued = run["start_time"], run["weather_issued_at"]
    end = start + timedelta(hours=int(run["hours"]))
    with connect(env["WXRISK_DB"], read_only=True) as con:
        features = build_features(con, settings, start, end, "forecast", issued).frame
        both = con.execute("""
            SELECT a.t2m_c AS analysis, f.t2m_c AS forecast FROM weather_hourly a JOIN weather_hourly f
            USING (segment_id, valid_time) WHERE a.kind = 'analysis' AND f.kind = 'forecast' AND f.issued_at = ?
            AND a.valid_time > ? AND a.valid_time < ?""", [issued, issued, end]).df()
    assert len(both) and (both["analysis"] != both["forecast"]).mean() > 0.5, "the replay must tell the two apart"

    board = open_board(settings.boards_dir / f"{run['run_id']}.duckdb")
    stretches = snapshot.stretches(board)
    assert len(stretches) > 0
    features["segment_id"] = features["segment_id"].astype(str)
    for members in stretches["segment_ids"].map(json.loads):
        shown = snapshot.weather_timeline(board, members).set_index("valid_time")
        used = features[features["segment_id"].isin(members)].groupby("valid_time")[["t2m_c", "precip_mm_1h"]].mean()
        assert (shown.loc[shown.index > issued, "kind"] == "forecast").all()
        shown = shown.loc[used.index]
        np.testing.assert_allclose(shown["t2m_c"], used["t2m_c"], atol=1e-4)
        np.testing.assert_allclose(shown["precip_mm"], used["precip_mm_1h"], atol=1e-4)
    labels = snapshot.run_info(board).feature_labels
    assert labels["grade_pct"][1] and "feature:grade_pct" in snapshot.run_info(board).missing_inputs
    board.close()


def test_a_window_past_the_forecast_is_published_incomplete_naming_the_hours(world_copy):
    env, _ = world_copy
    start = datetime(2024, 2, 3, 0)  # the demo forecast issued 2024-02-01 18Z ends at 2024-02-05 18Z
    result = _cli("score", "--start", f"{start:%Y-%m-%dT%H:%MZ}", "--hours", "72", env=env)
    assert result.returncode == 3, result.stderr[-2000:]
    stderr = result.stderr.strip().splitlines()
    assert stderr[-1].endswith("incomplete: 5 of 72 hours without weather, not scored: 2024-02-05T19Z–2024-02-05T23Z")
    run = _run_row(env["WXRISK_DB"])
    assert run["status"] == "incomplete"
    assert any("2024-02-05T19Z–2024-02-05T23Z" in item for item in json.loads(run["missing_inputs"]))
    with connect(env["WXRISK_DB"], read_only=True) as con:
        hours = con.execute("SELECT max(valid_time), count(DISTINCT valid_time) FROM risk WHERE run_id = ?",
                            [run["run_id"]]).fetchone()
        n_segments = con.execute("SELECT count(*) FROM segments").fetchone()[0]
        rows = con.execute("SELECT count(*) FROM risk WHERE run_id = ?", [run["run_id"]]).fetchone()[0]
    assert hours == (datetime(2024, 2, 5, 18), 67) and rows == n_segments * 67
    published = open_board(current_board_path_or_none(Path(env["WXRISK_BOARDS"])))
    assert snapshot.run_info(published).run_id == run["run_id"]  # the officer gets the covered hours, named
    published.close()


def test_the_local_time_zone_reaches_features_board_and_exports(world_copy, monkeypatch):
    env, start = world_copy
    for key, value in {**env, "WXRISK_TZ": "Europe/London"}.items():
        monkeypatch.setenv(key, value)
    db = env["WXRISK_DB"]
    with connect(db, read_only=True) as con:
        beijing_risk = con.execute("SELECT risk FROM risk ORDER BY segment_id, valid_time").df()["risk"]
    london = {**env, "WXRISK_TZ": "Europe/London"}
    result = _cli("score", "--start", f"{start:%Y-%m-%dT%H:%MZ}", env=london)
    assert result.returncode == 0, result.stderr[-2000:]

    run = _run_row(db)
    with connect(db, read_only=True) as con:
        plan = RunPlan(run["run_id"], start, 72, WeatherChoice("forecast", run["weather_issued_at"]),
                       run["model_version"], {})
        window = run_window(con, load_settings(db), plan)  # the score step's window, with the CLI's settings
        first = tile_features(con, window, 0, 1).frame.iloc[0]
        london_risk = con.execute("SELECT risk FROM risk WHERE run_id = ? ORDER BY segment_id, valid_time",
                                  [run["run_id"]]).df()["risk"]
        stretch = con.execute("SELECT peak_time, reasons_en FROM stretches WHERE run_id = ? LIMIT 1",
                              [run["run_id"]]).fetchone()
        measure = con.execute("SELECT start_at + to_hours(CAST(lead_hours AS INTEGER)), reason_en FROM stretch_measures "
                              "WHERE run_id = ? LIMIT 1", [run["run_id"]]).fetchone()
    assert first["hour_local"] == (start - timedelta(hours=1)).hour  # London is UTC in February
    assert not np.allclose(london_risk, beijing_risk), "hour of day and holidays are London's now"
    assert f"at {stretch[0]:%d %b %H:%M} local" in stretch[1]
    assert f"from {measure[0]:%d %b %H:%M} local" in measure[1]  # the onset the measure is timed to

    csv = os.path.join(env["WXRISK_DATA"], "board.csv")
    exported = _cli("export", "board", "--format", "csv", "--out", csv, env=london)
    assert exported.returncode == 0, exported.stderr
    onsets = pd.read_csv(csv, encoding="utf-8-sig")["开始"]
    assert len(onsets) and onsets.str.endswith("+00:00").all(), onsets.tolist()



def _run_in_process(env: dict, start: datetime, monkeypatch, around=None):
    from wxrisk import pipeline

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings(env["WXRISK_DB"])
    return settings, pipeline.run_steps(pipeline.RunState(settings, start), around=around)


def _staged_files(settings) -> list[str]:
    return [p.name for p in settings.boards_dir.iterdir() if p.name.startswith(".")]


def test_the_snapshot_holds_the_working_databases_risk_rows_written_beside_the_board(world_copy, monkeypatch):
    env, start = world_copy
    settings, state = _run_in_process(env, start, monkeypatch)
    assert state.summary.status == "complete"
    run_rows = "SELECT * FROM risk WHERE run_id = $1"
    with connect(env["WXRISK_DB"], read_only=True) as con:
        con.execute("ATTACH ? AS board (READ_ONLY)", [str(state.published)])
        rows = con.execute("SELECT count(*) FROM board.risk").fetchone()[0]
        differ = [con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})", [state.plan.run_id]).fetchone()[0]
                  for a, b in [("SELECT * FROM board.risk", run_rows), (run_rows, "SELECT * FROM board.risk")]]
    assert rows > 0 and differ == [0, 0]
    assert not _staged_files(settings), "the staged snapshot file became the board"


def test_a_board_step_that_fails_leaves_the_last_board_and_no_staged_file(world_copy, monkeypatch):
    env, start = world_copy
    before = current_board_path_or_none(Path(env["WXRISK_BOARDS"]))

    @contextmanager
    def stretches_fail_after_scoring(name: str):
        yield
        if name == "score":  # the risk rows are being written beside the board now
            with connect(env["WXRISK_DB"]) as con:
                con.execute("DROP TABLE stretch_measures")
                con.execute("CREATE VIEW stretch_measures AS SELECT error('disk full') AS run_id")

    with pytest.raises(Exception, match="delete from base table|disk full"):
        _run_in_process(env, start + timedelta(hours=1), monkeypatch, around=stretches_fail_after_scoring)
    settings = load_settings(env["WXRISK_DB"])
    assert current_board_path_or_none(settings.boards_dir) == before
    assert not _staged_files(settings), "the failed run's staged risk rows are removed"
    assert _run_row(env["WXRISK_DB"])["status"] == "failed"
