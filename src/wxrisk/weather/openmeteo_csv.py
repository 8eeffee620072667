"""Open-Meteo hourly CSV (as saved from its archive or forecast API) -> a StationSeries.

The file is a table `time, <variable> (<unit>), ...`, optionally below Open-Meteo's metadata
lines (`latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation`, one
row per location, then a blank line). Several locations carry a `location_id` column.

Where the point is: the metadata lines, else `--station lon,lat[,elevation_m]`, else the file
name (`..._53.81N_1.56W_48m_...`); none of them: refused. Times are the metadata's time zone,
else UTC (Open-Meteo's default), or `--tz`.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from wxrisk.config import WxriskError
from wxrisk.vocab import local_series_to_utc
from wxrisk.weather.series import (
    SourceColumn,
    convert_columns,
    first_line,
    gaps,
    no_usable_row,
    read_rows,
    read_text,
    refuse_duplicates,
    refuse_part_hours,
)
from wxrisk.weather.stations import Station, StationSeries, check_position, parse_station_option
from wxrisk.weather.variables import CANONICAL_COLUMNS

# Open-Meteo hourly variable -> canonical column (first listed wins when a file has several).
VARIABLES: dict[str, str] = {
    "temperature_2m": "t2m_c",
    "dew_point_2m": "d2m_c", "dewpoint_2m": "d2m_c",
    "surface_temperature": "skt_c", "soil_temperature_0cm": "skt_c",
    "precipitation": "precip_mm",
    "snowfall": "snowfall_mm",
    "wind_speed_10m": "wind_ms", "windspeed_10m": "wind_ms",
    "visibility": "vis_m",
}
METADATA_FIRST = ("latitude", "location_id")
HEADER = re.compile(r"^\s*(?P<name>[^(]+?)\s*(?:\((?P<unit>[^)]*)\))?\s*$")
FILE_NAME_POSITION = re.compile(
    r"(?P<lat>\d+(?:\.\d+)?)(?P<ns>[NS])_(?P<lon>\d+(?:\.\d+)?)(?P<ew>[EW])(?:_(?P<ele>-?\d+(?:\.\d+)?)m)?")
POSITION_AGREEMENT_DEG = 0.1  # an option and the metadata further apart than this: refused [°]
STEP = pd.Timedelta(hours=1)


def looks_like_openmeteo(path: Path) -> bool:
    """A CSV whose first line is Open-Meteo's metadata header or a `time,...` / `location_id,time,...` table."""
    first = first_line(path).strip().lower()
    return first.startswith(("latitude,longitude", "location_id,latitude", "time,", "location_id,time,"))


def split_blocks(text: str) -> list[list[str]]:
    """The file's blank-line separated blocks, each a list of lines."""
    blocks, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def read_block(lines: list[str]) -> pd.DataFrame:
    return pd.read_csv(io.StringIO("\n".join(lines)), dtype=str, keep_default_na=False)


def metadata_stations(block: pd.DataFrame, path: Path) -> dict[str, Station]:
    """location id ('0' when there is one location) -> Station, from the metadata lines."""
    stations = {}
    for index, row in block.iterrows():
        where = f"{path}: metadata line {index + 2}"
        try:
            lon, lat = float(row["longitude"]), float(row["latitude"])
            elevation = float(row["elevation"]) if row.get("elevation", "").strip() else None
        except (KeyError, ValueError) as exc:
            raise WxriskError(f"{where}: latitude/longitude/elevation are not numbers ({exc})") from exc
        check_position(lon, lat, where)
        location = str(row.get("location_id", "0")).strip() or "0"
        stations[location] = Station(point_id(lon, lat), lon, lat, elevation)
    return stations


def metadata_time_zone(block: pd.DataFrame) -> str:
    zones = {str(z).strip() for z in block.get("timezone", pd.Series(["GMT"]))}
    return zones.pop() if len(zones) == 1 else "mixed"


