"""`wxrisk demo --world guizhou`: the second world end to end through the command line and the real flows."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from wxrisk.store import connect

pytestmark = pytest.mark.slow


def _environment(tmp_path) -> dict[str, str]:
    """The caller's environment without wxrisk locations (so the world picks its own), Prefect kept local."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WXRISK_", "PREFECT_"))}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    return env


def test_an_unknown_world_is_one_line_and_touches_nothing(tmp_path):
    result = subprocess.run([sys.executable, "-m", "wxrisk.cli", "demo", "--world", "qinling", "--size", "tiny"],
                            capture_output=True, text=True, cwd=tmp_path, env=_environment(tmp_path), timeout=120)
    assert result.returncode != 0
    assert "scenario world 'qinling'" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists()


def test_the_guizhou_world_runs_end_to_end_in_its_own_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "wxrisk.cli", "demo", "--world", "guizhou", "--size", "tiny"],
                            capture_output=True, text=True, cwd=tmp_path, env=_environment(tmp_path), timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "SYNTHETIC guizhou world" in result.stderr
    data = tmp_path / "data" / "guizhou"
    assert (data / "demo" / "truth.parquet").is_file() and (data / "models").is_dir()
    with connect(data / "wxrisk.duckdb", read_only=True) as con:
        refs = {r for (r,) in con.execute("SELECT DISTINCT road_ref FROM segments").fetchall()}
        status, synthetic = con.execute("SELECT status, synthetic FROM runs ORDER BY created_at DESC LIMIT 1").fetchone()
        provinces = {p for (p,) in con.execute("SELECT DISTINCT province FROM segments").fetchall()}
    assert refs == {"G75"} and provinces == {"贵州"}
    assert (status, synthetic) == ("complete", True)
    assert not (tmp_path / "data" / "wxrisk.duckdb").exists()       # the demo's database is left alone
