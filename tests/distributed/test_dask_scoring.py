"""Scoring tiles on a Dask cluster gives the same board as scoring in one piece."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wxrisk.flows.pipeline import dask_task_runner, score_flow
from wxrisk.store import connect

pytestmark = pytest.mark.slow


def _risk(db: str, run_id: str):
    with connect(db, read_only=True) as con:
        return con.execute("SELECT segment_id, valid_time, risk, tier, top_drivers_en FROM risk WHERE run_id = ? "
                           "ORDER BY segment_id, valid_time", [run_id]).df()


def _stretches(db: str, run_id: str) -> list[tuple]:
    with connect(db, read_only=True) as con:
        return con.execute("SELECT stretch_id, tier, onset, end_time FROM stretches WHERE run_id = ? ORDER BY 1",
                           [run_id]).fetchall()


def test_dask_tiles_give_the_same_board_as_the_local_path(world_copy, monkeypatch):
    from prefect.testing.utilities import prefect_test_harness

    env, start = world_copy
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("WXRISK_DASK_ADDRESS", raising=False)
    db = env["WXRISK_DB"]
    with connect(db, read_only=True) as con:
        n_segments = con.execute("SELECT count(*) FROM segments").fetchone()[0]
    with prefect_test_harness(server_startup_timeout=120):
        local_run = score_flow(db, start, 72, "champion")
        local, local_board = _risk(db, local_run), _stretches(db, local_run)
        config = Path(db).parent / "wxrisk.toml"  # three tiles or more, each a Dask task
        config.write_text(f"[scoring]\ntile_segments = {n_segments // 3}\n", encoding="utf-8")
        dask_run = score_flow.with_options(task_runner=dask_task_runner())(db, start, 72, "champion", distributed=True)
        distributed, distributed_board = _risk(db, dask_run), _stretches(db, dask_run)
    assert dask_run == local_run and len(local) > 0
    same = ["segment_id", "valid_time", "tier", "top_drivers_en"]
    assert local[same].equals(distributed[same]), "tiers and drivers in words do not depend on the tiles"
    assert local["top_drivers_en"].notna().any()
    np.testing.assert_allclose(distributed["risk"], local["risk"], rtol=0, atol=1e-9)
    assert distributed_board == local_board and local_board, "the same stretches, tiers and windows"
