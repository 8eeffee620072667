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


# --- the Leeds worked example (docs/own-region.md), shared by its test and the model's real check ----

LEEDS_DATA = "tests/data/real"  # as the page types it, from the repository
LEEDS_COMMANDS = {
    "roads": ("import", "roads", f"{LEEDS_DATA}/leeds-roads.geojson"),
    "incidents": ("import", "incidents", f"{LEEDS_DATA}/leeds_stats19_collisions_2019_2023_columns.csv",
                  "--preset", "stats19-decoded"),
    "weather": ("import", "weather", f"{LEEDS_DATA}/openmeteo_leeds_53.81N_1.56W_48m_2019-2024_hourly.csv.gz"),
    "train": ("train", "--until", "2022-07-01", "--promote"),
    "evaluate": ("evaluate", "--start", "2022-07-01T00:00Z", "--end", "2023-07-01T00:00Z",
                 "--out", "{root}/leeds-evaluation.json"),
}


def wxrisk_cli(env: dict[str, str], *args: str) -> str:
    """`wxrisk ARGS` as a subprocess from the repository; its stdout, or a failure showing stderr."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "wxrisk.cli", *args], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=1800, cwd=REPO)
    assert result.returncode == 0, f"wxrisk {' '.join(args)} failed:\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="session")
def leeds_region(tmp_path_factory):
    """Central Leeds roads, the 6,900 Leeds collisions 2019-2023 and the Open-Meteo point, imported,
    trained on the winters before 2022-07-01 and evaluated on 2022/23, once per session, with the
    commands of docs/own-region.md. Yields root, env, each step's stdout and the evaluation JSON."""
    import json

    root = tmp_path_factory.mktemp("leeds")
    env = {"WXRISK_TZ": "Europe/London", "WXRISK_DATA": str(root / "data"),
           "WXRISK_DB": str(root / "data" / "wxrisk.duckdb"), "WXRISK_MODELS": str(root / "models"),
           "WXRISK_BOARDS": str(root / "data" / "boards")}
    out = {step: wxrisk_cli(env, *(arg.format(root=root) for arg in args)) for step, args in LEEDS_COMMANDS.items()}
    report = json.loads((root / "leeds-evaluation.json").read_text(encoding="utf-8"))
    return {"root": root, "env": env, "out": out, "evaluation": report, "cli": wxrisk_cli}