def check_offset(block: pd.DataFrame, zone: str, times: pd.Series, path: Path) -> None:
    """The metadata's `utc_offset_seconds` must be one the zone takes over the file's times; a
    zone and offset that disagree (`GMT` with 3600) leave the times' meaning unknown: refused."""
    offsets = {str(value).strip() for value in block.get("utc_offset_seconds", pd.Series([], dtype=str))}
    parsed = pd.to_datetime(times.str.strip(), format="ISO8601", errors="coerce").dropna()
    if not offsets or parsed.empty or zone == "mixed":
        return
    try:
        span = pd.date_range(parsed.min().floor("D"), parsed.max().ceil("D"), freq="D", tz=zone)
    except Exception:  # an unknown zone is named when the times are converted
        return
    possible = {int(stamp.utcoffset().total_seconds()) for stamp in span}
    for offset in offsets:
        if not offset.lstrip("-").isdigit() or int(offset) not in possible:
            raise WxriskError(f"{path}: metadata utc_offset_seconds {offset} is not an offset of its timezone "
                              f"{zone} over the file's times ({', '.join(map(str, sorted(possible)))}); "
                              "which clock are the times in?")


def point_id(lon: float, lat: float) -> str:
    return f"openmeteo:{abs(lat):.3f}{'N' if lat >= 0 else 'S'}_{abs(lon):.3f}{'E' if lon >= 0 else 'W'}"


def position_from_file_name(path: Path) -> Station | None:
    match = FILE_NAME_POSITION.search(path.name)
    if match is None:
        return None
    lat = float(match["lat"]) * (1 if match["ns"] == "N" else -1)
    lon = float(match["lon"]) * (1 if match["ew"] == "E" else -1)
    return Station("", lon, lat, float(match["ele"]) if match["ele"] else None)


def choose_position(path: Path, from_metadata: dict[str, Station], option: Station | None) -> tuple[dict, str]:
    """The stations of the file and where their position came from (option > metadata > name)."""
    if option is not None and from_metadata:
        if len(from_metadata) > 1:
            raise WxriskError(f"{path}: --station gives one position, the file has {len(from_metadata)} locations")
        meta = next(iter(from_metadata.values()))
        if max(abs(meta.lon - option.lon), abs(meta.lat - option.lat)) > POSITION_AGREEMENT_DEG:
            raise WxriskError(f"{path}: --station lon {option.lon}, lat {option.lat} disagrees with the file's "
                              f"metadata lon {meta.lon}, lat {meta.lat}")
    if option is not None:
        elevation = option.elevation_m
        if elevation is None and from_metadata:
            elevation = next(iter(from_metadata.values())).elevation_m
        return {"0": Station(point_id(option.lon, option.lat), option.lon, option.lat, elevation)}, "--station"
    if from_metadata:
        return from_metadata, "metadata lines"
    named = position_from_file_name(path)
    if named is not None:
        return {"0": Station(point_id(named.lon, named.lat), named.lon, named.lat, named.elevation_m)}, "file name"
    raise WxriskError(f"{path}: where is this point? No Open-Meteo metadata lines (latitude, longitude, "
                      "elevation), no position in the file name (like _53.81N_1.56W_48m_); give "
                      "--station lon,lat[,elevation_m]")


def parse_times(text: pd.Series, zone: str, path: Path, row_numbers: np.ndarray) -> pd.Series:
    """UTC naive times from ISO 8601 local times in `zone` or Unix seconds (always UTC)."""
    text = text.str.strip()
    if text.str.fullmatch(r"-?\d+").all():
        times = pd.Series(pd.to_datetime(text.astype("int64"), unit="s"), index=text.index)
        refuse_part_hours(times, text, row_numbers, str(path))
        return times
    times = pd.to_datetime(text, format="ISO8601", errors="coerce")
    if times.isna().any():
        first = int(np.flatnonzero(times.isna().to_numpy())[0])
        raise WxriskError(f"{path}: row {row_numbers[first]}: time {text.iloc[first]!r} is not ISO 8601")
    refuse_part_hours(times, text, row_numbers, str(path))
    return local_series_to_utc(times, zone, str(path))


def source_columns(header: list[str], path: Path) -> tuple[dict[str, SourceColumn], list[str]]:
    """Canonical column -> the file's column and unit; and the columns left unused."""
    sources: dict[str, SourceColumn] = {}
    unused = []
    for column in header:
        if column.strip().lower() in ("time", "location_id"):
            continue
        match = HEADER.match(column)
        name = match["name"].strip().lower() if match else column
        canonical = VARIABLES.get(name)
        if canonical is None or canonical in sources:
            unused.append(column)
            continue
        if match["unit"] is None or not match["unit"].strip():
            raise WxriskError(f"{path}: column {column!r} has no unit; Open-Meteo headers carry it, "
                              "like `temperature_2m (°C)`")
        sources[canonical] = SourceColumn(column, match["unit"].strip())
    return sources, unused


