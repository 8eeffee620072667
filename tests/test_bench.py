"""`wxrisk bench` on a small network: it times the very steps a board run is made of, and the plain
yardstick pipeline of the same shape, and says so in its table and JSON (figures are not asserted)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from wxrisk.bench import run_bench
from wxrisk.config import Settings
from wxrisk.pipeline import STEPS
from wxrisk.store import connect
from wxrisk.store.publish import current_board_path_or_none

pytestmark = pytest.mark.slow


def test_the_bench_times_the_runs_own_steps_beside_the_plain_pipeline(tmp_path):
    work = tmp_path / "bench"
    settings = replace(Settings(), data_dir=work, db_path=work / "bench.duckdb", boards_dir=work / "boards",
                       models_dir=work / "models", tile_segments=400)
    report = run_bench(settings, segments=1_200, hours=24, out=tmp_path / "results.json", progress=lambda _: None)

    timed = [stage["name"] for stage in report.stages if stage["timed"]]
    assert timed == ["grid import + sampling", *(step.name for step in STEPS)]
    assert {"features", "prediction", "risk rows written, beside board", "snapshot risk rows, beside board"} <= set(
        report.score_parts)
    assert report.process_peak_mib >= 0.99 * report.peak_mib > 0  # kernel high-water mark vs sampled RSS
    assert report.process_cpu_s >= report.cpu_s > 0 and report.plain["cpu_s"] > 0
    assert report.plain["rows"] == 1_200 * 24 and report.plain["seconds"] > 0, report.plain
    table = report.table()
    assert "board end to end" in table and "plain xarray/pandas/LightGBM pipeline" in table and "x our CPU time" in table

    written = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert written["segments"] == 1_200 and [s["name"] for s in written["stages"]] == [s["name"] for s in report.stages]
    with connect(settings.db_path, read_only=True) as con:
        status, rows = con.execute("SELECT status, (SELECT count(*) FROM risk) FROM runs").fetchone()
    assert status == "complete" and rows == 1_200 * 24
    assert current_board_path_or_none(settings.boards_dir) is not None
