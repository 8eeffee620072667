"""A station CSV described by a YAML mapping (like the incident mappings) -> a StationSeries.

Mapping keys:

    resolution:  hourly (default) or daily
    timezone:    IANA zone of the file's times (default UTC; `--tz` overrides)
    time_format: strptime format of the time column (default ISO 8601)
    columns:     {source header: canonical}: station_id (a file without it is one station: the one
                 listed under `stations`, else named after the file), lon, lat, elevation_m, time, and the
                 weather columns (hourly: t2m_c, d2m_c, skt_c, precip_mm, snowfall_mm, wind_ms,
                 vis_m; daily: tmax_c, tmin_c, tavg_c, precip_mm, snowfall_mm, snow_depth_cm, wind_ms)
    units:       {canonical weather column: unit as in the file} — required for each one mapped
    stations:    {station id: {lon, lat, elevation_m, name}} when the rows carry no position

Hourly amounts are over the hour ending at the row's time; daily rows are the station's day.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from wxrisk.config import WxriskError
from wxrisk.vocab import local_series_to_utc
from wxrisk.weather.series import (
    SourceColumn,
    convert_columns,
    gaps,
    no_usable_row,
    read_rows,
    read_text,
    refuse_duplicates,
    refuse_part_hours,
)
from wxrisk.weather.stations import (
    DAILY_COLUMNS,
    POSITION_TOLERANCE_DEG,
    Station,
    StationSeries,
    check_position,
    parse_station_option,
)
from wxrisk.weather.variables import CANONICAL_COLUMNS

PLACE_COLUMNS = ("station_id", "lon", "lat", "elevation_m", "time")
WEATHER = {"hourly": tuple(c for c in CANONICAL_COLUMNS if c != "ptype"), "daily": DAILY_COLUMNS}
KEYS = {"description", "resolution", "timezone", "time_format", "columns", "units", "stations"}


def load_station_mapping(path: Path) -> dict:
    """The mapping file, checked: known keys and columns, a unit for each weather column."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise WxriskError(f"{path}: cannot read the station mapping ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise WxriskError(f"{path}: a station mapping is a YAML dictionary")
    if unknown := sorted(set(data) - KEYS):
        raise WxriskError(f"{path}: unknown mapping keys {unknown} (known: {sorted(KEYS)})")
    resolution = str(data.get("resolution", "hourly"))
    if resolution not in WEATHER:
        raise WxriskError(f"{path}: resolution {resolution!r} is not hourly or daily")
    columns = {str(k): str(v) for k, v in (data.get("columns") or {}).items()}
    allowed = set(PLACE_COLUMNS) | set(WEATHER[resolution])
    if wrong := sorted(set(columns.values()) - allowed):
        raise WxriskError(f"{path}: {wrong} are not {resolution} station columns (use {sorted(allowed)})")
    units = {str(k): str(v) for k, v in (data.get("units") or {}).items()}
    weather = [c for c in columns.values() if c in WEATHER[resolution]]
    if not weather:
        raise WxriskError(f"{path}: no weather column mapped (one of {', '.join(WEATHER[resolution])})")
    if no_unit := [c for c in weather if c not in units]:
        raise WxriskError(f"{path}: no unit given for {', '.join(no_unit)} (add `units: {{{no_unit[0]}: ...}}`)")
    if "time" not in columns.values():
        raise WxriskError(f"{path}: no column mapped to time")
    return {**data, "resolution": resolution, "columns": columns, "units": units}


def read_station_csv(path: Path, mapping_path: Path, station: str | None = None,
                     tz: str | None = None) -> StationSeries:
    """Read a mapped station CSV whole, in canonical units; raises WxriskError, writes nothing."""
    mapping = load_station_mapping(mapping_path)
    resolution = mapping["resolution"]
    try:
        raw, row_numbers, damaged = read_rows(read_text(path), str(path))
    except csv.Error as exc:
        raise WxriskError(f"{path}: cannot read as CSV ({exc})") from exc
    by_canonical = {canonical: source for source, canonical in mapping["columns"].items()}
    if absent := [s for s in by_canonical.values() if s not in raw.columns]:
        raise WxriskError(f"{path}: mapped column {absent[0]!r} is not in the file "
                          f"(columns: {', '.join(raw.columns[:8])})")
    raw["station_id"] = (raw[by_canonical["station_id"]].str.strip() if "station_id" in by_canonical
                         else single_station_id(mapping, path))
    stations = mapped_stations(raw, by_canonical, mapping, parse_station_option(station, str(path)), path)
    zone = tz or str(mapping.get("timezone", "UTC"))
    time_key = "valid_time" if resolution == "hourly" else "day"
    raw[time_key] = parse_station_times(raw[by_canonical["time"]], mapping.get("time_format"), zone, resolution,
                                        path, row_numbers)
    sources = {c: SourceColumn(by_canonical[c], mapping["units"][c]) for c in WEATHER[resolution] if c in by_canonical}
    values, keep, rejected = convert_columns(raw, sources, str(path), row_numbers)
    quarantined = sorted(damaged + rejected, key=lambda row: row[0])
    refuse_duplicates(raw, ["station_id", time_key], row_numbers, str(path))
    frame = pd.concat([raw.loc[keep, ["station_id", time_key]], values.loc[keep]], axis=1)
    frame = frame.sort_values(["station_id", time_key]).reset_index(drop=True)
    if frame.empty:
        raise no_usable_row(str(path), quarantined)
    step = pd.Timedelta(hours=1) if resolution == "hourly" else pd.Timedelta(days=1)
    per_station = [gaps(pd.to_datetime(g[time_key]), step, g[list(sources)]) for _, g in frame.groupby("station_id")]
    details = {
        "format": "station-csv", "mapping": str(mapping_path), "resolution": resolution, "kind": "analysis",
        "valid_from": str(frame[time_key].min()), "valid_to": str(frame[time_key].max()),
        "variables": {c: s.name for c, s in sources.items()},
        "units": {c: s.unit for c, s in sources.items()},
        "missing_variables": [c for c in WEATHER[resolution] if c not in sources],
        "time_zone": zone,
        "gaps": {"absent_steps": sum(g["absent_steps"] for g in per_station),
                 "absent_ranges": [r for g in per_station for r in g.get("absent_ranges", [])][:5],
                 "empty_values": {c: int(frame[c].isna().sum()) for c in sources if frame[c].isna().any()}},
        "synthetic": False,
    }
    if resolution == "daily":
        details["hourly_missing"] = "daily values only: every hourly weather input is missing for these segments"
    options = {"station": station, "tz": zone, "mapping": {k: v for k, v in mapping.items() if k != "description"}}
    return StationSeries(stations, resolution, frame, details, quarantined, options)


