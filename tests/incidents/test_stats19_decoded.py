"""The `stats19-decoded` preset on the real Leeds 2019-2023 collisions (decoded DfT labels)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from wxrisk.config import Settings
from wxrisk.incidents.importer import import_incidents
from wxrisk.store import connect

CLIP = Path(__file__).resolve().parents[1] / "data" / "real" / "leeds-stats19-decoded-clip.csv"
FULL = Path(os.environ.get("WXRISK_REAL_DATA", "/work/shared/data/real")) / "leeds-2019-2023" / \
    "leeds_stats19_collisions_2019_2023.csv"
SETTINGS = Settings()  # Asia/Shanghai: the preset must bring its own Europe/London
# The DfT data guide's labels, decoded by hand here (independently of the preset's YAML)
SURFACE = {"Dry": "dry", "Wet or damp": "wet", "Snow": "snow", "Frost or ice": "ice", "Flood over 3cm. deep": "flood"}
WEATHER = {"Fine no high winds": "clear", "Raining no high winds": "rain", "Snowing no high winds": "snow",
           "Fine + high winds": "wind", "Raining + high winds": "rain", "Snowing + high winds": "snow",
           "Fog or mist": "fog", "Other": "other", "Unknown": None}


def imported(path: Path, tmp_path: Path):
    con = connect(tmp_path / "x.duckdb")
    return con, import_incidents(con, SETTINGS, path, preset="stats19-decoded")


def expected_counts(path: Path, column: str, labels: dict) -> dict:
    """Canonical value -> rows, counted from the file with pandas."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    counts = frame[column].map(labels).value_counts(dropna=False)
    return {(None if pd.isna(k) else k): int(v) for k, v in counts.items()}


def stored_counts(con, column: str) -> dict:
    return dict(con.execute(f"SELECT {column}, count(*) FROM incidents GROUP BY 1").fetchall())


def check_exact(path: Path, tmp_path: Path) -> None:
    con, result = imported(path, tmp_path)
    rows = len(pd.read_csv(path, dtype=str))
    assert (result.rows_read, result.rows_kept, result.rows_quarantined) == (rows, rows, 0)
    assert result.details["invalid_values"] == {}
    assert stored_counts(con, "surface") == expected_counts(path, "road_surface_conditions", SURFACE)
    assert stored_counts(con, "weather") == expected_counts(path, "weather_conditions", WEATHER)
    severity = {"Fatal": "fatal", "Serious": "serious", "Slight": "slight"}
    assert stored_counts(con, "severity") == expected_counts(path, "accident_severity", severity)


def test_the_clip_imports_exactly(tmp_path):
    check_exact(CLIP, tmp_path)


@pytest.mark.skipif(not FULL.is_file(), reason=f"the full Leeds 2019-2023 file is not at {FULL} (WXRISK_REAL_DATA)")
def test_all_6900_collisions_import_exactly(tmp_path):
    check_exact(FULL, tmp_path)
    con = connect(tmp_path / "x.duckdb", read_only=True)
    # NOTICE.md: Frost or ice 70, Snow 21, Wet or damp 1,869, Dry 4,932, Flood 8
    assert stored_counts(con, "surface") == {"ice": 70, "snow": 21, "wet": 1869, "dry": 4932, "flood": 8}


def test_uk_clock_time_becomes_utc_and_positions_are_in_leeds(tmp_path):
    con, _ = imported(CLIP, tmp_path)
    # 2019-01-17 16:08 GMT = 16:08 UTC; 2019-06-21 11:49 BST (UTC+1) = 10:49 UTC (rows of the clip)
    times = dict(con.execute("SELECT incident_id, occurred_at FROM incidents "
                             "WHERE incident_id IN ('20191361H1015', '20191366L0697')").fetchall())
    assert times == {"20191361H1015": datetime(2019, 1, 17, 16, 8), "20191366L0697": datetime(2019, 6, 21, 10, 49)}
    # Leeds metropolitan district: about 53.70-53.95°N, 1.80-1.29°W
    lat_min, lat_max, lon_min, lon_max = con.execute(
        "SELECT min(lat), max(lat), min(lon), max(lon) FROM incidents").fetchone()
    assert lat_min > 53.69 and lat_max < 53.96 and lon_min > -1.81 and lon_max < -1.28
