"""Station and point weather: series stored once per station, served to segments by nearest station.

A station file (Open-Meteo point CSV, GHCN-Daily `.dly`, a mapped station CSV) is read whole
into a `StationSeries` in canonical units before anything is written. It is stored once
(`station_hourly` or `station_daily`), not copied to every segment: the view `weather_rows`
(`store/weather.sql`) serves each segment its nearest station within the station's reach,
temperature adjusted to the segment's height by the lapse rate.

Window key: `weather:station:<resolution>:<station ids>:<first>/<last>:<columns>`. The ledger's
identity is the file's bytes plus the options that change its meaning (position, reach, time
zone), so the same file with other options is imported again, not called unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from wxrisk.config import WxriskError
from wxrisk.store.ledger import ImportEntry, ImportResult, file_sha256, run_import
from wxrisk.vocab import EARTH_RADIUS_KM, insert_frame
from wxrisk.weather.variables import CANONICAL_COLUMNS

KIND = "weather"
# ICAO standard atmosphere (ICAO Doc 7488/3, also ISO 2533:1975): temperature falls 6.5 K per km
# of height in the troposphere. Used to carry a station's temperature to a road's height.
LAPSE_RATE_C_PER_M = -0.0065
DAILY_COLUMNS = ("tmax_c", "tmin_c", "tavg_c", "precip_mm", "snowfall_mm", "snow_depth_cm", "wind_ms")
POSITION_TOLERANCE_DEG = 1e-3  # the same station id at another position beyond this is refused [°]
MAX_REJECTED_SHARE = 0.5  # a file with more of its rows rejected is refused, as for incidents


@dataclass(frozen=True)
class Station:
    """A station or point: id, WGS84 position [degrees] and height [m] (None when unknown)."""

    station_id: str
    lon: float
    lat: float
    elevation_m: float | None = None
    name: str | None = None


@dataclass
class StationSeries:
    """A station file read and converted: stations, values and what the import should record.

    resolution : "hourly" (frame has `valid_time`, UTC naive) or "daily" (frame has `day`)
    frame      : station_id, valid_time or day, then canonical columns (NaN where missing)
    quarantined: (row number, reason, raw row) of rows or values that were rejected
    details    : format, variables (column -> source), unit conversions, missing/unused variables...
    options    : the options that change the file's meaning (part of the import's identity)
    """

    stations: list[Station]
    resolution: str
    frame: pd.DataFrame
    details: dict
    quarantined: list[tuple[int | None, str, dict | None]] = field(default_factory=list)
    options: dict = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """The canonical columns that hold at least one value."""
        names = CANONICAL_COLUMNS if self.resolution == "hourly" else DAILY_COLUMNS
        return [c for c in names if c in self.frame and self.frame[c].notna().any()]


def parse_station_option(value: str | None, where: str) -> Station | None:
    """`lon,lat[,elevation_m]` -> a Station without id (id filled in by the reader); None if absent."""
    if value is None or not value.strip():
        return None
    parts = [p.strip() for p in value.split(",")]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (2, 3):
        raise WxriskError(f"{where}: --station {value!r} is not lon,lat or lon,lat,elevation_m")
    lon, lat = numbers[:2]
    check_position(lon, lat, f"{where}: --station")
    return Station("", lon, lat, numbers[2] if len(numbers) == 3 else None)


def check_position(lon: float, lat: float, where: str) -> None:
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0) or not (np.isfinite(lon) and np.isfinite(lat)):
        raise WxriskError(f"{where}: position lon {lon}, lat {lat} is not a WGS84 longitude, latitude")


def identity_hash(path: Path, options: dict) -> str:
    """The file's sha256 combined with its meaning-changing options (same file, other options:
    another import)."""
    digest = hashlib.sha256(bytes.fromhex(file_sha256(path)))
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def window_key(series: StationSeries) -> str:
    times = series.frame["valid_time" if series.resolution == "hourly" else "day"]
    first, last = pd.Timestamp(times.min()).isoformat(), pd.Timestamp(times.max()).isoformat()
    ids = ",".join(sorted(s.station_id for s in series.stations))
    return f"weather:station:{series.resolution}:{ids}:{first}/{last}:{'+'.join(series.columns)}"


# --- the nearest-station map -------------------------------------------------------------------

def unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points [degrees] as (n, 3) unit vectors, so chord distance orders like great-circle distance."""
    lon_r, lat_r = np.radians(np.asarray(lon, dtype=np.float64)), np.radians(np.asarray(lat, dtype=np.float64))
    return np.column_stack([np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)])


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    """Great-circle distance [km] from the chord between unit vectors."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


def nearest_stations(segments: pd.DataFrame, stations: pd.DataFrame) -> pd.DataFrame:
    """Each segment's nearest station within the station's reach (segments beyond every reach: no row).

    segments : segment_id, lon, lat, elevation_m
    stations : station_id, lon, lat, elevation_m, reach_km (one resolution)
    Returns segment_id, station_id, distance_km, height_m (segment minus station [m], NaN if
    either is unknown) and t_offset_c (LAPSE_RATE_C_PER_M x height_m, 0 when unknown).
    """
    if segments.empty or stations.empty:
        return pd.DataFrame(columns=["segment_id", "station_id", "distance_km", "height_m", "t_offset_c"])
    tree = cKDTree(unit_vectors(stations["lon"], stations["lat"]))
    points = unit_vectors(segments["lon"], segments["lat"])
    # Nearest first; a nearer station whose reach is short may not serve a segment a farther one does.
    k = min(len(stations), 8)
    chord, index = tree.query(points, k=k)
    chord, index = chord.reshape(len(points), k), index.reshape(len(points), k)
    distance = chord_to_km(chord)
    reach = stations["reach_km"].to_numpy(dtype=np.float64)[index]
    within = distance <= reach
    served = within.any(axis=1)
    first = within.argmax(axis=1)
    rows = np.flatnonzero(served)
    pick = index[rows, first[rows]]
    height = (segments["elevation_m"].to_numpy(dtype=np.float64, na_value=np.nan)[rows]
              - stations["elevation_m"].to_numpy(dtype=np.float64, na_value=np.nan)[pick])
    return pd.DataFrame({
        "segment_id": segments["segment_id"].to_numpy(dtype=object)[rows],
        "station_id": stations["station_id"].to_numpy(dtype=object)[pick],
        "distance_km": distance[rows, first[rows]],
        "height_m": height,
        "t_offset_c": np.nan_to_num(LAPSE_RATE_C_PER_M * height, nan=0.0),
    })


def remap_stations(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """Rebuild `segment_station` from the current segments and stations; a summary per resolution.

    Called after every station import and after a roads import (new segments).
    """
    segments = con.execute("SELECT segment_id, lon, lat, elevation_m FROM segments ORDER BY segment_id").df()
    stations = con.execute("SELECT station_id, lon, lat, elevation_m, reach_km, resolution "
                           "FROM weather_stations ORDER BY station_id").df()
    con.execute("DELETE FROM segment_station")
    summary = {}
    for resolution, group in stations.groupby("resolution"):
        mapped = nearest_stations(segments, group.reset_index(drop=True))
        mapped.insert(2, "resolution", resolution)
        insert_frame(con, "segment_station", mapped)
        summary[resolution] = {"segments_served": len(mapped), "segments_beyond_reach": len(segments) - len(mapped),
                               "segments_height_adjusted": int(mapped["height_m"].notna().sum())}
    return summary


def station_coverage(con: duckdb.DuckDBPyConnection, station_ids: list[str]) -> dict:
    """How the map serves `station_ids`: segments served, farthest distance, height adjustments."""
    [(n_segments,)] = con.execute("SELECT count(*) FROM segments").fetchall()
    [(served, farthest, adjusted, low, high)] = con.execute(
        "SELECT count(*), max(distance_km), count(height_m), min(t_offset_c), max(t_offset_c) "
        "FROM segment_station WHERE list_contains(?, station_id)", [station_ids]).fetchall()
    return {"segments": n_segments, "segments_served": served,
            "segments_beyond_reach": n_segments - served if served else n_segments,
            "farthest_served_km": round(farthest, 3) if farthest is not None else None,
            "segments_height_adjusted": adjusted,
            "t_offset_c_range": [round(low, 2), round(high, 2)] if adjusted else None}


# --- writing -------------------------------------------------------------------------------------

def check_station_positions(con: duckdb.DuckDBPyConnection, series: StationSeries, path: Path) -> None:
    """Refuse a station id already stored at another position or height (merged ids change meaning)."""
    for station in series.stations:
        rows = con.execute("SELECT lon, lat, elevation_m, resolution FROM weather_stations WHERE station_id = ?",
                           [station.station_id]).fetchall()
        if not rows:
            continue
        [(lon, lat, elevation, resolution)] = rows
        moved = abs(lon - station.lon) > POSITION_TOLERANCE_DEG or abs(lat - station.lat) > POSITION_TOLERANCE_DEG
        if moved or (elevation is None) != (station.elevation_m is None) or (
                elevation is not None and abs(elevation - station.elevation_m) > 1.0):
            raise WxriskError(f"{path}: station {station.station_id} is already stored at lon {lon}, lat {lat}, "
                              f"{elevation} m; this file puts it at lon {station.lon}, lat {station.lat}, "
                              f"{station.elevation_m} m (one id, two places)")
        if resolution != series.resolution:
            raise WxriskError(f"{path}: station {station.station_id} is already stored as {resolution}, "
                              f"this file is {series.resolution}")


def write_series(entry: ImportEntry, series: StationSeries, reach_km: float) -> None:
    """Store the stations and their series (replacing this window's earlier rows), then remap."""
    con = entry.con
    table = "station_hourly" if series.resolution == "hourly" else "station_daily"
    con.execute(f"DELETE FROM {table} WHERE source = ?", [entry.window_key])
    ids = [s.station_id for s in series.stations]
    con.execute("DELETE FROM weather_stations WHERE list_contains(?, station_id)", [ids])
    con.executemany("INSERT INTO weather_stations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(s.station_id, s.name, s.lon, s.lat, s.elevation_m, series.resolution, reach_km,
                      entry.window_key, entry.import_id) for s in series.stations])
    frame = series.frame.copy()
    frame["source"], frame["import_id"] = entry.window_key, entry.import_id
    if series.resolution == "hourly":
        frame["kind"], frame["issued_at"] = "analysis", pd.NaT
        columns = ["station_id", "valid_time", "kind", "issued_at", *CANONICAL_COLUMNS, "source", "import_id"]
    else:
        columns = ["station_id", "day", *DAILY_COLUMNS, "source", "import_id"]
    for column in columns:
        if column not in frame:
            frame[column] = np.nan
    insert_frame(con, table, frame, columns)
    entry.quarantine(series.quarantined)
    remap_stations(con)
    entry.rows_read = len(series.frame) + len(series.quarantined)
    entry.rows_kept = len(series.frame)
    entry.details = {**series.details, **station_coverage(con, ids), "reach_km": reach_km,
                     "lapse_rate_c_per_km": LAPSE_RATE_C_PER_M * 1000.0,
                     "stations": [{"station_id": s.station_id, "lon": s.lon, "lat": s.lat,
                                   "elevation_m": s.elevation_m} for s in series.stations]}


