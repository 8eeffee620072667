"""Open-Meteo forecast API (no key): hourly point forecasts on a lat/lon grid, saved as a CF NetCDF.

The API takes many coordinates per request (comma-separated `latitude`/`longitude`) and answers
with one JSON object per location, in a list. We ask for a regular grid of points covering the
bounding box, in batches that keep each URL short, and convert units once, here:
temperatures to K, snowfall from cm of snow to mm of water, the WMO weather code to ECMWF ptype.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import requests
import xarray as xr

from wxrisk.config import Settings, WxriskError
from wxrisk.sources.common import BBox, FetchResult, check_bbox, snap_bbox, utc_hour
from wxrisk.sources.http import (
    HttpPolicy,
    cache_dir,
    cache_key,
    get_bytes,
    make_session,
    remove_parts,
)
from wxrisk.vocab import atomic_path, atomic_write_bytes
from wxrisk.weather.variables import SNOW_CM_PER_WATER_MM  # Open-Meteo: 7 cm snow = 10 mm water

SOURCE = "open-meteo"
FORECAST_URL = "https://api.open-meteo.com/v1/forecast"

# Open-Meteo hourly variable -> the unit it must come in (`hourly_units`), given REQUEST_OPTIONS.
HOURLY_VARIABLES: dict[str, str] = {
    "temperature_2m": "°C",
    "dew_point_2m": "°C",
    "soil_temperature_0cm": "°C",
    "precipitation": "mm",
    "rain": "mm",
    "snowfall": "cm",
    "weather_code": "wmo code",
    "wind_speed_10m": "m/s",
    "wind_direction_10m": "°",
    "visibility": "m",
}
REQUEST_OPTIONS = {"timezone": "GMT", "wind_speed_unit": "ms", "precipitation_unit": "mm",
                   "temperature_unit": "celsius", "timeformat": "iso8601"}

# Grid spacings tried, finest first [degrees]; the first that keeps the bbox under the point budget wins.
GRID_STEPS_DEG = (0.25, 0.5)
MAX_POINTS = 2500          # each location counts as an API call: 4 runs/day x 2500 = the free daily 10,000
MAX_URL_CHARS = 8000       # a conservative request-line limit for servers and proxies

# WMO weather interpretation codes (WW, as listed by Open-Meteo) -> ECMWF precipitation type.
PTYPE_NONE, PTYPE_RAIN, PTYPE_FREEZING_RAIN, PTYPE_SNOW, PTYPE_FREEZING_DRIZZLE = 0, 1, 3, 5, 12
WMO_CODE_TO_PTYPE: dict[int, int] = {
    **dict.fromkeys((0, 1, 2, 3, 45, 48), PTYPE_NONE),
    **dict.fromkeys((51, 53, 55, 61, 63, 65, 80, 81, 82, 95, 96, 99), PTYPE_RAIN),
    **dict.fromkeys((56, 57), PTYPE_FREEZING_DRIZZLE),
    **dict.fromkeys((66, 67), PTYPE_FREEZING_RAIN),
    **dict.fromkeys((71, 73, 75, 77, 85, 86), PTYPE_SNOW),
}


def choose_grid_step(bbox: BBox, max_points: int = MAX_POINTS) -> float:
    """The finest spacing in GRID_STEPS_DEG whose grid over `bbox` has at most `max_points` [degrees]."""
    for step_deg in GRID_STEPS_DEG:
        lats, lons = grid_axes(bbox, step_deg)
        if lats.size * lons.size <= max_points:
            return step_deg
    raise WxriskError(f"bbox {bbox}: {lats.size * lons.size} Open-Meteo points even at {step_deg}° "
                      f"(budget {max_points}); pass a smaller --bbox")


def grid_axes(bbox: BBox, step_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Ascending latitudes and longitudes [degrees] of the grid, spaced `step_deg`, covering `bbox`."""
    west, south, east, north = snap_bbox(bbox, step_deg)
    lats = np.round(np.arange(south, north + step_deg / 2, step_deg), 4)
    lons = np.round(np.arange(west, east + step_deg / 2, step_deg), 4)
    return lats, lons


