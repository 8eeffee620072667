"""The command line: bad input ends with one line naming what is wrong, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys


def _cli(*args: str, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "WXRISK_DATA": str(tmp_path), "WXRISK_DB": str(tmp_path / "w.duckdb")}
    return subprocess.run([sys.executable, "-m", "wxrisk.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_a_malformed_bbox_is_one_line_and_fetches_nothing(tmp_path):
    result = _cli("fetch", "weather", "--source", "gfs", "--start", "2026-01-25T00:00Z", "--bbox", "10,20,5,30",
                  tmp_path=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "wxrisk: bbox (10.0, 20.0, 5.0, 30.0): need -180 <= W < E <= 360 and -90 <= S < N <= 90 [degrees]"]
    assert not (tmp_path / "cache").exists()


def test_a_missing_file_is_one_line_naming_it(tmp_path):
    result = _cli("import", "incidents", str(tmp_path / "nowhere.csv"), tmp_path=tmp_path)
    assert result.returncode == 1 and "nowhere.csv" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