def forget_source(con: duckdb.DuckDBPyConnection, window_key: str) -> int:
    """Delete a station import's series and stations, then remap; the station-rows deleted.

    `wxrisk import remove` calls it for weather sources (grids have no station rows: 0).
    """
    deleted = 0
    for table in ("station_hourly", "station_daily"):
        [(count,)] = con.execute(f"SELECT count(*) FROM {table} WHERE source = ?", [window_key]).fetchall()
        con.execute(f"DELETE FROM {table} WHERE source = ?", [window_key])
        deleted += count
    con.execute("DELETE FROM weather_stations WHERE source = ?", [window_key])
    remap_stations(con)
    return deleted


def import_series(con: duckdb.DuckDBPyConnection, path: Path, series: StationSeries,
                  reach_km: float) -> ImportResult:
    """Write a read station file through the ledger (same bytes and options again: unchanged)."""
    if not reach_km > 0:
        raise WxriskError(f"{path}: --max-km {reach_km} must be a positive distance [km]")
    refuse_mostly_rejected(series, path)
    options = {**series.options, "reach_km": reach_km}
    file_hash = identity_hash(path, options)
    check_station_positions(con, series, path)
    return run_import(con, KIND, path, window_key(series),
                      lambda entry: write_series(entry, series, reach_km), file_hash=file_hash)