def batch_points(lats: np.ndarray, lons: np.ndarray, fixed_url_chars: int,
                 max_url_chars: int = MAX_URL_CHARS) -> list[slice]:
    """Consecutive slices of the points whose coordinate lists keep each URL within `max_url_chars`.

    fixed_url_chars : length of the URL without any coordinate [characters]
    """
    encoded_comma = len("%2C")
    budget = max_url_chars - fixed_url_chars
    batches, first, used = [], 0, 0
    for index, (lat, lon) in enumerate(zip(lats, lons, strict=True)):
        cost = len(format_coordinate(lat)) + len(format_coordinate(lon)) + 2 * encoded_comma
        if cost > budget:
            raise WxriskError(f"Open-Meteo URL limit {max_url_chars} leaves no room for coordinates")
        if used + cost > budget:
            batches.append(slice(first, index))
            first, used = index, 0
        used += cost
    batches.append(slice(first, len(lats)))
    return batches


def format_coordinate(value: float) -> str:
    """A coordinate as sent to the API [degrees, 2 decimals]."""
    return f"{value:.2f}"


def request_params(start: datetime, hours: int) -> dict[str, str]:
    """Query parameters, without coordinates, for the `hours` hours from `start` (UTC)."""
    end = start + timedelta(hours=hours - 1)
    return {"hourly": ",".join(HOURLY_VARIABLES), "start_hour": start.strftime("%Y-%m-%dT%H:%M"),
            "end_hour": end.strftime("%Y-%m-%dT%H:%M"), **REQUEST_OPTIONS}


def get_forecast_batch(session: requests.Session, url: str, policy: HttpPolicy, params: dict[str, str],
                       lats: np.ndarray, lons: np.ndarray) -> bytes:
    """The raw JSON answer for one batch of points."""
    coordinates = {"latitude": ",".join(map(format_coordinate, lats)),
                   "longitude": ",".join(map(format_coordinate, lons))}
    what = f"Open-Meteo forecast for {len(lats)} points from {params['start_hour']}"
    return get_bytes(session, url, policy, what, params={**coordinates, **params})


def parse_forecast(body: bytes, n_points: int, times: list[datetime], what: str) -> dict[str, np.ndarray]:
    """Hourly values per variable, shape (points, hours), from one JSON answer (NaN where null).

    Checks: one object per point, UTC times exactly as asked, each variable in its expected unit.
    """
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise WxriskError(f"{what}: not JSON ({exc})") from exc
    locations = document if isinstance(document, list) else [document]
    if len(locations) != n_points:
        raise WxriskError(f"{what}: {len(locations)} locations in the answer, {n_points} asked")
    if all("location_id" in location for location in locations):
        locations = sorted(locations, key=lambda location: location["location_id"])
    expected_times = [t.strftime("%Y-%m-%dT%H:%M") for t in times]
    columns = [_parse_location(location, expected_times, f"{what}, location {i}")
               for i, location in enumerate(locations)]
    return {name: np.stack([column[name] for column in columns]) for name in HOURLY_VARIABLES}


def _parse_location(location: dict, expected_times: list[str], what: str) -> dict[str, np.ndarray]:
    hourly, units = location.get("hourly"), location.get("hourly_units", {})
    if not isinstance(hourly, dict) or location.get("utc_offset_seconds", 0) != 0:
        raise WxriskError(f"{what}: no 'hourly' block in UTC")
    if hourly.get("time") != expected_times:
        raise WxriskError(f"{what}: hourly times {(hourly.get('time') or [])[:2]}... are not the hours asked "
                          f"({expected_times[0]} to {expected_times[-1]})")
    values = {}
    for name, unit in HOURLY_VARIABLES.items():
        series = hourly.get(name)
        if series is None:
            values[name] = np.full(len(expected_times), np.nan)
            continue
        if units.get(name) != unit or len(series) != len(expected_times):
            raise WxriskError(f"{what}: variable {name} in {units.get(name)!r} with {len(series)} values; "
                              f"expected {unit!r} with {len(expected_times)}")
        try:
            values[name] = np.array([np.nan if v is None else v for v in series], dtype="float64")
        except (TypeError, ValueError) as exc:
            raise WxriskError(f"{what}: variable {name} has values that are not numbers ({exc})") from exc
    return values


