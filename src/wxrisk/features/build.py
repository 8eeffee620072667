"""The feature table: one row per segment and hour, float32 columns in FEATURE_NAMES order.

Weather comes from `weather_rows` (grids, and station series through the nearest-station map) by
one rule (`WeatherSource` chooses the rows, `_preferred_rows` picks one per cell and variable): a board scored on a forecast reads that run's forecast first
and, for a variable or hour the forecast lacks, the analysis valid at or before the issue time;
among rows of the same kind the newest import wins. The same rule gives the features, the
weather a published board shows (`resolved_weather`) and the coverage of each hour.

A run's `FeatureWindow` (its segments, hours, incidents and weather source) is read once; the
features are then computed a tile of segments at a time (`tile_features`), each tile holding
its segments' whole time series, so a national board never holds the whole table at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import sys
import threading
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from wxrisk.config import Settings, WxriskError
from wxrisk.features import calendar, exposure, history, physics, windows
from wxrisk.features.catalog import ACCUMULATION_HOURS, FEATURE_NAMES
from wxrisk.vocab import frame_registered, utc_naive_stamp
from wxrisk.weather.stations import daily_only_inputs

WEATHER_COLUMNS = ("t2m_c", "d2m_c", "skt_c", "precip_mm", "snowfall_mm", "ptype", "wind_ms", "vis_m")
CORE_WEATHER = ("t2m_c", "precip_mm")  # an hour is covered when each of these the run has is there
LOOKBACK_HOURS = 48  # earlier hours read for accumulations and "hours since" [h]
CHUNK_HOURS = 720  # hours computed per block [h]
CELLS_PER_BLOCK = 4_000_000  # segment-hours (look-back included) read at once, bounds the working memory
COMPUTE_CELLS = 262_144  # segment-hours computed at once: temporaries that stay in the cache and the heap
WEATHER_CELL_DEG = 0.25  # segments in one such box share a reference height [°]
SUNSET_ELEVATION_DEG = -0.833  # the sun's upper limb at the horizon, refraction included [°]
HOUR = dt.timedelta(hours=1)
_block_names = itertools.count()

SEGMENT_COLUMNS = ("bridge", "tunnel", "is_ramp", "grade_pct", "curvature_deg_per_km", "elevation_m",
                   "maxspeed_kmh", "lanes")


@dataclass(frozen=True)
class FeatureTable:
    """Feature rows with what they lack.

    frame          : `segment_id` (categorical), `valid_time` [UTC], float32 columns in FEATURE_NAMES order
    missing_inputs : weather variables with no value in the window (e.g. `vis_m`)
    unavailable    : feature columns that are NaN on every row
    covered        : per row, True when the hour has every core weather input the run has
                     (`CORE_WEATHER`); hours without them must not be scored as if they had weather
    block          : the feature columns as one (FEATURE_NAMES, rows) float32 array; the frame's
                     columns are views of it
    """

    frame: pd.DataFrame
    missing_inputs: tuple[str, ...]
    unavailable: tuple[str, ...]
    covered: np.ndarray
    block: np.ndarray

    def __len__(self) -> int:
        return len(self.frame)

    def covered_only(self) -> FeatureTable:
        """The rows with weather (this table itself when every row has it)."""
        if self.covered.all():
            return self
        keep = self.covered
        return FeatureTable(self.frame[keep].reset_index(drop=True), self.missing_inputs, self.unavailable,
                            keep[keep], np.ascontiguousarray(self.block[:, keep]))


class WeatherSource:
    """Which rows of weather_hourly a run reads: an SQL condition on `w` and its parameters."""

    def __init__(self, kind: str, issued_at: dt.datetime | None):
        self.kind, self.issued_at = kind, issued_at
        if kind == "analysis":
            self.where, self.params = "w.kind = 'analysis'", []
        else:
            self.where = ("((w.kind = 'forecast' AND w.issued_at = ?) "
                          "OR (w.kind = 'analysis' AND w.valid_time <= ?))")
            self.params = [issued_at, issued_at]

    @classmethod
    def choose(cls, con, kind: str, issued_at, start: dt.datetime) -> WeatherSource:
        """`analysis`, or the forecast issued at `issued_at` (default: the latest at or before `start`)."""
        if kind not in ("analysis", "forecast"):
            raise WxriskError(f"features: weather_kind {kind!r} is not 'analysis' or 'forecast'")
        if kind == "analysis":
            return cls(kind, None)
        if issued_at is None:
            row = con.execute("SELECT max(issued_at) FROM weather_hourly WHERE kind = 'forecast' "
                              "AND issued_at <= ?", [start]).fetchall()[0]
            if row[0] is None:
                raise WxriskError(f"weather_hourly: no forecast issued at or before {start}")
            return cls(kind, row[0])
        return cls(kind, _whole_hour(issued_at, "issued_at"))


@dataclass(frozen=True)
class FeatureWindow:
    """What every tile of a feature table shares: hours, segments with weather, incidents, source."""

    start: dt.datetime
    end: dt.datetime
    hours: np.ndarray  # datetime64[us], the hours ending at each valid_time [UTC]
    source: WeatherSource
    segments: pd.DataFrame  # sorted by segment_id, with their static attributes
    incidents: _Incidents
    timezone: str
    missing_inputs: tuple[str, ...]
    segments_without_weather: int
    blocks: _Blocks = field(default_factory=lambda: _Blocks(), init=False, repr=False, compare=False)

    def tiles(self, segments_per_tile: int) -> list[tuple[int, int]]:
        """Consecutive `[first, stop)` ranges of `segments` of at most `segments_per_tile` each."""
        step = max(1, int(segments_per_tile))
        return [(first, min(first + step, len(self.segments))) for first in range(0, len(self.segments), step)]


def feature_window(con: duckdb.DuckDBPyConnection, settings: Settings, start, end, weather_kind: str = "analysis",
                   issued_at=None, history_from=None) -> FeatureWindow:
    """Read what a feature table of [start, end) (UTC naive, whole hours) needs besides the weather.

    weather_kind "analysis" reads analysis rows; "forecast" reads the forecast issued at
    `issued_at` (default: the latest issued at or before `start`) first and analysis rows valid
    at or before the issue time where the forecast has no value. `history_from` is when the
    incident record starts (default: the earliest matched incident before the first hour).
    """
    start, end = _whole_hour(start, "start"), _whole_hour(end, "end")
    if end <= start:
        raise WxriskError(f"features: end {end} is not after start {start}")
    source = WeatherSource.choose(con, weather_kind, issued_at, start)
    segs = _read_segments(con, source, start - dt.timedelta(hours=LOOKBACK_HOURS), end)
    hours = np.arange(np.datetime64(start, "h"), np.datetime64(end, "h")).astype("datetime64[us]")
    n_all = con.execute("SELECT count(*) FROM segments").fetchall()[0][0]
    return FeatureWindow(start, end, hours, source, segs, _read_incidents(con, start, end, history_from),
                         settings.timezone, _missing_inputs(con, source, start, end), n_all - len(segs))


def tile_features(con: duckdb.DuckDBPyConnection, window: FeatureWindow, first: int = 0,
                  stop: int | None = None) -> FeatureTable:
    """The feature rows of segments `[first, stop)` of the window, every hour of the window."""
    segs = window.segments.iloc[first:stop].reset_index(drop=True)
    with _without_hugepage_hint():
        block = window.blocks.take((len(FEATURE_NAMES), len(segs) * len(window.hours)))
        out = {name: block[j].reshape(len(segs), len(window.hours)) for j, name in enumerate(FEATURE_NAMES)}
        covered = np.empty((len(segs), len(window.hours)), dtype=bool)
        _fill(con, window, segs, out, covered)
    return _table(segs, window, block, covered)


class _Blocks:
    """Feature blocks of a window's tiles, reused once no table (nor any view of one) holds them:
    the kernel's first touch of a fresh 200 MB block cost more than computing some features."""

    KEPT = 2  # blocks kept for reuse (a tile scored while the next is computed)

    def __init__(self):
        self._kept: list[np.ndarray] = []
        self._lock = threading.Lock()

    def take(self, shape: tuple[int, int]) -> np.ndarray:
        """An uninitialised float32 block of `shape`: a kept one nothing else references, else a new one."""
        with self._lock:
            for block in self._kept:
                if block.shape == shape and sys.getrefcount(block) <= 3:  # the list, `block`, the call
                    return block
            block = np.empty(shape, dtype=np.float32)
            if len(self._kept) < self.KEPT:
                self._kept.append(block)
            return block


