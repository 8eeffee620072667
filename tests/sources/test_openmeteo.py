"""Open-Meteo against a local server answering in the documented JSON shape (open-meteo.com/en/docs):
one object per location (a list when several coordinates are asked), `hourly_units`, `hourly` arrays."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta

import numpy as np
import pytest
import requests
import xarray as xr
from hypothesis import given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st
from werkzeug import Request, Response

from wxrisk.config import WxriskError
from wxrisk.sources import fetch_and_import, fetch_weather
from wxrisk.sources import openmeteo as om
from wxrisk.sources.http import NotPublishedError

from .conftest import READ_TIMEOUT_S

START = datetime(2026, 1, 25, 0)
NOW = datetime(2026, 1, 25, 1, 30)
BBOX = (115.0, 28.0, 116.0, 29.0)           # 5 x 5 points at 0.25°
WEATHER_CODES = [0, 56, 66, 71, 61, 85]     # by hour: none, fz drizzle, fz rain, snow, rain, snow showers
UNITS = {"time": "iso8601", "temperature_2m": "°C", "dew_point_2m": "°C", "soil_temperature_0cm": "°C",
         "precipitation": "mm", "rain": "mm", "snowfall": "cm", "weather_code": "wmo code",
         "wind_speed_10m": "m/s", "wind_direction_10m": "°", "visibility": "m"}


def temperature_c(lat: float, hour: int) -> float:
    return round(-2.0 + 0.1 * hour - (lat - 28.0), 2)


def location(lat: float, lon: float, times: list[str]) -> dict:
    hours = range(len(times))
    return {
        "latitude": lat + 0.01, "longitude": lon - 0.02, "generationtime_ms": 0.7, "utc_offset_seconds": 0,
        "timezone": "GMT", "timezone_abbreviation": "GMT", "elevation": 120.0, "hourly_units": UNITS,
        "hourly": {
            "time": times,
            "temperature_2m": [temperature_c(lat, h) for h in hours],
            "dew_point_2m": [temperature_c(lat, h) - 1.5 for h in hours],
            "soil_temperature_0cm": [temperature_c(lat, h) - 0.5 for h in hours],
            "precipitation": [0.4 for _ in hours],
            "rain": [0.0 for _ in hours],
            "snowfall": [0.28 for _ in hours],
            "weather_code": [WEATHER_CODES[h % len(WEATHER_CODES)] for h in hours],
            "wind_speed_10m": [5.0 for _ in hours],
            "wind_direction_10m": [90 for _ in hours],
            "visibility": [None if h == 1 else 2400.0 for h in hours],
        },
    }


def forecast_answer(request: Request) -> Response:
    """What the API answers: the hours asked, for each coordinate asked, in order."""
    args = request.args
    lats = [float(v) for v in args["latitude"].split(",")]
    lons = [float(v) for v in args["longitude"].split(",")]
    first = datetime.fromisoformat(args["start_hour"])
    last = datetime.fromisoformat(args["end_hour"])
    times = [(first + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M")
             for h in range(int((last - first).total_seconds() // 3600) + 1)]
    body = [location(lat, lon, times) for lat, lon in zip(lats, lons, strict=True)]
    return Response(json.dumps(body[0] if len(body) == 1 else body), content_type="application/json")


@pytest.fixture
def small_batches(settings):
    """URLs limited to 700 characters, so 25 points need several requests."""
    settings.extra["open_meteo_max_url_chars"] = 700
    return settings


def test_fetch_writes_cf_netcdf_on_the_grid_in_batches(httpserver, small_batches):
    httpserver.expect_request("/v1/forecast").respond_with_handler(forecast_answer)
    result = fetch_weather(small_batches, "open-meteo", START, 6, BBOX,
                           base_url=httpserver.url_for("/v1/forecast"), now=NOW)

    urls = [request.url for request, _ in httpserver.log]
    assert len(urls) > 1 and all(len(url) <= 700 for url in urls)
    assert result.issued_at == datetime(2026, 1, 25, 1) and not result.from_cache
    with xr.open_dataset(result.paths[0]) as ds:
        assert ds.sizes == {"time": 6, "latitude": 5, "longitude": 5}
        assert ds["t2m"].attrs["units"] == "K"
        # the point at 28.5 N, 115.25 E, hour 3: -2 + 0.3 - 0.5 = -2.2 °C
        assert float(ds["t2m"].sel(latitude=28.5, longitude=115.25).isel(time=3)) == pytest.approx(
            -2.2 + 273.15, abs=1e-3)
        # Open-Meteo docs: 7 cm of snow = 10 mm of water, so 0.28 cm -> 0.4 mm
        assert float(ds["sf"].isel(time=0, latitude=0, longitude=0)) == pytest.approx(0.4, abs=1e-5)
        assert ds["tp"].attrs["units"] == "mm"
        # WMO codes 0, 56, 66, 71, 61, 85 -> ECMWF ptype 0 none, 12 fz drizzle, 3 fz rain, 5 snow, 1 rain, 5
        assert ds["ptype"].isel(latitude=2, longitude=2).values.tolist() == [0, 12, 3, 5, 1, 5]
        # wind from the east (90°) at 5 m/s blows westwards: u = -5, v = 0 (meteorological convention)
        assert float(ds["u10"].isel(time=0, latitude=0, longitude=0)) == pytest.approx(-5.0, abs=1e-4)
        assert float(ds["v10"].isel(time=0, latitude=0, longitude=0)) == pytest.approx(0.0, abs=1e-4)
        assert np.isnan(ds["vis"].isel(time=1)).all() and float(ds["vis"].isel(time=0).min()) == 2400.0


def test_same_forecast_is_not_fetched_twice(httpserver, settings):
    httpserver.expect_request("/v1/forecast").respond_with_handler(forecast_answer)
    url = httpserver.url_for("/v1/forecast")
    first = fetch_weather(settings, "open-meteo", START, 3, BBOX, base_url=url, now=NOW)
    requests_made = len(httpserver.log)
    second = fetch_weather(settings, "open-meteo", START, 3, BBOX, base_url=url, now=NOW + timedelta(minutes=20))
    assert second.from_cache and second.paths == first.paths
    assert len(httpserver.log) == requests_made


def test_server_errors_are_retried_then_succeed(httpserver, settings):
    url = httpserver.url_for("/v1/forecast")
    httpserver.expect_ordered_request("/v1/forecast").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/v1/forecast").respond_with_data("oops", status=500)
    httpserver.expect_ordered_request("/v1/forecast").respond_with_handler(forecast_answer)
    result = fetch_weather(settings, "open-meteo", START, 2, (115.0, 28.0, 115.25, 28.25), base_url=url, now=NOW)
    assert len(httpserver.log) == 3 and result.paths[0].exists()


class SlowHandler:
    """Answers after `delay_s` for the first `slow_calls` requests; remembers when each one finished."""

    def __init__(self, delay_s: float, slow_calls: int):
        self.delay_s, self.slow_calls = delay_s, slow_calls
        self.started, self.finished = 0, 0
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.started += 1
            slow = self.started <= self.slow_calls
        if slow:
            time.sleep(self.delay_s)
        answer = forecast_answer(request)
        with self.lock:
            self.finished += 1
        return answer

    def wait_all_finished(self) -> None:
        """Let abandoned slow requests end, so they do not leak into the next test's server log."""
        deadline = time.monotonic() + 5
        while self.finished < self.started and time.monotonic() < deadline:
            time.sleep(0.02)


