"""The feature table: one row per segment and hour, float32 columns in FEATURE_NAMES order.

Weather is read from `weather_rows` (grids and stations) in blocks of segments x hours (plus
LOOKBACK_HOURS of earlier hours for accumulations), turned into (segments x hours) arrays and computed with
the pure functions of `physics`, `windows`, `calendar`, `exposure` and `history`.
"""

from __future__ import annotations

import datetime as dt
import itertools

import duckdb
import numpy as np
import pandas as pd

from wxrisk.config import Settings, WxriskError
from wxrisk.features import calendar, exposure, history, physics, windows
from wxrisk.features.catalog import ACCUMULATION_HOURS, FEATURE_NAMES
from wxrisk.weather.stations import daily_only_inputs

WEATHER_COLUMNS = ("t2m_c", "d2m_c", "skt_c", "precip_mm", "snowfall_mm", "ptype", "wind_ms", "vis_m")
LOOKBACK_HOURS = 48  # earlier hours read for accumulations and "hours since" [h]
CHUNK_HOURS = 720  # hours scored per block [h]
CELLS_PER_BLOCK = 4_000_000  # segment-hours per block, bounds the working memory
WEATHER_CELL_DEG = 0.25  # segments in one such box share a reference height [°]
SUNSET_ELEVATION_DEG = -0.833  # the sun's upper limb at the horizon, refraction included [°]
HOUR = dt.timedelta(hours=1)
_block_names = itertools.count()

SEGMENT_COLUMNS = ("bridge", "tunnel", "is_ramp", "grade_pct", "curvature_deg_per_km", "elevation_m",
                   "maxspeed_kmh", "lanes")