def refuse_mostly_rejected(series: StationSeries, path: Path) -> None:
    """More than half the rows rejected means the file is not what it says (a wrong unit, another
    layout): refused, naming the first rejection, before anything is written."""
    read = len(series.frame) + len(series.quarantined)
    if len(series.quarantined) > MAX_REJECTED_SHARE * read:
        number, reason, _ = series.quarantined[0]
        raise WxriskError(f"{path}: {len(series.quarantined)} of {read} rows rejected, more than half "
                          f"(row {number}: {reason}); nothing imported")


def station_summary(result: ImportResult) -> str | None:
    """A second line for a station import: who is served and what could not be filled."""
    details = result.details
    if "segments_served" not in details or result.status == "unchanged":
        return None
    line = (f"{result.path}: {len(details['stations'])} station(s), {details['resolution']}; "
            f"{details['segments_served']} of {details['segments']} segments within {details['reach_km']:g} km, "
            f"{details['segments_beyond_reach']} beyond (no weather from it); "
            f"height-adjusted {details['segments_height_adjusted']}")
    gaps = details.get("gaps") or {}
    if gaps.get("absent_steps"):
        line += f"; {gaps['absent_steps']} {'hours' if details['resolution'] == 'hourly' else 'days'} absent"
    if details.get("rejected_values"):
        line += f"; {sum(details['rejected_values'].values())} flagged values rejected"
    return line


