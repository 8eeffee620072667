"""The whole pipeline end to end on the tiny demo world, through Prefect flows and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from wxrisk.store import connect
from wxrisk.store.publish import open_board

pytestmark = pytest.mark.slow


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wxrisk.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


def test_flow_publishes_a_complete_synthetic_board(tiny_world):
    with connect(tiny_world["env"]["WXRISK_DB"]) as con:
        status, synthetic, hours = con.execute(
            "SELECT status, synthetic, hours FROM runs WHERE run_id = ?", [tiny_world["runs"][1]]).fetchone()
    assert (status, synthetic, hours) == ("complete", True, 72)
    board = tiny_world["root"] / "data" / "boards" / "CURRENT"
    assert tiny_world["runs"][1] in board.read_text()


def test_rerunning_the_demo_duplicates_nothing(tiny_world):
    first, second = tiny_world["counts"]
    assert first == second
    assert first["risk"] > 0 and first["segments"] > 0 and first["weather_hourly"] > 0


def test_export_risk_gives_every_segment_for_72_hours(tiny_world, tmp_path):
    out = tmp_path / "risk.csv"
    result = _cli("export", "risk", "--out", str(out), env=tiny_world["env"])
    assert result.returncode == 0, result.stderr
    risk = pd.read_csv(out)
    with connect(tiny_world["env"]["WXRISK_DB"], read_only=True) as con:
        n_segments = con.execute("SELECT count(*) FROM segments").fetchone()[0]
    assert len(risk) == n_segments * 72
    assert risk.groupby("segment_id")["valid_time"].nunique().eq(72).all()
    assert risk["risk"].between(0, 1).all()
    assert {"segment_id", "road_ref", "km_from", "km_to", "lon", "lat", "tier", "top_drivers"} <= set(risk.columns)


def test_bad_input_file_is_one_line_naming_the_file(tiny_world, tmp_path):
    bad = tmp_path / "broken.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [ {"type": "Feat')
    result = _cli("import", "roads", str(bad), env=tiny_world["env"])
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken.geojson" in lines[0] and "Traceback" not in result.stderr


def test_snapshot_is_readable_while_the_working_database_is_open_for_writing(tiny_world):
    with connect(tiny_world["env"]["WXRISK_DB"]) as writer:
        writer.execute("CREATE TABLE IF NOT EXISTS e2e_probe(x INTEGER)")
        path = tiny_world["root"] / "data" / "boards" / f"{tiny_world['runs'][1]}.duckdb"
        board = open_board(path)
        assert board.execute("SELECT count(*) FROM risk").fetchone()[0] > 0
        board.close()