def single_station_id(mapping: dict, path: Path) -> str:
    """The id of a file without a station column: the one station the mapping lists, else the file's name."""
    listed = list(mapping.get("stations") or {})
    return str(listed[0]) if len(listed) == 1 else path.name.split(".")[0]


def mapped_stations(raw: pd.DataFrame, by_canonical: dict, mapping: dict, option: Station | None,
                    path: Path) -> list[Station]:
    """Each station's position: the rows' lon/lat columns, the mapping's `stations`, or --station."""
    ids = sorted(raw["station_id"].unique())
    listed = mapping.get("stations") or {}
    stations = []
    for station_id in ids:
        rows = raw[raw["station_id"] == station_id]
        if "lon" in by_canonical and "lat" in by_canonical:
            stations.append(position_from_rows(station_id, rows, by_canonical, path))
        elif station_id in listed:
            entry = listed[station_id]
            try:
                lon, lat = float(entry["lon"]), float(entry["lat"])
            except (KeyError, TypeError, ValueError) as exc:
                raise WxriskError(f"{path}: mapping `stations` entry {station_id!r} needs numeric lon and lat") from exc
            check_position(lon, lat, f"{path}: station {station_id}")
            elevation = entry.get("elevation_m")
            stations.append(Station(station_id, lon, lat, None if elevation is None else float(elevation),
                                    entry.get("name")))
        elif option is not None and len(ids) == 1:
            stations.append(Station(station_id, option.lon, option.lat, option.elevation_m))
        else:
            raise WxriskError(f"{path}: station {station_id!r} has no position (map lon/lat columns, list it "
                              "under `stations:` in the mapping, or give --station for a one-station file)")
    return stations


def position_from_rows(station_id: str, rows: pd.DataFrame, by_canonical: dict, path: Path) -> Station:
    """A station's position from its rows; rows that disagree are refused (one id, two places)."""
    def numbers(canonical: str) -> pd.Series:
        values = pd.to_numeric(rows[by_canonical[canonical]].str.strip(), errors="coerce")
        if values.isna().any():
            raise WxriskError(f"{path}: station {station_id!r}: {by_canonical[canonical]} is empty or not a number")
        return values

    lon, lat = numbers("lon"), numbers("lat")
    if lon.max() - lon.min() > POSITION_TOLERANCE_DEG or lat.max() - lat.min() > POSITION_TOLERANCE_DEG:
        raise WxriskError(f"{path}: station {station_id!r} is at several positions in the file (one id, two places)")
    check_position(float(lon.iloc[0]), float(lat.iloc[0]), f"{path}: station {station_id}")
    elevation = numbers("elevation_m").iloc[0] if "elevation_m" in by_canonical else None
    return Station(station_id, float(lon.iloc[0]), float(lat.iloc[0]), None if elevation is None else float(elevation))


def parse_station_times(text: pd.Series, time_format: str | None, zone: str, resolution: str, path: Path,
                        row_numbers: np.ndarray) -> pd.Series:
    """UTC naive times (hourly) or dates (daily); a time that does not parse is refused with its row."""
    text = text.str.strip()
    times = pd.to_datetime(text, format=time_format or "ISO8601", errors="coerce")
    if times.isna().any():
        first = int(np.flatnonzero(times.isna().to_numpy())[0])
        raise WxriskError(f"{path}: row {row_numbers[first]}: time {text.iloc[first]!r} does not match "
                          f"{time_format or 'ISO 8601'}")
    if resolution == "daily":
        return times.dt.date
    refuse_part_hours(times, text, row_numbers, str(path))
    return local_series_to_utc(times, zone, str(path))
