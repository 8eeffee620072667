"""The weather importer on grids written here: NetCDF (scipy NETCDF3 and netCDF4), Zarr."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wxrisk.config import Settings, WxriskError
from wxrisk.features import WeatherSource, resolved_weather
from wxrisk.store import connect
from wxrisk.weather.importer import import_weather
from wxrisk.weather.sampling import clear_weights_cache, weights_cache_info

HOURS = pd.date_range("2024-02-01T00:00", periods=3, freq="h")
LAT = np.arange(30.0, 40.01, 0.5)
LON = np.arange(110.0, 120.01, 0.5)
SEGMENTS = {"g4-k1": (113.3, 34.7), "g4-k2": (113.35, 34.72), "g30-k1": (114.1, 36.2)}


def field(shape: tuple[int, ...], value: float) -> np.ndarray:
    return np.full(shape, value)


@pytest.fixture
def with_segments(db, add_segments):
    add_segments(db, SEGMENTS)
    return db


def count(con, table: str = "weather_hourly") -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@st.composite
def analytic_grids(draw):
    """A global grid (ascending or descending lat; 0..360 or -180..180 lon) of
    t = a + b*lon + c*lat + k*lat**2 [K] and points away from the 180° seam."""
    spacing = draw(st.sampled_from([1.0, 2.5, 5.0]))
    lat = np.arange(-90.0, 90.0 + spacing / 2, spacing)
    lon = np.arange(0.0, 360.0, spacing) if draw(st.booleans()) else np.arange(-180.0, 180.0, spacing)
    if draw(st.booleans()):
        lat = lat[::-1]
    coefficients = [draw(st.floats(-20, 20)), draw(st.floats(-0.2, 0.2)), draw(st.floats(-0.5, 0.5)),
                    draw(st.floats(-0.005, 0.005))]
    # Longitudes just west of Greenwich fall between a 0..360 grid's last and first columns.
    lons = st.one_of(st.floats(-170, 170), st.floats(-spacing, 0.0))
    points = draw(st.lists(st.tuples(lons, st.floats(-85, 85)), min_size=1, max_size=8))
    return spacing, lat, lon, coefficients, points


def analytic_t_c(lon_deg, lat_deg, coefficients) -> np.ndarray:
    """t [°C] = a + b*lon + c*lat + k*lat**2 with lon in -180..180 [degrees]."""
    a, b, c, k = coefficients
    lon_m180 = np.mod(np.asarray(lon_deg) + 180.0, 360.0) - 180.0
    return a + b * lon_m180 + c * np.asarray(lat_deg) + k * np.asarray(lat_deg) ** 2


@pytest.fixture(scope="module")
def reused_db(tmp_path_factory):
    """One database for all examples of the property test (emptied before each)."""
    con = connect(tmp_path_factory.mktemp("property") / "wx.duckdb")
    yield con
    con.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(grid=analytic_grids())
def test_analytic_field_round_trips_through_netcdf_within_interpolation_error(grid, make_grid, add_segments,
                                                                              reused_db):
    spacing, lat, lon, coefficients, points = grid
    lon2d, lat2d = np.meshgrid(lon, lat)
    kelvin = analytic_t_c(lon2d, lat2d, coefficients) + 273.15
    ds = make_grid({"t2m": (np.stack([kelvin] * 2), "K")}, lat, lon, HOURS[:2])
    for table in ("segments", "weather_hourly", "import_ledger"):
        reused_db.execute(f"DELETE FROM {table}")
    add_segments(reused_db, {f"p{i}": point for i, point in enumerate(points)})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "analytic.nc"
        ds.to_netcdf(path, engine="scipy")
        [result] = import_weather(reused_db, Settings(), path)
    stored = reused_db.execute("SELECT segment_id, t2m_c FROM weather_hourly ORDER BY valid_time, segment_id").df()
    assert len(stored) == 2 * len(points)
    assert result.details["segments_outside_grid"] == 0
    expected = {f"p{i}": analytic_t_c(lon_p, lat_p, coefficients) for i, (lon_p, lat_p) in enumerate(points)}
    # Bilinear interpolation is exact for the linear part; for k*lat**2 its error is at most
    # h**2/8 * |f''| = |k| * h**2 / 4 (linear interpolation error bound, e.g. Burden & Faires,
    # Numerical Analysis, Thm 3.3); plus float32 storage of values up to ~300 K.
    tolerance = abs(coefficients[3]) * spacing**2 / 4 + 1e-3
    for segment_id, value in zip(stored["segment_id"], stored["t2m_c"], strict=True):
        assert abs(value - expected[segment_id]) <= tolerance


def test_weights_are_computed_once_per_grid_and_network(with_segments, make_grid, tmp_path):
    shape = (HOURS.size, LAT.size, LON.size)
    first, second = tmp_path / "day1.nc", tmp_path / "day2.nc"
    make_grid({"t2m": (field(shape, 270.0), "K"), "d2m": (field(shape, 268.0), "K")}, LAT, LON, HOURS) \
        .to_netcdf(first)
    make_grid({"t2m": (field(shape, 271.0), "K")}, LAT, LON, HOURS + pd.Timedelta(hours=3)).to_netcdf(second)
    clear_weights_cache()
    import_weather(with_segments, Settings(), [first, second])
    info = weights_cache_info()
    assert (info.misses, info.hits) == (1, 2)  # t2m of day 1 builds, d2m and day 2 reuse


def test_units_are_converted_once(with_segments, make_grid, tmp_path):
    shape = (HOURS.size, LAT.size, LON.size)
    path = tmp_path / "mixed-units.nc"
    make_grid({
        "t2m": (field(shape, 263.15), "K"),              # -10 °C
        "d2m": (field(shape, 14.0), "degF"),             # -10 °C
        "tp": (field(shape, 0.0012), "m"),               # 1.2 mm in the hour
        "sf": (field(shape, 0.0004), "m"),               # 0.4 mm water equivalent
        "u10": (field(shape, 3.0), "m s**-1"),
        "v10": (field(shape, -4.0), "m s**-1"),          # speed 5 m/s
        "vis": (field(shape, 1.5), "km"),
    }, LAT, LON, HOURS).to_netcdf(path)
    [result] = import_weather(with_segments, Settings(), path)
    row = with_segments.execute(
        "SELECT DISTINCT t2m_c, d2m_c, precip_mm, snowfall_mm, wind_ms, vis_m FROM weather_hourly").fetchall()
    assert np.allclose(row, [(-10.0, -10.0, 1.2, 0.4, 5.0, 1500.0)], atol=1e-4)
    assert result.details["missing_variables"] == ["skt_c", "ptype"]
    assert result.details["variables"]["wind_ms"] == "u10+v10"


def test_ncep_categories_become_ecmwf_ptype_codes(with_segments, make_grid, tmp_path):
    shape = (HOURS.size, LAT.size, LON.size)
    crain, csnow, cfrzr = field(shape, 0.0), field(shape, 0.0), field(shape, 0.0)
    crain[0], csnow[1], cfrzr[2], crain[2] = 1, 1, 1, 1  # hour 0 rain, 1 snow, 2 freezing rain
    path = tmp_path / "gfs-categories.nc"
    make_grid({"crain": (crain, "1"), "csnow": (csnow, "1"), "cfrzr": (cfrzr, "1")}, LAT, LON, HOURS).to_netcdf(path)
    import_weather(with_segments, Settings(), path, kind="forecast", issued="2024-01-31T18:00Z")
    rows = with_segments.execute("SELECT DISTINCT valid_time, ptype FROM weather_hourly ORDER BY 1").fetchall()
    assert [code for _, code in rows] == [1, 5, 3]  # ECMWF ptype code table 4.201: rain 1, snow 5, fzra 3


def test_forecast_issue_time_from_attribute_and_replacement_of_the_window(with_segments, make_grid, tmp_path):
    shape = (HOURS.size, LAT.size, LON.size)
    old, new = tmp_path / "run-old.nc", tmp_path / "run-new.nc"
    attrs = {"issued_at": "2024-02-01T08:00:00+08:00"}
    make_grid({"t2m": (field(shape, 275.15), "K")}, LAT, LON, HOURS, attrs).to_netcdf(old)
    make_grid({"t2m": (field(shape, 276.15), "K")}, LAT, LON, HOURS, attrs).to_netcdf(new)
    [first] = import_weather(with_segments, Settings(), old, kind="forecast")
    [second] = import_weather(with_segments, Settings(), new, kind="forecast")
    assert (first.status, second.status) == ("imported", "replaced")
    rows = with_segments.execute("SELECT DISTINCT issued_at, t2m_c, import_id FROM weather_hourly").fetchall()
    assert [(issued.isoformat(), t2m, import_id) for issued, t2m, import_id in rows] == \
        [("2024-02-01T00:00:00", 3.0, second.import_id)]
    assert count(with_segments) == HOURS.size * len(SEGMENTS)


def test_forecast_without_issue_time_is_refused(with_segments, make_grid, tmp_path):
    path = tmp_path / "no-issue.nc"
    make_grid({"t2m": (field((3, LAT.size, LON.size), 275.0), "K")}, LAT, LON, HOURS).to_netcdf(path)
    with pytest.raises(WxriskError, match="without an issue time"):
        import_weather(with_segments, Settings(), path, kind="forecast")


def test_files_with_other_variables_for_the_same_hours_combine(with_segments, make_grid, tmp_path):
    shape = (HOURS.size, LAT.size, LON.size)
    t2m, tp = tmp_path / "era5-t2m.nc", tmp_path / "era5-tp.nc"
    make_grid({"t2m": (field(shape, 272.15), "K")}, LAT, LON, HOURS).to_netcdf(t2m)
    make_grid({"tp": (field(shape, 0.002), "m")}, LAT, LON, HOURS).to_netcdf(tp)
    import_weather(with_segments, Settings(), [t2m, tp])
    resolved = resolved_weather(with_segments, WeatherSource("analysis", None), list(SEGMENTS), HOURS[0], HOURS.size)
    assert np.allclose(resolved[["t2m_c", "precip_mm"]].drop_duplicates().to_numpy(), [(-1.0, 2.0)], atol=1e-4)
    assert len(resolved) == 9  # the weather the features (and the published board) use


def test_synthetic_grid_is_flagged(with_segments, make_grid, tmp_path):
    path = tmp_path / "demo.nc"
    make_grid({"t2m": (field((3, LAT.size, LON.size), 270.0), "K")}, LAT, LON, HOURS,
              {"synthetic": 1}).to_netcdf(path, engine="scipy")
    [result] = import_weather(with_segments, Settings(), path)
    assert result.details["synthetic"] is True


def test_zarr_store_is_read(with_segments, make_grid, tmp_path):
    pytest.importorskip("zarr")
    path = tmp_path / "grid.zarr"
    make_grid({"2t": (field((3, LAT.size, LON.size), 280.15), "K")}, LAT, LON, HOURS).to_zarr(path, zarr_format=2)
    [result] = import_weather(with_segments, Settings(), path)
    assert result.details["format"] == "zarr"
    assert with_segments.execute("SELECT DISTINCT t2m_c FROM weather_hourly").fetchall() == [(pytest.approx(7.0),)]


@pytest.mark.parametrize("engine", ["scipy", "netcdf4"])
def test_truncated_netcdf_fails_with_one_line_and_writes_nothing(with_segments, make_grid, tmp_path, engine):
    whole, truncated = tmp_path / "whole.nc", tmp_path / "truncated.nc"
    make_grid({"t2m": (field((3, LAT.size, LON.size), 270.0), "K")}, LAT, LON, HOURS).to_netcdf(whole, engine=engine)
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(WxriskError) as failure:
        import_weather(with_segments, Settings(), truncated)
    assert "\n" not in str(failure.value) and str(truncated) in str(failure.value)
    assert count(with_segments) == 0 and count(with_segments, "import_ledger") == 0


def test_grid_without_known_variables_is_refused(with_segments, make_grid, tmp_path):
    path = tmp_path / "other.nc"
    make_grid({"soil_moisture": (field((3, LAT.size, LON.size), 0.3), "1")}, LAT, LON, HOURS).to_netcdf(path)
    with pytest.raises(WxriskError, match=r"other\.nc: none of the known weather variables \(found soil_moisture\)"):
        import_weather(with_segments, Settings(), path)
    assert count(with_segments) == 0


def test_grid_covering_no_segment_is_refused(with_segments, make_grid, tmp_path):
    path = tmp_path / "elsewhere.nc"
    make_grid({"t2m": (field((3, 5, 5), 270.0), "K")}, np.arange(5.0), np.arange(5.0), HOURS).to_netcdf(path)
    with pytest.raises(WxriskError, match="covers none of the 3 segments"):
        import_weather(with_segments, Settings(), path)


def test_forecast_steps_with_accumulated_precipitation(with_segments, tmp_path):
    """An ECMWF-style forecast: scalar `time` (the run), a `step` axis, `tp` in m accumulated
    since the run start (stepType accum): stored per hour, issue time from `time`."""
    steps = pd.to_timedelta([0, 1, 2, 3, 6], unit="h")
    accumulated_m = np.array([0.0, 0.5, 1.5, 1.5, 4.5]) / 1000.0  # mm per hour: -, 0.5, 1.0, 0, 1.0
    shape = (steps.size, LAT.size, LON.size)
    ds = xr.Dataset(
        {"tp": (("step", "latitude", "longitude"), np.broadcast_to(accumulated_m[:, None, None], shape).copy(),
                {"units": "m", "GRIB_stepType": "accum"}),
         "t2m": (("step", "latitude", "longitude"), np.full(shape, 271.15), {"units": "K",
                                                                            "GRIB_stepType": "instant"})},
        coords={"time": pd.Timestamp("2024-02-01T00:00"), "step": steps, "latitude": LAT, "longitude": LON})
    path = tmp_path / "ecmwf-run.nc"
    ds.to_netcdf(path)
    [result] = import_weather(with_segments, Settings(), path, kind="forecast")
    assert result.details["issued_at"] == "2024-02-01T00:00:00"
    rows = with_segments.execute("SELECT DISTINCT hour(valid_time), precip_mm, t2m_c FROM weather_hourly ORDER BY 1").fetchall()
    assert [hour for hour, _, _ in rows] == [0, 1, 2, 3, 6]
    assert rows[0][1] is None
    np.testing.assert_allclose([precip for _, precip, _ in rows[1:]], [0.5, 1.0, 0.0, 1.0], atol=1e-4)
    np.testing.assert_allclose([t2m for _, _, t2m in rows], -2.0, atol=1e-4)


def test_short_name_beats_standard_name(with_segments, make_grid, tmp_path):
    shape = (HOURS.size, LAT.size, LON.size)
    ds = make_grid({"t850": (field(shape, 250.15), "K"), "t2m": (field(shape, 270.15), "K")}, LAT, LON, HOURS)
    for name in ("t850", "t2m"):
        ds[name].attrs["standard_name"] = "air_temperature"
    path = tmp_path / "levels.nc"
    ds.to_netcdf(path)
    [result] = import_weather(with_segments, Settings(), path)
    assert result.details["variables"]["t2m_c"] == "t2m"
    assert with_segments.execute("SELECT DISTINCT t2m_c FROM weather_hourly").fetchall() == [(pytest.approx(-3.0),)]