def test_a_timeout_is_retried(httpserver, settings):
    handler = SlowHandler(READ_TIMEOUT_S * 3, slow_calls=1)
    httpserver.expect_request("/v1/forecast").respond_with_handler(handler)
    result = fetch_weather(settings, "open-meteo", START, 2, (115.0, 28.0, 115.25, 28.25),
                           base_url=httpserver.url_for("/v1/forecast"), now=NOW)
    handler.wait_all_finished()
    assert handler.started == 2 and result.paths[0].exists()


def test_timeouts_to_the_end_give_one_clear_error(httpserver, settings, cache_files):
    handler = SlowHandler(READ_TIMEOUT_S * 2, slow_calls=99)
    httpserver.expect_request("/v1/forecast").respond_with_handler(handler)
    with pytest.raises(WxriskError, match=r"gave up after 3 attempts \(time-out"):
        fetch_weather(settings, "open-meteo", START, 2, (115.0, 28.0, 115.25, 28.25),
                      base_url=httpserver.url_for("/v1/forecast"), now=NOW)
    handler.wait_all_finished()
    assert handler.started == 3 and cache_files() == []


def test_truncated_body_is_rejected_and_nothing_is_kept(httpserver, settings, con, cache_files):
    def truncated(request: Request) -> Response:
        body = forecast_answer(request).get_data()
        return Response(iter([body[: len(body) // 2]]), headers={"Content-Length": str(len(body))},
                        content_type="application/json")

    httpserver.expect_request("/v1/forecast").respond_with_handler(truncated)
    with pytest.raises(WxriskError, match="gave up after 3 attempts"):
        fetch_and_import(con, settings, "open-meteo", START, 2, (115.0, 28.0, 115.5, 28.5),
                         base_url=httpserver.url_for("/v1/forecast"), now=NOW)
    assert len(httpserver.log) == 3
    assert cache_files() == []
    assert con.execute("SELECT count(*) FROM weather_hourly").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM import_ledger").fetchone()[0] == 0


def test_not_published_is_one_request_and_names_the_forecast_still_in_use(httpserver, settings, con):
    con.execute("INSERT INTO weather_hourly (segment_id, valid_time, kind, issued_at, t2m_c, source) "
                "VALUES ('s1', '2026-01-24 12:00', 'forecast', '2026-01-24 12:00', -1.0, 'earlier')")
    httpserver.expect_request("/v1/forecast").respond_with_data("Not Found", status=404)
    with pytest.raises(NotPublishedError) as caught:
        fetch_and_import(con, settings, "open-meteo", START, 2, (115.0, 28.0, 115.25, 28.25),
                         base_url=httpserver.url_for("/v1/forecast"), now=NOW)
    message = str(caught.value)
    assert "not published yet, or no longer kept (HTTP 404" in message and "\n" not in message
    assert "issued 2026-01-24T12:00Z (13 h old), stays in use" in message
    assert len(httpserver.log) == 1
    assert con.execute("SELECT count(*) FROM weather_hourly").fetchone()[0] == 1


def test_a_bad_request_is_not_retried(httpserver, settings):
    reason = {"error": True, "reason": "Parameter 'start_hour' is out of allowed range"}
    httpserver.expect_request("/v1/forecast").respond_with_json(reason, status=400)
    with pytest.raises(WxriskError, match="HTTP 400: .*out of allowed range"):
        fetch_weather(settings, "open-meteo", START, 2, (115.0, 28.0, 115.25, 28.25),
                      base_url=httpserver.url_for("/v1/forecast"), now=NOW)
    assert len(httpserver.log) == 1


def test_answer_with_wrong_hours_or_units_is_rejected():
    times = [START + timedelta(hours=h) for h in range(3)]
    good = location(28.0, 115.0, [t.strftime("%Y-%m-%dT%H:%M") for t in times])
    assert om.parse_forecast(json.dumps(good).encode(), 1, times, "t")["temperature_2m"].shape == (1, 3)
    fahrenheit = json.loads(json.dumps(good))
    fahrenheit["hourly_units"]["temperature_2m"] = "°F"
    with pytest.raises(WxriskError, match="temperature_2m in '°F'"):
        om.parse_forecast(json.dumps(fahrenheit).encode(), 1, times, "t")
    with pytest.raises(WxriskError, match="not the hours asked"):
        om.parse_forecast(json.dumps(good).encode(), 1, [t + timedelta(hours=1) for t in times], "t")
    with pytest.raises(WxriskError, match="2 locations in the answer, 1 asked"):
        om.parse_forecast(json.dumps([good, good]).encode(), 1, times, "t")


def test_locations_are_ordered_by_location_id():
    times = [START]
    stamps = [START.strftime("%Y-%m-%dT%H:%M")]
    north, south = location(29.0, 115.0, stamps), location(28.0, 115.0, stamps)
    north["location_id"], south["location_id"] = 1, 0
    values = om.parse_forecast(json.dumps([north, south]).encode(), 2, times, "t")
    assert values["temperature_2m"][:, 0].tolist() == [temperature_c(28.0, 0), temperature_c(29.0, 0)]


def test_batches_cover_every_point_once_within_the_url_limit():
    lats, lons = om.grid_axes((100.0, 20.0, 110.0, 30.0), 0.25)
    point_lats, point_lons = (a.ravel() for a in np.meshgrid(lats, lons, indexing="ij"))
    batches = om.batch_points(point_lats, point_lons, fixed_url_chars=400, max_url_chars=8000)
    covered = np.concatenate([np.arange(point_lats.size)[b] for b in batches])
    assert covered.tolist() == list(range(point_lats.size))
    for batch in batches:
        coordinates = ",".join(map(om.format_coordinate, point_lats[batch])) + ",".join(
            map(om.format_coordinate, point_lons[batch]))
        assert 400 + len(coordinates.replace(",", "%2C")) <= 8000


def test_grid_spacing_coarsens_then_refuses_a_too_large_box():
    assert om.choose_grid_step((115.0, 28.0, 120.0, 33.0)) == 0.25        # 21 x 21 = 441 points
    assert om.choose_grid_step((100.0, 20.0, 120.0, 40.0)) == 0.5         # 81 x 81 at 0.25° > 2500
    with pytest.raises(WxriskError, match="pass a smaller --bbox"):
        om.choose_grid_step((73.0, 18.0, 135.0, 54.0))


def test_unknown_weather_codes_give_no_ptype():
    codes = np.array([0.0, 57.0, 67.0, 77.0, 86.0, 95.0, 42.0, np.nan])
    assert np.array_equal(om.ptype_from_weather_code(codes),
                          [0, 12, 3, 5, 5, 1, np.nan, np.nan], equal_nan=True)


@settings_hypothesis(max_examples=25, deadline=None)
@given(west=st.floats(70, 130), south=st.floats(15, 50), width=st.floats(0.1, 6), height=st.floats(0.1, 6),
       max_url_chars=st.integers(1500, 9000))
def test_every_request_url_stays_within_the_limit(west, south, width, height, max_url_chars):
    bbox = (west, south, west + width, south + height)
    lats, lons = om.grid_axes(bbox, 0.25)
    point_lats, point_lons = (a.ravel() for a in np.meshgrid(lats, lons, indexing="ij"))
    params = om.request_params(START, 72)
    url = "https://api.open-meteo.com/v1/forecast"
    empty = requests.Request("GET", url, params={"latitude": "", "longitude": "", **params}).prepare().url
    batches = om.batch_points(point_lats, point_lons, len(empty), max_url_chars)
    assert sum(len(point_lats[b]) for b in batches) == point_lats.size
    for batch in batches:
        coordinates = {"latitude": ",".join(map(om.format_coordinate, point_lats[batch])),
                       "longitude": ",".join(map(om.format_coordinate, point_lons[batch]))}
        prepared = requests.Request("GET", url, params={**coordinates, **params}).prepare()
        assert len(prepared.url) <= max_url_chars
