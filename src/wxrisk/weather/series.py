"""Columns of a station/point table to canonical units, once: units, plausibility, gaps.

Shared by the Open-Meteo CSV and mapped station CSV readers. A value that is not a number, or
is physically impossible in its canonical unit (a unit mislabelled, a corrupt row), rejects
its row into quarantine with the reason; an empty cell is a missing value, counted.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from wxrisk.config import WxriskError
from wxrisk.weather.units import normalise_unit
from wxrisk.weather.variables import UNIT_CONVERSIONS

# What each canonical column is (how its units convert) and its physically possible range in
# the canonical unit (world records: -89.2 °C at Vostok, 56.7 °C at Death Valley; 305 mm of
# rain in one hour is the record; 113 m/s the strongest measured gust).
COLUMN_QUANTITY = {
    "t2m_c": "temperature", "d2m_c": "temperature", "skt_c": "temperature",
    "tmax_c": "temperature", "tmin_c": "temperature", "tavg_c": "temperature",
    "precip_mm": "accumulation", "snowfall_mm": "snowfall", "snow_depth_cm": "snow_depth",
    "wind_ms": "speed", "vis_m": "distance", "ptype": "category",
}
PLAUSIBLE = {
    "temperature": (-95.0, 75.0), "accumulation": (0.0, 2000.0), "snowfall": (0.0, 2000.0),
    "snow_depth": (0.0, 3000.0), "speed": (0.0, 120.0), "distance": (0.0, 1e6), "category": (0.0, 12.0),
}
# Air (and dew point) temperature is bounded by the air's records; a road or ground surface in the
# sun runs hotter (the quantity's 75 °C holds for skin temperature).
AIR_TEMPERATURE = (-95.0, 60.0)
COLUMN_PLAUSIBLE = {c: AIR_TEMPERATURE for c in ("t2m_c", "d2m_c", "tmax_c", "tmin_c", "tavg_c")}
DEW_POINT_ABOVE_AIR_C = 1.0  # a dew point this far above the air temperature cannot be (columns swapped?) [K]


@dataclass(frozen=True)
class SourceColumn:
    """Where a canonical column comes from: the file's column and its unit as written."""

    name: str
    unit: str


def conversion(column: str, unit: str, where: str) -> tuple[float, float]:
    """(scale, offset) of `unit` into the canonical unit of `column`; one-line error if unknown."""
    quantity = COLUMN_QUANTITY[column]
    if quantity == "category":
        return 1.0, 0.0
    table = UNIT_CONVERSIONS[quantity]
    key = normalise_unit(unit)
    if key not in table:
        raise WxriskError(f"{where}: unknown unit {unit!r} for {column} (known: {', '.join(table)})")
    return table[key]


def convert_columns(raw: pd.DataFrame, sources: dict[str, SourceColumn], where: str,
                    row_numbers: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, list[tuple]]:
    """Canonical columns from `raw` (strings); also the rows to keep and the rejected rows.

    Returns (values: canonical column -> float64, NaN where empty; keep: bool per raw row;
    quarantined: (row number, reason, raw row) for rows with a non-number or impossible value).
    """
    values = pd.DataFrame(index=raw.index)
    reasons = pd.Series("", index=raw.index, dtype=object)
    for column, source in sources.items():
        scale, offset = conversion(column, source.unit, f"{where}: column {source.name!r}")
        text = raw[source.name].astype("string").str.strip()
        number = pd.to_numeric(text, errors="coerce")
        not_number = text.notna() & (text != "") & number.isna()
        converted = number * scale + offset
        low, high = COLUMN_PLAUSIBLE.get(column, PLAUSIBLE[COLUMN_QUANTITY[column]])
        impossible = converted.notna() & ((converted < low) | (converted > high))
        reasons[not_number] += f"{source.name}: not a number; "
        reasons[impossible] += (f"{source.name}: " + converted[impossible].round(2).astype(str)
                                + f" outside {low:g}..{high:g} after conversion to {column}; ")
        values[column] = converted.astype("float64")
    if {"t2m_c", "d2m_c"} <= set(values):
        above = values["d2m_c"] > values["t2m_c"] + DEW_POINT_ABOVE_AIR_C
        reasons[above] += (f"{sources['d2m_c'].name}: dew point " + values.loc[above, "d2m_c"].round(2).astype(str)
                           + " °C above the air's " + values.loc[above, "t2m_c"].round(2).astype(str) + " °C; ")
    bad = (reasons != "").to_numpy()
    quarantined = [(int(row_numbers[i]), reasons.iloc[i].rstrip("; "), raw.iloc[i].to_dict())
                   for i in np.flatnonzero(bad)]
    return values, ~bad, quarantined