def build_features(con: duckdb.DuckDBPyConnection, start, end, weather_kind: str = "analysis",
                   issued_at=None, settings: Settings | None = None, history_from=None) -> pd.DataFrame:
    """Feature rows for every segment with weather rows and every hour in [start, end) (UTC naive).

    weather_kind "analysis" reads analysis rows; "forecast" reads the forecast issued at
    `issued_at` (default: the latest issued at or before `start`) and analysis rows up to the
    issue time for the hours before it. A row describes the hour ending at `valid_time` (as
    the weather accumulations and the model's label do); its history features count only
    incidents before that hour began. `history_from` is when the incident record starts
    (default: the earliest matched incident before the first hour). Returns `segment_id` (categorical),
    `valid_time`, then float32 columns in FEATURE_NAMES order; attrs `missing_inputs` (weather
    columns all NULL) and `unavailable_features` (columns all NaN).
    """
    settings = settings or Settings()
    start, end = _whole_hour(start, "start"), _whole_hour(end, "end")
    if end <= start:
        raise WxriskError(f"features: end {end} is not after start {start}")
    source = _WeatherSource.choose(con, weather_kind, issued_at, start)
    read_start = start - dt.timedelta(hours=LOOKBACK_HOURS)
    segs = _read_segments(con, source, read_start, end)
    hours = np.arange(np.datetime64(start, "h"), np.datetime64(end, "h")).astype("datetime64[us]")
    incidents = _read_incidents(con, start, end, history_from)
    out = {name: np.empty((len(segs), len(hours)), dtype=np.float32) for name in FEATURE_NAMES}
    seen = dict.fromkeys(WEATHER_COLUMNS, False)
    chunk_h = min(len(hours), CHUNK_HOURS)
    block_s = max(1, CELLS_PER_BLOCK // (chunk_h + LOOKBACK_HOURS))
    for h0 in range(0, len(hours), chunk_h):
        chunk_hours = hours[h0:h0 + chunk_h]
        cal = _calendar_block(chunk_hours, settings.timezone)
        for s0 in range(0, len(segs), block_s):
            block = segs.iloc[s0:s0 + block_s]
            weather = _read_weather(con, source, block, chunk_hours[0], len(chunk_hours))
            for col in WEATHER_COLUMNS:
                seen[col] = seen[col] or bool(np.isfinite(weather[col]).any())
            feats = _weather_features(weather, block, chunk_hours)
            feats |= _static_features(block, cal)
            feats |= _history_features(incidents, block, chunk_hours, start)
            for name in FEATURE_NAMES:
                out[name][s0:s0 + len(block), h0:h0 + len(chunk_hours)] = feats[name]
    missing = [c for c in WEATHER_COLUMNS if not seen[c]] + daily_only_inputs(con, read_start, end)
    return _frame(segs, hours, out, missing)


def _utc_naive(value) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def _whole_hour(value, what: str) -> dt.datetime:
    stamp = _utc_naive(value)
    if stamp != stamp.floor("h"):
        raise WxriskError(f"features: {what} {value} is not a whole hour")
    return stamp.to_pydatetime()


class _WeatherSource:
    """Which rows of weather_hourly to read: an SQL condition on `w` and its parameters."""

    def __init__(self, kind: str, issued_at: dt.datetime | None):
        self.kind, self.issued_at = kind, issued_at
        if kind == "analysis":
            self.where, self.params = "w.kind = 'analysis'", []
        else:
            self.where = ("((w.kind = 'forecast' AND w.issued_at = ?) "
                          "OR (w.kind = 'analysis' AND w.valid_time <= ?))")
            self.params = [issued_at, issued_at]

    @classmethod
    def choose(cls, con, kind: str, issued_at, start: dt.datetime) -> _WeatherSource:
        if kind not in ("analysis", "forecast"):
            raise WxriskError(f"features: weather_kind {kind!r} is not 'analysis' or 'forecast'")
        if kind == "analysis":
            return cls(kind, None)
        if issued_at is None:
            row = con.execute("SELECT max(issued_at) FROM weather_hourly WHERE kind = 'forecast' "
                              "AND issued_at <= ?", [start]).fetchone()
            if row[0] is None:
                raise WxriskError(f"weather_hourly: no forecast issued at or before {start}")
            return cls(kind, row[0])
        return cls(kind, _whole_hour(issued_at, "issued_at"))


def _read_segments(con, source: _WeatherSource, read_start, end) -> pd.DataFrame:
    """Segments with weather rows in the window, sorted by id, with their static attributes."""
    segs = con.execute(f"""
        SELECT s.segment_id, s.highway, s.lon, s.lat, s.aadt, {", ".join("s." + c for c in SEGMENT_COLUMNS)}
        FROM segments s
        WHERE s.segment_id IN (SELECT w.segment_id FROM weather_rows w
                               WHERE w.valid_time >= ? AND w.valid_time < ? AND {source.where})
        ORDER BY s.segment_id""", [read_start, end, *source.params]).df()
    if segs.empty:
        daily = daily_only_inputs(con, read_start, end)
        raise WxriskError(f"weather: no {source.kind} rows for known segments between {read_start} and {end}"
                          + (f"; only daily station values ({', '.join(daily)}), and hourly features "
                             "are not made up from days" if daily else ""))
    segs["elevation_excess_m"] = _elevation_excess_m(segs)
    return segs


def _elevation_excess_m(segs: pd.DataFrame) -> np.ndarray:
    """Height above the mean of the segments in the same WEATHER_CELL_DEG box [m] (0 if unknown)."""
    cell = (np.floor(segs["lat"] / WEATHER_CELL_DEG).astype("int64").astype(str) + "_"
            + np.floor(segs["lon"] / WEATHER_CELL_DEG).astype("int64").astype(str))
    elevation = segs["elevation_m"].astype("float64")
    return np.nan_to_num((elevation - elevation.groupby(cell).transform("mean")).to_numpy(), nan=0.0)


def _read_weather(con, source: _WeatherSource, block: pd.DataFrame, first_hour, n_hours: int) -> dict:
    """(segments, LOOKBACK_HOURS + n_hours) float32 arrays per weather column, NaN where missing."""
    t0 = pd.Timestamp(first_hour).to_pydatetime() - dt.timedelta(hours=LOOKBACK_HOURS)
    t1 = t0 + dt.timedelta(hours=LOOKBACK_HOURS + n_hours)
    name = f"wxrisk_feature_block_{next(_block_names)}"
    ids = pd.DataFrame({"segment_id": block["segment_id"].to_numpy(dtype=object),
                        "s": np.arange(len(block), dtype=np.int32)})
    values = ", ".join(f"coalesce(CAST(w.{c} AS REAL), 'NaN'::REAL) AS {c}" for c in WEATHER_COLUMNS)
    shape = (len(block), LOOKBACK_HOURS + n_hours)
    con.register(name, ids)
    try:
        rows = con.execute(f"""
            SELECT CAST(b.s AS BIGINT) * ? + date_diff('hour', ?, w.valid_time) AS cell, {values},
                   w.kind = 'forecast' AS is_forecast, coalesce(w.import_id, -1) AS import_id
            FROM weather_rows w JOIN {name} b ON b.segment_id = w.segment_id
            WHERE w.valid_time >= ? AND w.valid_time < ? AND {source.where}""",
                           [shape[1], t0, t0, t1, *source.params]).fetchnumpy()
    finally:
        con.unregister(name)
    arrays = {}
    for col in WEATHER_COLUMNS:
        present = np.flatnonzero(~np.isnan(rows[col]))
        keep = present[_preferred_rows(rows["cell"][present], rows["is_forecast"][present],
                                       rows["import_id"][present])]
        grid = np.full(shape, np.nan, dtype=np.float32)
        grid.reshape(-1)[rows["cell"][keep]] = rows[col][keep]
        arrays[col] = grid
    return arrays


def _preferred_rows(cell, is_forecast, import_id) -> np.ndarray | slice:
    """One row per cell: a forecast before an analysis, then the latest import (indices or all).

    Applied per column to the rows that carry a value, so files holding different variables
    for the same hours (ERA5 t2m and tp downloaded apart) combine instead of hiding each other.
    """
    if len(cell) == 0 or np.bincount(cell).max() <= 1:
        return slice(None)
    order = np.lexsort((import_id, is_forecast, cell))
    last_of_cell = np.append(cell[order][1:] != cell[order][:-1], True)
    return order[last_of_cell]


def _weather_features(w: dict, block: pd.DataFrame, chunk_hours) -> dict[str, np.ndarray]:
    """Weather-derived features for the block, trimmed to the scored hours.

    Only the precipitation sums and run lengths need the look-back hours; the phase is computed
    for wet hours only (dry hours are phase 0), the rest for the scored hours (plus the two
    hours before them that the 3 h rain-on-frozen-road sum needs).
    """
    lookback = LOOKBACK_HOURS
    elevation = block["elevation_m"].to_numpy(dtype=np.float32, na_value=np.nan)[:, None]
    bridge = block["bridge"].to_numpy(dtype=np.float32, na_value=0.0)[:, None]
    pressure = physics.standard_pressure_hpa(elevation).astype(np.float32)
    precip, t2m = w["precip_mm"], w["t2m_c"]

    wet = precip >= physics.WET_HOUR_MM
    cells = np.nonzero(wet)
    t2m_wet, d2m_wet = t2m[cells], w["d2m_c"][cells]
    rh_wet = physics.relative_humidity_pct(t2m_wet, d2m_wet)
    phase = np.where(np.isnan(precip), np.nan, physics.PHASE_NONE).astype(np.float32)
    wet_bulb_wet = physics.wet_bulb_c(t2m_wet, d2m_wet, np.broadcast_to(pressure, precip.shape)[cells])
    phase[cells] = physics.precipitation_phase(w["ptype"][cells], precip[cells], t2m_wet, wet_bulb_wet, rh_wet,
                                               np.broadcast_to(elevation, precip.shape)[cells])
    reported = np.full(precip.shape, np.nan, dtype=np.float32)
    reported[cells] = physics.phase_from_ptype(w["ptype"][cells])
    phase_idx = np.nan_to_num(phase, nan=0).astype(np.int64)
    snow = np.where(np.isfinite(w["snowfall_mm"]), w["snowfall_mm"],
                    np.where(np.isnan(phase), np.nan, precip * physics.SNOW_FRACTION[phase_idx]))
    fzra = np.where(precip < physics.WET_HOUR_MM, 0.0,
                    np.where(np.isnan(reported), np.nan, precip * (phase == physics.PHASE_FREEZING)))
    liquid = np.where(np.isnan(phase), np.nan, precip * (1.0 - physics.SNOW_FRACTION[phase_idx]))

    out = {}
    for prefix, hourly in (("precip", precip), ("snow", snow), ("fzra", fzra)):
        windowed = windows.rolling_sums(hourly, (*ACCUMULATION_HOURS, 9), from_hour=lookback)
        out |= {f"{prefix}_mm_{h}h": windowed[h] for h in windowed}
    since = windows.hours_since_true(wet, lookback)
    out["hours_since_precip_h"] = np.where(np.isnan(precip), np.nan, since)[:, lookback:]
    below = windows.run_length_h(t2m <= 0.0, lookback)
    out["hours_below_zero_h"] = np.where(np.isnan(t2m), np.nan, below)[:, lookback:]
    precip_9h, precip_3h = out.pop("precip_mm_9h"), out["precip_mm_3h"]
    event = (precip_3h >= physics.WET_HOUR_MM) & (precip_9h - precip_3h < physics.WET_HOUR_MM)
    out["precip_event_start"] = np.where(np.isnan(precip_9h), np.nan, event)
    out.pop("snow_mm_9h"), out.pop("fzra_mm_9h")

    near = slice(lookback - 2, None)  # the scored hours and the two before them
    mid_hour = np.timedelta64(30, "m")  # the sun at the middle of the hour ending at valid_time
    times = np.arange(chunk_hours[0] - np.timedelta64(2, "h"), chunk_hours[-1] + np.timedelta64(1, "h"),
                      np.timedelta64(1, "h")) - mid_hour
    sun = physics.solar_elevation_deg(times[None, :], block["lat"].to_numpy(dtype=np.float64)[:, None],
                                      block["lon"].to_numpy(dtype=np.float64)[:, None]).astype(np.float32)
    cloud = np.where(wet[:, near], 1.0, np.nan).astype(np.float32)
    road = physics.road_surface_temp_c(t2m[:, near], w["skt_c"][:, near], sun, w["wind_ms"][:, near], cloud,
                                       bridge, block["elevation_excess_m"].to_numpy(dtype=np.float32)[:, None])
    rain_on_frozen = np.where(np.isnan(road), np.nan, np.where(road <= 0.0, liquid[:, near], 0.0))
    out["rain_on_frozen_road_mm_3h"] = windows.rolling_sums(rain_on_frozen, (3,), from_hour=2)[3]

    scored = slice(lookback, None)
    t2m, d2m, wind, sun, road = t2m[:, scored], w["d2m_c"][:, scored], w["wind_ms"][:, scored], sun[:, 2:], road[:, 2:]
    rh = physics.relative_humidity_pct(t2m, d2m)
    out |= {"t2m_c": t2m, "d2m_c": d2m, "rh_pct": rh, "wet_bulb_c": physics.wet_bulb_c(t2m, d2m, pressure),
            "road_temp_c": road, "phase_code": phase[:, scored]}
    out["black_ice"] = physics.black_ice_flag(road, out["precip_mm_6h"], rh, d2m)
    out["wind_ms"] = wind
    out["bridge_wind_ms"] = wind * bridge
    out["vis_m"] = w["vis_m"][:, scored]
    out["solar_elev_deg"] = sun
    out["dark"] = (sun < SUNSET_ELEVATION_DEG).astype(np.float32)
    return out


def _calendar_block(chunk_hours, tz: str) -> dict[str, np.ndarray]:
    """Calendar and traffic profile of the hour each row describes, [valid_time - 1 h, valid_time)."""
    cal = calendar.calendar_columns(chunk_hours - np.timedelta64(1, "h"), tz)
    cal["travel_rush_factor"] = exposure.travel_rush_factor(cal["travel_rush_day"], cal["is_holiday"])
    cal["hour_share"] = exposure.hour_share(cal["hour_local"])
    return cal


def _static_features(block: pd.DataFrame, cal: dict) -> dict[str, np.ndarray]:
    """Calendar (per hour), exposure and geometry (per segment) broadcast to (segments, hours)."""
    feats = {name: cal[name][None, :] for name in (
        "hour_local", "dow_local", "days_to_spring_festival", "days_from_spring_festival", "travel_rush_day",
        "is_holiday", "days_to_holiday", "days_from_holiday", "travel_rush_factor")}
    aadt = exposure.segment_aadt(block["aadt"].to_numpy(dtype=np.float64, na_value=np.nan),
                                 block["highway"].to_numpy(dtype=object))
    feats["traffic_vph"] = exposure.traffic_vph(aadt[:, None], cal["travel_rush_factor"][None, :],
                                                cal["hour_share"][None, :])
    for col in SEGMENT_COLUMNS:
        feats[col] = block[col].to_numpy(dtype=np.float64, na_value=np.nan)[:, None]
    return feats


class _Incidents:
    """Matched incidents before `end`, as indices into all segments and hours from `start`."""

    def __init__(self, segment_index, time_h, segment_road, position_of_id, history_start_h):
        self.segment_index, self.time_h = segment_index, time_h
        self.segment_road, self.position_of_id = segment_road, position_of_id
        self.history_start_h = history_start_h


def iter_features(con: duckdb.DuckDBPyConnection, start, end, chunk_hours: int = CHUNK_HOURS, **kwargs):
    """build_features in consecutive windows of chunk_hours [h] (for training on long periods).

    Every window uses the same incident-record start, so the pieces equal one large call.
    """
    start, end = _whole_hour(start, "start"), _whole_hour(end, "end")
    history_from = kwargs.pop("history_from", None) or history_start(con, start - HOUR)
    step = dt.timedelta(hours=chunk_hours)
    window_start = start
    while window_start < end:
        window_end = min(window_start + step, end)
        yield build_features(con, window_start, window_end, history_from=history_from, **kwargs)
        window_start = window_end


def history_start(con: duckdb.DuckDBPyConnection, before) -> dt.datetime:
    """When the incident record starts: the earliest matched incident before `before`, else `before`."""
    row = con.execute("SELECT min(occurred_at) FROM incidents WHERE segment_id IS NOT NULL AND occurred_at < ?",
                      [before]).fetchone()
    return row[0] if row[0] is not None else before


def _read_incidents(con, start: dt.datetime, end: dt.datetime, history_from) -> _Incidents:
    all_segs = con.execute("SELECT segment_id, coalesce(road_ref, feature_id, segment_id) AS road_key "
                           "FROM segments ORDER BY segment_id").df()
    position_of_id = pd.Series(np.arange(len(all_segs)), index=all_segs["segment_id"].to_numpy(dtype=object))
    segment_road = pd.factorize(all_segs["road_key"].to_numpy(dtype=object))[0]
    record_start = _utc_naive(history_from).to_pydatetime() if history_from else history_start(con, start - HOUR)
    rows = con.execute("""
        SELECT i.segment_id, date_diff('second', ?, i.occurred_at) / 3600.0 AS time_h
        FROM incidents i JOIN segments s ON s.segment_id = i.segment_id
        WHERE i.occurred_at >= ? AND i.occurred_at < ?""", [start, record_start, end]).df()
    segment_index = position_of_id.reindex(rows["segment_id"].to_numpy(dtype=object)).to_numpy(dtype=np.int64)
    time_h = rows["time_h"].to_numpy(dtype=np.float64)
    history_start_h = (record_start - start) / dt.timedelta(hours=1)
    return _Incidents(segment_index, time_h, segment_road, position_of_id, history_start_h)


def _history_features(inc: _Incidents, block: pd.DataFrame, chunk_hours, start: dt.datetime) -> dict:
    """Rates from incidents before the hour a row describes: [valid_time - 1 h, valid_time)."""
    hour_start_h = (chunk_hours - np.datetime64(start, "us")) / np.timedelta64(1, "h") - 1.0
    target = inc.position_of_id.reindex(block["segment_id"].to_numpy(dtype=object)).to_numpy(dtype=np.int64)
    seg_rate, road_rate = history.history_rates_per_year(inc.segment_index, inc.time_h, inc.segment_road,
                                                         target, hour_start_h, inc.history_start_h)
    return {"hist_rate_per_year": seg_rate, "road_hist_rate_per_year": road_rate}


def _all_nan(values: np.ndarray) -> bool:
    """True when every value is NaN (a first finite value settles it without a full scan)."""
    return values.size == 0 or (bool(np.isnan(values.flat[0])) and bool(np.isnan(values).all()))


def _frame(segs: pd.DataFrame, hours: np.ndarray, out: dict, missing_inputs: list[str]) -> pd.DataFrame:
    n_seg, n_hours = len(segs), len(hours)
    ids = pd.Categorical.from_codes(np.repeat(np.arange(n_seg, dtype=np.int32), n_hours),
                                    categories=pd.Index(segs["segment_id"].to_numpy(dtype=object), dtype=object))
    columns = {"segment_id": ids, "valid_time": np.tile(hours, n_seg)}
    columns |= {name: out[name].reshape(-1) for name in FEATURE_NAMES}
    frame = pd.DataFrame(columns, copy=False)
    frame.attrs["missing_inputs"] = missing_inputs
    frame.attrs["unavailable_features"] = [name for name in FEATURE_NAMES if _all_nan(out[name])]
    return frame