def ptype_from_weather_code(weather_code: np.ndarray) -> np.ndarray:
    """ECMWF precipitation type codes from WMO weather codes (NaN where the code is missing or unknown)."""
    lookup = np.full(100, np.nan)
    for code, ptype in WMO_CODE_TO_PTYPE.items():
        lookup[code] = ptype
    valid = np.isfinite(weather_code) & (weather_code >= 0) & (weather_code < 100)
    ptype = np.full(weather_code.shape, np.nan)
    ptype[valid] = lookup[weather_code[valid].astype(int)]
    return ptype


def snowfall_water_mm(snowfall_cm: np.ndarray) -> np.ndarray:
    """Snowfall water equivalent [mm] from fresh snow depth [cm] (Open-Meteo's 7 cm = 10 mm)."""
    return snowfall_cm / SNOW_CM_PER_WATER_MM


def wind_components(speed_ms: np.ndarray, direction_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eastward and northward wind [m/s] from speed [m/s] and the direction it blows from [degrees]."""
    radians = np.deg2rad(direction_deg)
    return -speed_ms * np.sin(radians), -speed_ms * np.cos(radians)


def to_dataset(values: dict[str, np.ndarray], lats: np.ndarray, lons: np.ndarray, times: list[datetime],
               issued_at: datetime) -> xr.Dataset:
    """A CF dataset (time, latitude, longitude) from per-point values ordered latitude-major."""
    u10, v10 = wind_components(values["wind_speed_10m"], values["wind_direction_10m"])
    fields = {
        "t2m": (values["temperature_2m"] + 273.15, "K", "air_temperature", "2 m air temperature"),
        "d2m": (values["dew_point_2m"] + 273.15, "K", "dew_point_temperature", "2 m dew point"),
        "skt": (values["soil_temperature_0cm"] + 273.15, "K", "surface_temperature", "surface temperature"),
        "tp": (values["precipitation"], "mm", "precipitation_amount", "precipitation in the hour ending at time"),
        "rain": (values["rain"], "mm", "rainfall_amount", "rain in the hour ending at time"),
        "sf": (snowfall_water_mm(values["snowfall"]), "mm", "snowfall_amount",
               "snowfall water equivalent in the hour ending at time"),
        "ptype": (ptype_from_weather_code(values["weather_code"]), "1", None,
                  "precipitation type, ECMWF codes: 0 none 1 rain 3 freezing rain 5 snow 12 freezing drizzle"),
        "si10": (values["wind_speed_10m"], "m s-1", "wind_speed", "10 m wind speed"),
        "u10": (u10, "m s-1", "eastward_wind", "10 m eastward wind"),
        "v10": (v10, "m s-1", "northward_wind", "10 m northward wind"),
        "vis": (values["visibility"], "m", "visibility_in_air", "visibility"),
    }
    shape = (lats.size, lons.size, len(times))
    data_vars = {}
    for name, (array, unit, standard_name, long_name) in fields.items():
        if np.isnan(array).all():
            continue
        attrs = {"units": unit, "long_name": long_name}
        if standard_name:
            attrs["standard_name"] = standard_name
        grid = array.reshape(shape).transpose(2, 0, 1).astype("float32")
        data_vars[name] = (("time", "latitude", "longitude"), grid, attrs)
    coords = {
        "time": ("time", np.array(times, dtype="datetime64[ns]"), {"standard_name": "time"}),
        "latitude": ("latitude", lats, {"units": "degrees_north", "standard_name": "latitude"}),
        "longitude": ("longitude", lons, {"units": "degrees_east", "standard_name": "longitude"}),
    }
    attrs = {"Conventions": "CF-1.8", "source": "Open-Meteo forecast API (open-meteo.com, CC BY 4.0)",
             "wxrisk_source": SOURCE, "issued_at": issued_at.isoformat()}
    return xr.Dataset(data_vars, coords, attrs)


def fetch(settings: Settings, start: datetime, hours: int, bbox: BBox, base_url: str | None = None,
          now: datetime | None = None) -> FetchResult:
    """Fetch the `hours` hours from `start` over `bbox` into one cached CF NetCDF.

    Open-Meteo does not say which model run it served: the issue time is the fetch hour (UTC),
    so the same request within one hour is served from the cache.
    """
    start, issued_at = utc_hour(start), utc_hour(now or datetime.now().astimezone())
    bbox = check_bbox(bbox)
    step_deg = choose_grid_step(bbox, int(settings.extra.get("open_meteo_max_points", MAX_POINTS)))
    lats, lons = grid_axes(bbox, step_deg)
    key = cache_key(issued=issued_at, start=start, hours=hours, bbox=snap_bbox(bbox, step_deg),
                    step=step_deg, variables=list(HOURLY_VARIABLES), options=REQUEST_OPTIONS)
    folder = cache_dir(settings, SOURCE)
    target = folder / f"{issued_at:%Y%m%dT%H}Z_{start:%Y%m%dT%H}Z_{hours}h_{key}.nc"
    if target.exists():
        return FetchResult([target], issued_at, SOURCE, from_cache=True)
    times = [start + timedelta(hours=h) for h in range(hours)]
    point_lats, point_lons = (a.ravel() for a in np.meshgrid(lats, lons, indexing="ij"))
    values = _fetch_points(settings, base_url or FORECAST_URL, start, hours, times, point_lats,
                           point_lons, folder / f"parts-{key}")
    dataset = to_dataset(values, lats, lons, times, issued_at)
    with atomic_path(target) as tmp:
        dataset.to_netcdf(tmp, engine="netcdf4", encoding=_encoding(dataset))
    remove_parts(folder / f"parts-{key}")
    return FetchResult([target], issued_at, SOURCE, from_cache=False)


def _fetch_points(settings, url, start, hours, times, point_lats, point_lons, parts: Path) -> dict:
    """Values per variable for all points, fetching batch by batch (finished batches kept in `parts`)."""
    policy = HttpPolicy.from_settings(settings)
    params = request_params(start, hours)
    empty = requests.Request("GET", url, params={"latitude": "", "longitude": "", **params}).prepare()
    max_url_chars = int(settings.extra.get("open_meteo_max_url_chars", MAX_URL_CHARS))
    batches = batch_points(point_lats, point_lons, len(empty.url), max_url_chars)
    session = make_session()
    collected = []
    for number, batch in enumerate(batches, start=1):
        part = parts / f"batch-{number:04d}-of-{len(batches):04d}.json"
        what = f"Open-Meteo batch {number}/{len(batches)} ({url})"
        cached = part.exists()
        body = part.read_bytes() if cached else get_forecast_batch(
            session, url, policy, params, point_lats[batch], point_lons[batch])
        collected.append(parse_forecast(body, len(point_lats[batch]), times, what))
        if not cached:
            atomic_write_bytes(part, body)
    return {name: np.concatenate([c[name] for c in collected]) for name in HOURLY_VARIABLES}


def _encoding(dataset: xr.Dataset) -> dict:
    encoding = {name: {"zlib": True, "complevel": 4, "_FillValue": np.float32(np.nan)}
                for name in dataset.data_vars}
    encoding["time"] = {"units": "hours since 1970-01-01 00:00:00", "calendar": "standard", "dtype": "int64"}
    return encoding

