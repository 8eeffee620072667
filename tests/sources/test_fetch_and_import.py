"""Fetched forecasts go through the weather importer into `weather_hourly` (real DuckDB, real importer)."""

from __future__ import annotations

from datetime import datetime

import pytest

from wxrisk.config import WxriskError
from wxrisk.sources import default_bbox, fetch_and_import, last_good_forecast

from .conftest import REAL_DATA
from .test_openmeteo import NOW, START, forecast_answer, temperature_c

SEGMENTS = [("s-a", 115.25, 28.5), ("s-b", 115.5, 28.75)]   # midpoints on grid points [degrees]


@pytest.fixture
def segments(con):
    con.executemany(
        "INSERT INTO segments (segment_id, source, km_from, km_to, length_km, lon, lat, path_json) "
        "VALUES (?, 'test-roads', 0, 1, 1, ?, ?, '[]')", SEGMENTS)
    return con


def test_open_meteo_forecast_imports_onto_the_segments(httpserver, settings, segments):
    httpserver.expect_request("/v1/forecast").respond_with_handler(forecast_answer)
    result, imports = fetch_and_import(segments, settings, "open-meteo", START, 6,
                                       base_url=httpserver.url_for("/v1/forecast"), now=NOW)

    assert [i.status for i in imports] == ["imported"] and imports[0].rows_kept == 2 * 6
    rows = segments.execute(
        "SELECT t2m_c, d2m_c, precip_mm, snowfall_mm, ptype, wind_ms, kind, issued_at FROM weather_hourly "
        "WHERE segment_id = 's-a' ORDER BY valid_time").fetchall()
    assert len(rows) == 6
    t2m_c, d2m_c, precip_mm, snowfall_mm, _, wind_ms, kind, issued_at = rows[3]
    # the fake service's values at 28.5 N, hour 3 (see test_openmeteo.location); 0.28 cm snow = 0.4 mm
    assert t2m_c == pytest.approx(temperature_c(28.5, 3), abs=1e-3)
    assert d2m_c == pytest.approx(temperature_c(28.5, 3) - 1.5, abs=1e-3)
    assert snowfall_mm == pytest.approx(0.4, abs=1e-4) and wind_ms == pytest.approx(5.0, abs=1e-4)
    assert precip_mm == pytest.approx(0.4, abs=1e-4)
    assert [row[4] for row in rows] == [0, 12, 3, 5, 1, 5]
    assert kind == "forecast" and issued_at == result.issued_at == datetime(2026, 1, 25, 1)
    assert last_good_forecast(segments)[0] == datetime(2026, 1, 25, 1)


def test_bbox_defaults_to_the_segments_plus_a_margin(segments):
    assert default_bbox(segments) == (114.75, 28.0, 116.0, 29.25)


def test_no_segments_and_no_bbox_is_a_clear_error(con, settings):
    with pytest.raises(WxriskError, match="needs a bounding box"):
        fetch_and_import(con, settings, "gfs", START, 3, now=NOW)


def test_a_download_of_the_wrong_run_is_refused_and_dropped_from_the_cache(httpserver, settings, segments,
                                                                         cache_files):
    # The real NCEP file was issued 2023-05-10T18Z (its GRIB dataDate/dataTime); we ask for 2026-01-25T06Z.
    grib = (REAL_DATA / "cfrzr_and_cprat.grib").read_bytes()
    httpserver.expect_request("/cgi-bin/filter_gfs_0p25_1hr.pl").respond_with_data(grib)
    with pytest.raises(WxriskError, match="2023-05-10T18:00.*no earlier forecast in the database"):
        fetch_and_import(segments, settings, "gfs", datetime(2026, 1, 25, 7), 2,
                         base_url=httpserver.url_for("/cgi-bin/filter_gfs_0p25_1hr.pl"),
                         now=datetime(2026, 1, 25, 12))
    assert cache_files() == []
    assert segments.execute("SELECT count(*) FROM weather_hourly").fetchone()[0] == 0