# --- what daily-only weather leaves out ----------------------------------------------------------

DAILY_ONLY_SQL = """
WITH daily AS (
    SELECT DISTINCT m.segment_id, d.station_id FROM segment_station m
    JOIN station_daily d ON d.station_id = m.station_id AND m.resolution = 'daily'
    WHERE d.day >= CAST($start AS DATE) AND d.day <= CAST($end AS DATE)
), hourly AS (
    SELECT DISTINCT segment_id FROM weather_hourly WHERE valid_time >= $start AND valid_time < $end
    UNION
    SELECT segment_id FROM segment_station WHERE resolution = 'hourly' AND station_id IN
        (SELECT DISTINCT station_id FROM station_hourly WHERE valid_time >= $start AND valid_time < $end)
)
SELECT count(DISTINCT segment_id), list(DISTINCT station_id ORDER BY station_id) FROM daily
WHERE segment_id NOT IN (SELECT segment_id FROM hourly)
"""


def daily_only_inputs(con: duckdb.DuckDBPyConnection, start, end) -> list[str]:
    """`daily-only:<column>` for each daily value that segments without hourly weather have in
    [start, end) (UTC), so hourly features can say they lack them; [] when none."""
    if not con.execute("SELECT count(*) FROM segment_station WHERE resolution = 'daily'").fetchall()[0][0]:
        return []  # no daily station serves a segment: skip scanning every segment-hour of the window
    [(segments, stations)] = con.execute(DAILY_ONLY_SQL, {"start": start, "end": end}).fetchall()
    if not segments:
        return []
    [present] = con.execute(
        "SELECT " + ", ".join(f"count({c})" for c in DAILY_COLUMNS) + " FROM station_daily "
        "WHERE list_contains($stations, station_id) AND day >= CAST($start AS DATE) AND day <= CAST($end AS DATE)",
        {"stations": stations, "start": start, "end": end}).fetchall()
    return [f"daily-only:{c}" for c, n in zip(DAILY_COLUMNS, present, strict=True) if n]
