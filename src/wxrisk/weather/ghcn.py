"""NOAA GHCN-Daily `.dly` -> a daily StationSeries (values stay daily; no hours are invented).

Layout (NOAA NCEI, GHCN-Daily readme.txt section III): one line per station, month and element:
ID (columns 1-11), YEAR (12-15), MONTH (16-17), ELEMENT (18-21), then 31 day slots of 8
characters: VALUE (5), MFLAG, QFLAG, SFLAG. -9999 is missing. A non-blank QFLAG means the value
failed a quality check: it is rejected, counted and kept in quarantine.

The file holds no coordinates: they come from the GHCN station list (`ghcnd-stations.txt`:
ID 1-11, LATITUDE 13-20, LONGITUDE 22-30, ELEVATION 32-37, NAME 42-71) or `--station`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from wxrisk.config import WxriskError
from wxrisk.weather.series import first_line, no_usable_row, read_text
from wxrisk.weather.stations import (
    DAILY_COLUMNS,
    Station,
    StationSeries,
    check_position,
    parse_station_option,
)
from wxrisk.weather.variables import SNOW_CM_PER_WATER_MM

MISSING = -9999
DAY_SLOTS = 31
SLOT_CHARS = 8
LINE_CHARS = 21 + DAY_SLOTS * SLOT_CHARS  # 269
# Element -> (daily column, factor into its unit): tenths of °C, tenths of mm, mm, tenths of m/s.
ELEMENTS: dict[str, tuple[str, float]] = {
    "TMAX": ("tmax_c", 0.1), "TMIN": ("tmin_c", 0.1), "TAVG": ("tavg_c", 0.1),
    "PRCP": ("precip_mm", 0.1),
    "SNOW": ("snowfall_mm", 0.1 / SNOW_CM_PER_WATER_MM),  # mm of new snow -> mm water equivalent
    "SNWD": ("snow_depth_cm", 0.1),  # mm of snow on the ground -> cm
    "AWND": ("wind_ms", 0.1),
}
# Physically possible daily values in the canonical unit (world records, as in `series.PLAUSIBLE`).
PLAUSIBLE = {"tmax_c": (-95, 75), "tmin_c": (-95, 75), "tavg_c": (-95, 75), "precip_mm": (0, 2000),
             "snowfall_mm": (0, 2000), "snow_depth_cm": (0, 3000), "wind_ms": (0, 120)}


def looks_like_ghcn(path: Path) -> bool:
    """A `.dly` file, or text whose first line has the fixed-width GHCN layout."""
    if path.suffix.lower() == ".dly":
        return True
    first = first_line(path)
    return len(first) == LINE_CHARS and first[11:17].isdigit() and first[17:21].isalpha()


def read_station_list(path: Path, ids: set[str]) -> dict[str, Station]:
    """Stations of `ids` from a GHCN station list file (fixed width)."""
    found = {}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise WxriskError(f"{path}: cannot read the station list ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        station_id = line[0:11].strip()
        if station_id not in ids:
            continue
        try:
            lat, lon, elevation = float(line[12:20]), float(line[21:30]), float(line[31:37])
        except ValueError as exc:
            raise WxriskError(f"{path}: line {number}: latitude/longitude/elevation not numbers") from exc
        check_position(lon, lat, f"{path}: line {number}")
        found[station_id] = Station(station_id, lon, lat, None if elevation == MISSING else elevation,
                                    line[41:71].strip() or None)
    return found


def parse_lines(path: Path) -> tuple[pd.DataFrame, list[tuple]]:
    """One row per station, element and day with its value, flags and line. A line that is not
    GHCN-Daily, or is cut before its 31st value, is quarantined whole; a station, month and
    element given on two lines is refused (which one holds?)."""
    records, quarantined, seen = [], [], {}
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        head = line[:21]
        if len(line) < 21 + SLOT_CHARS or not (head[11:17].isdigit() and head[17:21].strip().isalnum()):
            quarantined.append((number, "not a GHCN-Daily line (ID, YEAR, MONTH, ELEMENT, day values)",
                                {"line": line[:80]}))
            continue
        if len(line) < LINE_CHARS - 3:  # the last slot's three flags may be blank and trimmed
            quarantined.append((number, f"cut after {len(line)} characters (a GHCN-Daily line has {LINE_CHARS})",
                                {"line": line[:80]}))
            continue
        if head in seen:
            raise WxriskError(f"{path}: lines {seen[head]} and {number} both give {head[17:21]} of "
                              f"{head[0:11]} for {head[11:15]}-{head[15:17]}; one line per station, month and element")
        seen[head] = number
        for day in range(DAY_SLOTS):
            slot = line[21 + day * SLOT_CHARS: 21 + (day + 1) * SLOT_CHARS].ljust(SLOT_CHARS)
            records.append((head[0:11].strip(), int(head[11:15]), int(head[15:17]), head[17:21], day + 1,
                            slot[0:5], slot[6], number))
    frame = pd.DataFrame(records, columns=["station_id", "year", "month", "element", "day", "value", "qflag", "line"])
    return frame, quarantined


def read_ghcn_daily(path: Path, station: str | None = None, station_list: Path | None = None) -> StationSeries:
    """Read a GHCN-Daily file whole into daily canonical values; raises WxriskError, writes nothing."""
    option = parse_station_option(station, str(path))
    slots, quarantined = parse_lines(path)
    if slots.empty:
        raise WxriskError(f"{path}: no GHCN-Daily line")
    value_text = slots["value"].str.strip()
    numbers = pd.to_numeric(value_text, errors="coerce")
    bad_number = numbers.isna()
    for row in slots[bad_number].itertuples():
        quarantined.append((row.line, f"{row.element} day {row.day}: value {row.value!r} is not a number",
                            {"element": row.element, "year": row.year, "month": row.month, "day": row.day}))
    present = sorted(set(slots["element"]))
    readable = [e for e in ELEMENTS if e in present]
    if not readable:
        raise WxriskError(f"{path}: none of the elements wxrisk reads ({', '.join(ELEMENTS)}); "
                          f"found {', '.join(present[:8])}")
    slots = slots[~bad_number & (numbers != MISSING)].assign(number=numbers)
    if not slots["element"].isin(readable).any():
        raise WxriskError(f"{path}: every value of {', '.join(readable)} is missing ({MISSING}); nothing to import")
    dates = pd.to_datetime(dict(year=slots["year"], month=slots["month"], day=slots["day"]), errors="coerce")
    for row in slots[dates.isna()].itertuples():
        quarantined.append((row.line, f"{row.element}: {row.year}-{row.month:02d}-{row.day:02d} is not a date",
                            {"element": row.element, "value": row.value}))
    slots = slots[dates.notna()].assign(date=dates)
    ignored = sorted(set(slots["element"]) - set(ELEMENTS))
    slots = slots[slots["element"].isin(list(ELEMENTS))]
    flagged = slots["qflag"].str.strip() != ""
    rejected = slots[flagged]
    for row in rejected.itertuples():
        quarantined.append((row.line, f"{row.element} {row.date:%Y-%m-%d}: quality flag {row.qflag!r}",
                            {"element": row.element, "value": int(row.number), "qflag": row.qflag}))
    slots = slots[~flagged]
    column = slots["element"].map({e: c for e, (c, _) in ELEMENTS.items()})
    factor = slots["element"].map({e: f for e, (_, f) in ELEMENTS.items()})
    slots = slots.assign(column=column, converted=slots["number"] * factor)
    impossible = implausible(slots)
    for row in slots[impossible].itertuples():
        quarantined.append((row.line, f"{row.element} {row.date:%Y-%m-%d}: {row.converted:g} outside the possible "
                            f"range of {row.column}", {"element": row.element, "value": int(row.number)}))
    slots = slots[~impossible]
    frame = (slots.pivot_table(index=["station_id", "date"], columns="column", values="converted", aggfunc="first")
             .reset_index().rename(columns={"date": "day"}))
    frame.columns.name = None
    if frame.empty:
        raise no_usable_row(str(path), quarantined)
    frame["day"] = frame["day"].dt.date
    stations = ghcn_stations(path, sorted(frame["station_id"].unique()), option, station_list)
    found = [c for c in DAILY_COLUMNS if c in frame]
    details = {
        "format": "ghcn-daily", "resolution": "daily", "kind": "analysis",
        "valid_from": str(frame["day"].min()), "valid_to": str(frame["day"].max()),
        "days": int(frame["day"].nunique()),
        "variables": {c: e for e, (c, _) in ELEMENTS.items() if c in found},
        "missing_variables": [c for c in DAILY_COLUMNS if c not in found],
        "hourly_missing": "daily values only: every hourly weather input is missing for these segments",
        "ignored_elements": ignored,
        "rejected_values": rejected["element"].value_counts().sort_index().to_dict(),
        "gaps": daily_gaps(frame, found), "synthetic": False,
    }
    options = {"station": [(s.station_id, s.lon, s.lat, s.elevation_m) for s in stations]}
    return StationSeries(stations, "daily", frame, details, quarantined, options)


def implausible(slots: pd.DataFrame) -> np.ndarray:
    low = slots["column"].map({c: lo for c, (lo, _) in PLAUSIBLE.items()})
    high = slots["column"].map({c: hi for c, (_, hi) in PLAUSIBLE.items()})
    return ((slots["converted"] < low) | (slots["converted"] > high)).to_numpy()


def daily_gaps(frame: pd.DataFrame, columns: list[str]) -> dict:
    """Days absent between the first and last day, and days without each variable (not filled)."""
    span = (pd.Timestamp(frame["day"].max()) - pd.Timestamp(frame["day"].min())).days + 1
    per_station = frame.groupby("station_id")["day"].nunique().sum()
    n_stations = frame["station_id"].nunique()
    return {"absent_steps": int(span * n_stations - per_station),
            "empty_values": {c: int(frame[c].isna().sum()) for c in columns if frame[c].isna().any()}}


def ghcn_stations(path: Path, ids: list[str], option: Station | None, station_list: Path | None) -> list[Station]:
    """Positions of the file's stations: `--station` (one station) or the station list; else refused."""
    if option is not None:
        if len(ids) > 1:
            raise WxriskError(f"{path}: --station gives one position, the file has stations {', '.join(ids[:4])}")
        return [Station(ids[0], option.lon, option.lat, option.elevation_m)]
    if station_list is None:
        raise WxriskError(f"{path}: a .dly file holds no coordinates; give --station lon,lat[,elevation_m] "
                          "or --station-list ghcnd-stations.txt")
    found = read_station_list(Path(station_list), set(ids))
    missing = [i for i in ids if i not in found]
    if missing:
        raise WxriskError(f"{station_list}: no line for station {', '.join(missing[:4])}")
    return [found[i] for i in ids]