def gaps(times: pd.Series, step: pd.Timedelta, columns: pd.DataFrame) -> dict:
    """Steps the series cannot fill: absent times between its first and last, and empty values.

    Returns absent_steps, absent_ranges (first few `from/to` ranges) and empty_values
    (column -> count of present steps without a value). Nothing is filled in.
    """
    ordered = pd.DatetimeIndex(times.sort_values().unique())
    jumps = ordered[1:] - ordered[:-1] if len(ordered) > 1 else pd.TimedeltaIndex([])
    breaks = np.flatnonzero(jumps > step)
    ranges = [f"{(ordered[i] + step).isoformat()}/{(ordered[i + 1] - step).isoformat()}" for i in breaks[:5]]
    absent = int(sum((jumps[i] // step) - 1 for i in breaks))
    empty = {c: int(columns[c].isna().sum()) for c in columns if columns[c].isna().any()}
    return {"absent_steps": absent, "absent_ranges": ranges, "empty_values": empty}


def read_rows(text: str, where: str) -> tuple[pd.DataFrame, np.ndarray, list[tuple]]:
    """A CSV table (header line first) as strings, and the 1-based row numbers (header excluded)
    of its rows. A row whose number of fields differs from the header's (a line cut or damaged)
    is quarantined whole, never read into the wrong columns; empty lines are skipped."""
    parsed = list(csv.reader(io.StringIO(text)))
    if not parsed:
        raise WxriskError(f"{where}: empty file")
    header = parsed[0]
    if repeated := sorted({name for name in header if header.count(name) > 1}):
        raise WxriskError(f"{where}: column {repeated[0]!r} appears twice in the header")
    rows, numbers, damaged = [], [], []
    for number, fields in enumerate(parsed[1:], start=1):
        if len(fields) == len(header):
            rows.append(fields)
            numbers.append(number)
        elif any(field.strip() for field in fields):
            damaged.append((number, f"{len(fields)} fields where the header has {len(header)} (a cut or "
                                    "damaged line)", {"line": ",".join(fields)[:200]}))
    return pd.DataFrame(rows, columns=header, dtype=str), np.array(numbers, dtype="int64"), damaged


def refuse_part_hours(times: pd.Series, text: pd.Series, row_numbers: np.ndarray, where: str) -> None:
    """Hourly rows are the hour ending at their time: a time off the whole hour (15-minute data,
    a shifted clock) is refused with its row, since its amounts are not per hour."""
    off = (times != times.dt.floor("h")).to_numpy()
    if off.any():
        first = int(np.flatnonzero(off)[0])
        raise WxriskError(f"{where}: row {row_numbers[first]}: {text.iloc[first]} is not a whole hour "
                          "(hourly rows are the hour ending at that time; sub-hourly data are not read)")


def no_usable_row(where: str, quarantined: list[tuple]) -> WxriskError:
    """The refusal of a file none of whose rows could be kept, naming the first rejected one."""
    if not quarantined:
        return WxriskError(f"{where}: no usable row (no data rows)")
    number, reason, _ = quarantined[0]
    return WxriskError(f"{where}: no usable row ({len(quarantined)} rejected; row {number}: {reason})")


def refuse_duplicates(frame: pd.DataFrame, keys: list[str], row_numbers: np.ndarray, where: str) -> None:
    """One value per station and time: duplicates are refused, naming the rows."""
    duplicated = frame.duplicated(keys, keep=False).to_numpy()
    if duplicated.any():
        rows = row_numbers[duplicated][:4]
        raise WxriskError(f"{where}: {int(duplicated.sum())} rows repeat a station and time "
                          f"(rows {', '.join(map(str, rows))}...); one value per station and time")


def read_text(path: Path) -> str:
    """A text file's content as UTF-8 (a leading BOM dropped), `.gz` files decompressed."""
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rt", encoding="utf-8-sig") as handle:
                return handle.read()
        return path.read_text(encoding="utf-8-sig")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise WxriskError(f"{path}: cannot read as UTF-8 text ({exc})") from exc


def first_line(path: Path) -> str:
    """The first line of a text file (`.gz` decompressed), '' if unreadable."""
    try:
        opener = gzip.open if path.suffix.lower() == ".gz" else open
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as handle:
            return handle.readline().rstrip("\r\n")
    except (OSError, EOFError):
        return ""
