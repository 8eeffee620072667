"""Shared fixtures: one tiny demo world run through the real Prefect flows (session-wide)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory):
    """Run the demo flow twice on the tiny world; yield paths and the table counts after each run."""
    from prefect.testing.utilities import prefect_test_harness

    root = tmp_path_factory.mktemp("e2e")
    env = {"WXRISK_DATA": str(root / "data"), "WXRISK_MODELS": str(root / "models"),
           "WXRISK_BOARDS": str(root / "data" / "boards"), "WXRISK_DB": str(root / "data" / "wxrisk.duckdb")}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    from wxrisk.flows.pipeline import demo_flow
    from wxrisk.store import connect

    tables = ("segments", "incidents", "weather_hourly", "import_ledger", "quarantine", "runs", "risk",
              "stretches", "stretch_measures", "dispatch", "teams")

    def counts() -> dict[str, int]:
        with connect(env["WXRISK_DB"]) as con:
            return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}

    try:
        with prefect_test_harness(server_startup_timeout=120):
            first_run = demo_flow(env["WXRISK_DB"], str(root / "data" / "demo"), "tiny", 2024)
            first = counts()
            second_run = demo_flow(env["WXRISK_DB"], str(root / "data" / "demo"), "tiny", 2024)
            second = counts()
        yield {"root": root, "env": env, "runs": (first_run, second_run), "counts": (first, second)}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def world_copy(tiny_world, tmp_path):
    """A private copy of the tiny world's database, models and boards."""
    source = tiny_world["root"]
    shutil.copytree(source / "data", tmp_path / "data", ignore=shutil.ignore_patterns("demo"))
    shutil.copytree(source / "models", tmp_path / "models")
    env = {"WXRISK_DATA": str(tmp_path / "data"), "WXRISK_MODELS": str(tmp_path / "models"),
           "WXRISK_BOARDS": str(tmp_path / "data" / "boards"), "WXRISK_DB": str(tmp_path / "data" / "wxrisk.duckdb")}
    from wxrisk.store import connect

    with connect(env["WXRISK_DB"], read_only=True) as con:
        start = con.execute("SELECT start_time FROM runs WHERE status = 'complete' ORDER BY created_at DESC LIMIT 1"
                            ).fetchone()[0]
    return env, start