@contextlib.contextmanager
def _without_hugepage_hint():
    """Allocate without numpy's MADV_HUGEPAGE hint on large arrays: where the kernel defragments
    on demand for hinted memory (`transparent_hugepage/defrag = madvise`, a common default), the
    first write to a tile's 200 MB block stalled on compaction (0.3 s of system time a tile)."""
    hint = getattr(np._core.multiarray, "_set_madvise_hugepage", None)
    if hint is None:
        yield
        return
    before = hint(False)
    try:
        yield
    finally:
        hint(before)


def build_features(con: duckdb.DuckDBPyConnection, settings: Settings, start, end, weather_kind: str = "analysis",
                   issued_at=None, history_from=None) -> FeatureTable:
    """Feature rows for every segment with weather rows and every hour in [start, end) (UTC naive).

    A row describes the hour ending at `valid_time` (as the weather accumulations and the model's
    label do); its history features count only incidents before that hour began. Calendar
    features are in `settings.timezone`. See `feature_window` for the weather read.
    """
    return tile_features(con, feature_window(con, settings, start, end, weather_kind, issued_at, history_from))


def _fill(con, window: FeatureWindow, segs: pd.DataFrame, out: dict, covered: np.ndarray) -> None:
    """Compute the features of `segs` into `out` (segments x hours arrays), in blocks."""
    hours = window.hours
    chunk_h = min(len(hours), CHUNK_HOURS)
    block_s = max(1, CELLS_PER_BLOCK // (chunk_h + LOOKBACK_HOURS))
    compute_s = max(1, COMPUTE_CELLS // (chunk_h + LOOKBACK_HOURS))
    core = [c for c in CORE_WEATHER if c not in window.missing_inputs]
    for h0 in range(0, len(hours), chunk_h):
        chunk_hours = hours[h0:h0 + chunk_h]
        read_hours = np.arange(chunk_hours[0] - np.timedelta64(LOOKBACK_HOURS, "h"), chunk_hours[-1] + HOUR, HOUR)
        cal_read = _calendar_block(read_hours, window.timezone)  # the look-back's traffic feeds the road surface
        cal = {name: values[LOOKBACK_HOURS:] for name, values in cal_read.items()}
        for s0 in range(0, len(segs), block_s):
            read = segs.iloc[s0:s0 + block_s]
            weather = _read_weather(con, window.source, read["segment_id"], chunk_hours[0], len(chunk_hours))
            scored = np.s_[:, LOOKBACK_HOURS:]
            covered[s0:s0 + len(read), h0:h0 + len(chunk_hours)] = (
                np.logical_and.reduce([np.isfinite(weather[c][scored]) for c in core]) if core else True)
            for c0 in range(0, len(read), compute_s):  # in pieces whose temporaries stay in the cache
                block = read.iloc[c0:c0 + compute_s]
                cells = (slice(s0 + c0, s0 + c0 + len(block)), slice(h0, h0 + len(chunk_hours)))
                traffic = _traffic(block, cal_read)
                feats = _weather_features({c: v[c0:c0 + compute_s] for c, v in weather.items()}, block, chunk_hours,
                                          traffic)
                feats |= _static_features(block, cal, traffic[:, LOOKBACK_HOURS:])
                feats |= _history_features(window.incidents, block, chunk_hours, window.start)
                for name in FEATURE_NAMES:
                    out[name][cells] = feats[name]


def _whole_hour(value, what: str) -> dt.datetime:
    stamp = utc_naive_stamp(value)
    if stamp != stamp.floor("h"):
        raise WxriskError(f"features: {what} {value} is not a whole hour")
    return stamp.to_pydatetime()


def _missing_inputs(con, source: WeatherSource, start: dt.datetime, end: dt.datetime) -> tuple[str, ...]:
    """Weather variables without a single value among the rows the window reads for [start, end)."""
    counts = con.execute(
        f"SELECT {', '.join(f'count(w.{c})' for c in WEATHER_COLUMNS)} FROM weather_rows w "
        f"WHERE w.valid_time >= ? AND w.valid_time < ? AND {source.where}", [start, end, *source.params]).fetchall()[0]
    missing = [c for c, n in zip(WEATHER_COLUMNS, counts, strict=True) if not n]
    return tuple(missing + daily_only_inputs(con, start - dt.timedelta(hours=LOOKBACK_HOURS), end))


def _read_segments(con, source: WeatherSource, read_start, end) -> pd.DataFrame:
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


def _weather_rows(con, source: WeatherSource, segment_ids, t0: dt.datetime, n_hours: int, kinds: bool = True) -> dict:
    """The window's weather rows of `segment_ids` in [t0, t0 + n_hours): `cell` (segment position x
    n_hours + hour), the variables (NaN for NULL), and with `kinds` `is_forecast` and `import_id`,
    as numpy arrays."""
    t1 = t0 + dt.timedelta(hours=n_hours)
    name = f"wxrisk_feature_block_{next(_block_names)}"
    ids = pd.DataFrame({"segment_id": np.asarray(segment_ids, dtype=object),
                        "s": np.arange(len(segment_ids), dtype=np.int32)})
    values = ", ".join(f"coalesce(CAST(w.{c} AS REAL), 'NaN'::REAL) AS {c}" for c in WEATHER_COLUMNS)
    kind = ", w.kind = 'forecast' AS is_forecast, coalesce(w.import_id, -1) AS import_id" if kinds else ""
    with frame_registered(con, name, ids):  # the id range lets the scan drop most rows before the join
        return con.execute(f"""
            SELECT CAST(b.s AS BIGINT) * ? + date_diff('hour', ?, w.valid_time) AS cell, {values}{kind}
            FROM weather_rows w JOIN {name} b ON b.segment_id = w.segment_id
            WHERE w.valid_time >= ? AND w.valid_time < ? AND w.segment_id BETWEEN ? AND ? AND {source.where}""",
                           [n_hours, t0, t0, t1, *_id_range(ids["segment_id"]), *source.params]).fetchnumpy()


def _one_row_a_cell(cell: np.ndarray) -> bool:
    return len(cell) == 0 or np.bincount(cell).max() <= 1


def _id_range(segment_ids: pd.Series) -> list:
    """The smallest and largest id (None, None for no ids: BETWEEN NULL matches nothing)."""
    return [segment_ids.min(), segment_ids.max()] if len(segment_ids) else [None, None]


def _resolve(rows: dict, shape: tuple[int, int], with_kind: bool = True) -> tuple[dict, np.ndarray | None]:
    """One value per cell and variable by the rule (forecast first, then the newest import), as
    (segments, hours) float32 arrays (NaN where none); and where a forecast supplied any value
    (when `with_kind`, else None)."""
    arrays, from_forecast = {}, np.zeros(shape, dtype=bool) if with_kind else None
    one_row_a_cell = "is_forecast" not in rows or _one_row_a_cell(rows["cell"])  # read without kinds: checked
    for col in WEATHER_COLUMNS:
        grid = np.full(shape, np.nan, dtype=np.float32)
        if one_row_a_cell and not with_kind:  # a missing value lands as the NaN already there
            grid.reshape(-1)[rows["cell"]] = rows[col]
            arrays[col] = grid
            continue
        present = np.flatnonzero(~np.isnan(rows[col]))
        keep = present if one_row_a_cell else present[_preferred_rows(
            rows["cell"][present], rows["is_forecast"][present], rows["import_id"][present])]
        grid.reshape(-1)[rows["cell"][keep]] = rows[col][keep]
        if with_kind:
            from_forecast.reshape(-1)[rows["cell"][keep][rows["is_forecast"][keep]]] = True
        arrays[col] = grid
    return arrays, from_forecast


def _read_weather(con, source: WeatherSource, segment_ids, first_hour, n_hours: int) -> dict:
    """(segments, LOOKBACK_HOURS + n_hours) float32 arrays per weather column, NaN where missing."""
    t0 = pd.Timestamp(first_hour).to_pydatetime() - dt.timedelta(hours=LOOKBACK_HOURS)
    shape = (len(segment_ids), LOOKBACK_HOURS + n_hours)
    rows = _weather_rows(con, source, segment_ids, t0, shape[1], kinds=False)
    if not _one_row_a_cell(rows["cell"]):  # overlapping imports or kinds: read again with what picks one
        rows = _weather_rows(con, source, segment_ids, t0, shape[1])
    return _resolve(rows, shape, with_kind=False)[0]


def resolved_weather(con: duckdb.DuckDBPyConnection, source: WeatherSource, segment_ids, first_hour,
                     n_hours: int) -> pd.DataFrame:
    """The weather the features use, one row per segment and hour of [first_hour, + n_hours) that
    has any value: `segment_id, valid_time, kind` (forecast when the forecast gave any variable),
    then WEATHER_COLUMNS (NULL where none). This is what a published board shows."""
    segment_ids = np.asarray(sorted(set(map(str, segment_ids))), dtype=object)
    t0 = pd.Timestamp(first_hour).to_pydatetime()
    arrays, from_forecast = _resolve(_weather_rows(con, source, segment_ids, t0, n_hours), (len(segment_ids), n_hours))
    any_value = np.logical_or.reduce([np.isfinite(arrays[c]) for c in WEATHER_COLUMNS])
    seg, hour = np.nonzero(any_value)
    frame = pd.DataFrame({  # ids and kinds as categoricals: no Python string per row
        "segment_id": pd.Categorical.from_codes(seg, segment_ids),
        "valid_time": (np.datetime64(t0, "us") + hour.astype("timedelta64[h]")).astype("datetime64[us]"),
        "kind": pd.Categorical.from_codes(from_forecast[seg, hour].astype(np.int8), ["analysis", "forecast"]),
    })
    for col in WEATHER_COLUMNS:
        frame[col] = arrays[col][seg, hour]
    frame["ptype"] = frame["ptype"].astype("Int16")
    return frame


def _preferred_rows(cell, is_forecast, import_id) -> np.ndarray:
    """One row per cell: a forecast before an analysis, then the latest import (indices).

    Applied per column to the rows that carry a value, so files holding different variables
    for the same hours (ERA5 t2m and tp downloaded apart) combine instead of hiding each other.
    """
    if len(cell) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((import_id, is_forecast, cell))
    last_of_cell = np.append(cell[order][1:] != cell[order][:-1], True)
    return order[last_of_cell]


def _weather_features(w: dict, block: pd.DataFrame, chunk_hours, traffic: np.ndarray) -> dict[str, np.ndarray]:
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

    first_read = chunk_hours[0] - np.timedelta64(lookback, "h")
    mid_hour = np.timedelta64(30, "m")  # the sun at the middle of the hour ending at valid_time
    times = np.arange(first_read, chunk_hours[-1] + np.timedelta64(1, "h"), np.timedelta64(1, "h")) - mid_hour
    sun = physics.solar_elevation_deg(times[None, :], block["lat"].to_numpy(dtype=np.float64)[:, None],
                                      block["lon"].to_numpy(dtype=np.float64)[:, None]).astype(np.float32)
    cloud = np.where(wet, 1.0, np.nan).astype(np.float32)
    road = physics.road_surface_temp_c(t2m, w["skt_c"], sun, w["wind_ms"], cloud,
                                       bridge, block["elevation_excess_m"].to_numpy(dtype=np.float32)[:, None])
    rain_on_frozen = np.where(np.isnan(road), np.nan, np.where(road <= 0.0, liquid, 0.0))
    out["rain_on_frozen_road_mm_3h"] = windows.rolling_sums(rain_on_frozen, (3,), from_hour=lookback)[3]
    fallen_liquid = np.where(np.isfinite(w["snowfall_mm"]), np.maximum(precip - snow, 0.0), liquid)
    water, ice, snowpack = physics.surface_state_mm(fallen_liquid, snow, road, w["d2m_c"], w["wind_ms"], traffic,
                                                    pressure, first_read, lookback)
    out |= {"surface_water_mm": water, "surface_ice_mm": ice, "surface_snow_mm": snowpack}

    scored = slice(lookback, None)
    t2m, d2m, wind, sun, road = (t2m[:, scored], w["d2m_c"][:, scored], w["wind_ms"][:, scored], sun[:, scored],
                                 road[:, scored])
    rh = physics.relative_humidity_pct(t2m, d2m)
    out |= {"t2m_c": t2m, "d2m_c": d2m, "rh_pct": rh, "wet_bulb_c": physics.wet_bulb_c(t2m, d2m, pressure),
            "road_temp_c": road, "phase_code": phase[:, scored]}
    out["black_ice"] = physics.black_ice_flag(road, out["precip_mm_6h"], rh, d2m)
    out["wind_ms"] = wind
    out["bridge_wind_ms"] = wind * bridge
    out["vis_m"] = w["vis_m"][:, scored]
    out["skt_c"] = w["skt_c"][:, scored]
    out["solar_elev_deg"] = sun
    out["dark"] = (sun < SUNSET_ELEVATION_DEG).astype(np.float32)
    return out


def _calendar_block(chunk_hours, tz: str) -> dict[str, np.ndarray]:
    """Calendar and traffic profile of the hour each row describes, [valid_time - 1 h, valid_time)
    (read-only arrays, worked out once for all the tiles of a window)."""
    first = np.datetime64(chunk_hours[0], "h")
    return _calendar_of_hours(int(first.astype(np.int64)), len(chunk_hours), tz)


@functools.lru_cache(maxsize=8)
def _calendar_of_hours(first_hour: int, n_hours: int, tz: str) -> dict[str, np.ndarray]:
    """`_calendar_block` of the n_hours hours from first_hour [hours since 1970, UTC]."""
    hours = np.datetime64(first_hour, "h") + np.arange(n_hours).astype("timedelta64[h]")
    cal = calendar.calendar_columns(hours.astype("datetime64[us]") - np.timedelta64(1, "h"), tz)
    cal["travel_rush_factor"] = exposure.travel_rush_factor(cal["travel_rush_day"], cal["is_holiday"])
    cal["hour_share"] = exposure.hour_share(cal["hour_local"])
    for values in cal.values():
        values.flags.writeable = False
    return cal


def _traffic(block: pd.DataFrame, cal: dict) -> np.ndarray:
    """Vehicles per hour of each segment in each hour of `cal` (segments, hours) [veh/h]."""
    aadt = exposure.segment_aadt(block["aadt"].to_numpy(dtype=np.float64, na_value=np.nan),
                                 block["highway"].to_numpy(dtype=object))
    return exposure.traffic_vph(aadt[:, None], cal["travel_rush_factor"][None, :], cal["hour_share"][None, :])


def _static_features(block: pd.DataFrame, cal: dict, traffic: np.ndarray) -> dict[str, np.ndarray]:
    """Calendar (per hour), exposure and geometry (per segment) broadcast to (segments, hours)."""
    feats = {name: cal[name][None, :] for name in (
        "hour_local", "dow_local", "days_to_spring_festival", "days_from_spring_festival", "travel_rush_day",
        "is_holiday", "days_to_holiday", "days_from_holiday", "travel_rush_factor")}
    feats["traffic_vph"] = traffic
    for col in SEGMENT_COLUMNS:
        feats[col] = block[col].to_numpy(dtype=np.float64, na_value=np.nan)[:, None]
    return feats


class _Incidents:
    """Matched incidents before `end`, as indices into all segments and hours from `start`."""

    def __init__(self, segment_index, time_h, segment_road, position_of_id, history_start_h):
        self.segment_index, self.time_h = segment_index, time_h
        self.segment_road, self.position_of_id = segment_road, position_of_id
        self.history_start_h = history_start_h


def iter_features(con: duckdb.DuckDBPyConnection, settings: Settings, start, end, chunk_hours: int = CHUNK_HOURS,
                  **kwargs):
    """build_features in consecutive windows of chunk_hours [h] (for training on long periods).

    Every window uses the same incident-record start, so the pieces equal one large call.
    """
    start, end = _whole_hour(start, "start"), _whole_hour(end, "end")
    history_from = kwargs.pop("history_from", None) or history_start(con, start - HOUR)
    step = dt.timedelta(hours=chunk_hours)
    window_start = start
    while window_start < end:
        window_end = min(window_start + step, end)
        yield build_features(con, settings, window_start, window_end, history_from=history_from, **kwargs)
        window_start = window_end


def history_start(con: duckdb.DuckDBPyConnection, before) -> dt.datetime:
    """When the incident record starts: the earliest matched incident before `before`, else `before`."""
    row = con.execute("SELECT min(occurred_at) FROM incidents WHERE segment_id IS NOT NULL AND occurred_at < ?",
                      [before]).fetchall()[0]
    return row[0] if row[0] is not None else before


def _read_incidents(con, start: dt.datetime, end: dt.datetime, history_from) -> _Incidents:
    all_segs = con.execute("SELECT segment_id, coalesce(road_ref, feature_id, segment_id) AS road_key "
                           "FROM segments ORDER BY segment_id").df()
    position_of_id = pd.Series(np.arange(len(all_segs)), index=all_segs["segment_id"].to_numpy(dtype=object))
    segment_road = pd.factorize(all_segs["road_key"].to_numpy(dtype=object))[0]
    record_start = utc_naive_stamp(history_from).to_pydatetime() if history_from else history_start(con, start - HOUR)
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


def _table(segs: pd.DataFrame, window: FeatureWindow, block: np.ndarray, covered: np.ndarray) -> FeatureTable:
    """The (features, segments x hours) block as rows, segment by segment, hours ascending; the
    feature columns are views of `block` (read by the model through `wxrisk.model.registry.FeatureBlock`)."""
    n_seg, n_hours = len(segs), len(window.hours)
    frame = pd.DataFrame(block.T, columns=list(FEATURE_NAMES), copy=False)
    ids = pd.Categorical.from_codes(np.repeat(np.arange(n_seg, dtype=np.int32), n_hours),
                                    categories=pd.Index(segs["segment_id"].to_numpy(dtype=object), dtype=object))
    frame.insert(0, "valid_time", np.tile(window.hours, n_seg))
    frame.insert(0, "segment_id", ids)
    unavailable = tuple(name for j, name in enumerate(FEATURE_NAMES) if _all_nan(block[j]))
    return FeatureTable(frame, window.missing_inputs, unavailable, covered.reshape(-1), block)