def read_openmeteo_csv(path: Path, station: str | None = None, tz: str | None = None) -> StationSeries:
    """Read an Open-Meteo hourly CSV whole, in canonical units; raises WxriskError, writes nothing."""
    option = parse_station_option(station, str(path))
    blocks = split_blocks(read_text(path))
    if not blocks:
        raise WxriskError(f"{path}: empty file")
    first_fields = [f.strip().lower() for f in blocks[0][0].split(",")]
    has_metadata = first_fields[0] in METADATA_FIRST and "time" not in first_fields
    metadata = read_block(blocks[0]) if has_metadata else None
    data_blocks = blocks[1:] if has_metadata else blocks
    if not data_blocks:
        raise WxriskError(f"{path}: metadata lines but no table of hours below them")
    stations, position_from = choose_position(path, metadata_stations(metadata, path) if has_metadata else {}, option)
    zone = tz or (metadata_time_zone(metadata) if has_metadata else "UTC")
    zone_from = "--tz" if tz else "metadata lines" if has_metadata else "UTC (Open-Meteo's default; no metadata)"
    raw, row_numbers, damaged = read_rows("\n".join(data_blocks[0]), str(path))
    if "time" not in raw.columns:
        raise WxriskError(f"{path}: no `time` column in the table (columns: {', '.join(raw.columns[:6])}...)")
    sources, unused = source_columns(list(raw.columns), path)
    if not sources:
        raise WxriskError(f"{path}: none of the known Open-Meteo variables ({', '.join(VARIABLES)}); "
                          f"found {', '.join(raw.columns)}")
    raw["station_id"] = station_ids(raw, stations, path)
    if has_metadata:
        check_offset(metadata, zone, raw["time"], path)
    raw["valid_time"] = parse_times(raw["time"], zone, path, row_numbers)
    values, keep, rejected = convert_columns(raw, sources, str(path), row_numbers)
    quarantined = sorted(damaged + rejected, key=lambda row: row[0])
    refuse_duplicates(raw, ["station_id", "valid_time"], row_numbers, str(path))
    frame = pd.concat([raw.loc[keep, ["station_id", "valid_time"]], values.loc[keep]], axis=1)
    frame = frame.sort_values(["station_id", "valid_time"]).reset_index(drop=True)
    if frame.empty:
        raise no_usable_row(str(path), quarantined)
    details = {
        "format": "open-meteo-csv", "resolution": "hourly", "kind": "analysis",
        "valid_from": frame["valid_time"].min().isoformat(), "valid_to": frame["valid_time"].max().isoformat(),
        "hours": int(frame["valid_time"].nunique()),
        "variables": {c: s.name for c, s in sources.items()},
        "missing_variables": [c for c in CANONICAL_COLUMNS if c not in sources],
        "unused_columns": unused, "position_from": position_from, "time_zone": zone, "time_zone_from": zone_from,
        "ignored_blocks": len(data_blocks) - 1,
        "gaps": gaps(frame["valid_time"], STEP, frame[list(sources)]), "synthetic": False,
    }
    if "snowfall_mm" in sources:
        details["snowfall_conversion"] = "cm of snow / 0.7 = mm water equivalent (Open-Meteo: 7 cm snow = 10 mm)"
    options = {"station": [(s.lon, s.lat, s.elevation_m) for s in stations.values()], "tz": zone}
    return StationSeries(list(stations.values()), "hourly", frame, details, quarantined, options)


def station_ids(raw: pd.DataFrame, stations: dict[str, Station], path: Path) -> pd.Series:
    """The station id of each row, by its `location_id` (or the one location)."""
    if "location_id" not in raw.columns:
        if len(stations) > 1:
            raise WxriskError(f"{path}: {len(stations)} locations in the metadata but no location_id column")
        return pd.Series(next(iter(stations.values())).station_id, index=raw.index)
    locations = raw["location_id"].str.strip()
    unknown = sorted(set(locations) - set(stations))
    if unknown:
        raise WxriskError(f"{path}: location_id {', '.join(unknown[:3])} has no metadata line (position unknown)")
    return locations.map({k: s.station_id for k, s in stations.items()})
