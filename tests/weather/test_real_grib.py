"""The weather importer on the real GRIB files of `tests/data/real` (see NOTICE-weather.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from wxrisk.config import Settings, WxriskError
from wxrisk.store import connect
from wxrisk.weather.importer import import_weather

REAL_DATA = Path(__file__).resolve().parents[1] / "data" / "real"
ERA5 = REAL_DATA / "era5-2mt-2019-03-uk.grib"
GFS = REAL_DATA / "cfrzr_and_cprat.grib"
# Segments around Leeds (lon -1.6..-1.5, lat 53.78..53.82) and one far outside the ERA5 grid.
LEEDS = {"leeds-a": (-1.60, 53.78), "leeds-b": (-1.55, 53.80), "leeds-c": (-1.50, 53.82),
         "leeds-d": (-1.5, 53.75), "far-away": (116.4, 39.9)}


@pytest.fixture(scope="module")
def era5_db(tmp_path_factory, add_segments):
    con = connect(tmp_path_factory.mktemp("era5") / "wx.duckdb")
    add_segments(con, LEEDS)
    result = import_weather(con, Settings(), [ERA5])
    yield con, result
    con.close()


def era5_t2m_c(points: list[tuple[float, float]]) -> np.ndarray:
    """Expected 2 m temperature [°C] (hours, points): xarray's own linear interpolation of the
    file's Kelvin field (GRIB units `K`) minus 273.15 (0 °C = 273.15 K, SI Brochure 9th ed. 2.3.1)."""
    lon, lat = (xr.DataArray(list(axis), dims="point") for axis in zip(*points, strict=True))
    with xr.open_dataset(ERA5, engine="cfgrib", backend_kwargs={"indexpath": ""}) as ds:
        kelvin = ds["t2m"].interp(latitude=lat, longitude=lon).transpose("time", "point").values
    return kelvin - 273.15


def test_era5_gives_t2m_celsius_for_every_hour_of_march_2019(era5_db):
    con, _ = era5_db
    rows = con.execute(
        "SELECT segment_id, count(*), count(DISTINCT valid_time), min(valid_time), max(valid_time), "
        "count(t2m_c), count(precip_mm) FROM weather_hourly WHERE segment_id LIKE 'leeds%' "
        "GROUP BY segment_id ORDER BY segment_id").fetchall()
    assert len(rows) == 4
    for _, n, hours, first, last, with_t2m, with_precip in rows:
        assert (n, hours, with_t2m, with_precip) == (744, 744, 744, 0)
        assert (first.isoformat(), last.isoformat()) == ("2019-03-01T00:00:00", "2019-03-31T23:00:00")
    checked = ["leeds-a", "leeds-b", "leeds-d"]
    stored = np.stack([
        con.execute("SELECT t2m_c FROM weather_hourly WHERE segment_id = ? ORDER BY valid_time",
                    [segment_id]).fetchnumpy()["t2m_c"] for segment_id in checked], axis=1)
    np.testing.assert_allclose(stored, era5_t2m_c([LEEDS[s] for s in checked]), atol=1e-3)
    assert -5.0 < stored.min() < stored.max() < 20.0  # a UK March; exact values checked above


def test_era5_reports_missing_precipitation_and_the_segment_outside(era5_db):
    con, [result] = era5_db
    assert result.status == "imported"
    assert result.details["variables"] == {"t2m_c": "t2m"}
    assert "precip_mm" in result.details["missing_variables"]
    assert result.details["segments_outside_grid"] == 1
    assert result.details["synthetic"] is False
    far = con.execute("SELECT count(*), count(t2m_c) FROM weather_hourly WHERE segment_id = 'far-away'").fetchone()
    assert far == (744, 0)
    assert result.rows_kept == 744 * len(LEEDS)


def test_era5_reimport_is_unchanged(era5_db):
    con, [first] = era5_db
    before = con.execute("SELECT count(*), sum(t2m_c) FROM weather_hourly").fetchone()
    [again] = import_weather(con, Settings(), ERA5)
    assert again.status == "unchanged"
    assert again.import_id == first.import_id
    assert con.execute("SELECT count(*), sum(t2m_c) FROM weather_hourly").fetchone() == before
    assert con.execute("SELECT count(*) FROM import_ledger").fetchone()[0] == 1


def test_gfs_freezing_rain_category_is_read_into_ptype(db, add_segments):
    # Cells of the file's instant cfrzr = 1 / avg cfrzr = 1 only, found by reading it with cfgrib:
    # (lat 72, lon 352 = -8) is freezing rain in both; (lat 64, lon 276 = -84) only in the 0-5 h
    # average, so the instant field (preferred for categories) says no freezing rain there.
    add_segments(db, {"fzra": (-8.0, 72.0), "fzra-near": (-7.2, 71.4), "avg-only": (-84.0, 64.0),
                         "dry": (-1.55, 53.8)})
    [result] = import_weather(db, Settings(), GFS, kind="forecast")
    assert result.details["variables"] == {"ptype": "cfrzr"}
    assert result.details["issued_at"] == "2023-05-10T18:00:00"
    rows = dict(db.execute("SELECT segment_id, ptype FROM weather_hourly").fetchall())
    assert rows == {"fzra": 3, "fzra-near": 3, "avg-only": 0, "dry": 0}
    valid, issued = db.execute("SELECT DISTINCT valid_time, issued_at FROM weather_hourly").fetchone()
    assert (valid.isoformat(), issued.isoformat()) == ("2023-05-10T23:00:00", "2023-05-10T18:00:00")


def test_gfs_issue_time_contradicting_the_file_is_refused(db, add_segments):
    add_segments(db, {"dry": (-1.55, 53.8)})
    with pytest.raises(WxriskError, match="file says 2023-05-10T18:00"):
        import_weather(db, Settings(), GFS, kind="forecast", issued="2023-05-11T00:00Z")
    assert db.execute("SELECT count(*) FROM weather_hourly").fetchone()[0] == 0


def test_truncated_grib_fails_with_one_line_and_writes_nothing(db, tmp_path, add_segments):
    add_segments(db, {"leeds-b": LEEDS["leeds-b"]})
    truncated = tmp_path / "era5-truncated.grib"
    truncated.write_bytes(ERA5.read_bytes()[:1_500_000])
    with pytest.raises(WxriskError) as failure:
        import_weather(db, Settings(), truncated)
    message = str(failure.value)
    assert "\n" not in message and str(truncated) in message
    assert db.execute("SELECT count(*) FROM weather_hourly").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM import_ledger").fetchone()[0] == 0


def test_grib_found_by_magic_bytes_without_suffix(db, tmp_path, add_segments):
    add_segments(db, {"dry": (-1.55, 53.8)})
    renamed = tmp_path / "gfs-download"
    shutil.copy(GFS, renamed)
    [result] = import_weather(db, Settings(), renamed, kind="forecast")
    assert result.details["format"] == "grib"
    assert db.execute("SELECT ptype FROM weather_hourly").fetchall() == [(0,)]
