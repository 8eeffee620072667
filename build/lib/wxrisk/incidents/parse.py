"""Incident files to canonical rows: read, rename, convert, validate, collapse.

Every data row ends up in exactly one place: an incident, a row collapsed into another row
of the same incident (one row per casualty), or the quarantine with its 1-based row number
and the reason. Optional fields that cannot be read become NULL and are counted.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj

from wxrisk.config import WxriskError
from wxrisk.incidents.mapping import CANONICAL_COLUMNS, VOCABULARY, Mapping, code_key
from wxrisk.roads.tags import parse_bool

OUTPUT_COLUMNS = ("incident_id", "occurred_at", "lat", "lon", "road_ref", "severity", "surface",
                  "weather", "vehicles", "casualties", "synthetic")
SEVERITY_RANK = {"fatal": 0, "serious": 1, "slight": 2, "damage_only": 3}
# a UTC offset after a clock time: `...T08:30Z`, `... 08:30:00+08:00`, `...T0830+0800`
_OFFSET = re.compile(r"\d{2}:?\d{2}(?::?\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
_ENCODINGS = ("utf-8-sig", "gb18030")  # UTF-8 (with or without BOM), else Chinese Windows exports


@dataclass
class RawTable:
    """The file's rows as text: header, a frame of well-formed rows (`_row` = 1-based), rejects."""

    header: list[str]
    frame: pd.DataFrame
    rejected: list[tuple[int, str, dict]] = field(default_factory=list)


@dataclass
class ParsedIncidents:
    """Canonical incidents, quarantined rows and the counts that account for every row."""

    incidents: pd.DataFrame
    rejected: list[tuple[int, str, dict]]
    rows_read: int
    rows_collapsed: int
    invalid_values: dict[str, int]


def read_table(path: Path) -> RawTable:
    """A CSV or Parquet file as text cells; structurally broken CSV rows are rejected, not fatal."""
    if not path.is_file():
        raise WxriskError(f"{path}: no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path)
    return _read_csv(path)


def _read_parquet(path: Path) -> RawTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise WxriskError(f"{path}: unreadable Parquet file ({str(exc).splitlines()[0]})") from exc
    text = pd.DataFrame({str(c): ["" if pd.isna(v) else str(v) for v in frame[c]] for c in frame.columns},
                        dtype=object)
    text["_row"] = np.arange(1, len(text) + 1)
    return RawTable(list(map(str, frame.columns)), text)


def _decode(path: Path, data: bytes) -> str:
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise WxriskError(f"{path}: not a text file (neither UTF-8 nor GB18030)")


def _read_csv(path: Path) -> RawTable:
    data = path.read_bytes()
    text = _decode(path, data)
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise WxriskError(f"{path}: unreadable CSV ({exc})") from exc
    if not records or not any(cell.strip() for cell in records[0]):
        raise WxriskError(f"{path}: empty file (no header row)")
    header = [cell.strip() for cell in records[0]]
    rows = records[1:]
    if rows and not text.endswith(("\n", "\r")) and len(rows[-1]) != len(header):
        raise WxriskError(f"{path}: truncated: the last row ({len(rows)}) has {len(rows[-1])} of "
                          f"{len(header)} fields and no line end")
    good, rejected = [], []
    for number, row in enumerate(rows, start=1):
        if len(row) == len(header):
            good.append([*row, number])
        elif not any(cell.strip() for cell in row):
            rejected.append((number, "empty row", {"fields": row}))
        else:
            rejected.append((number, f"{len(row)} fields, header has {len(header)}", {"fields": row}))
    frame = pd.DataFrame(good, columns=[*_unique(header), "_row"], dtype=object)
    return RawTable(header, frame, rejected)


def _unique(header: list[str]) -> list[str]:
    """Header names made unique (a repeated name gets `.1`, `.2`, like pandas does)."""
    seen: Counter = Counter()
    names = []
    for name in header:
        names.append(f"{name}.{seen[name]}" if seen[name] else name)
        seen[name] += 1
    return names


def canonical_text(table: RawTable, mapping: Mapping) -> pd.DataFrame:
    """Canonical columns (text, stripped, null values blanked) picked from the source headers."""
    columns = {}
    for canonical in sorted(CANONICAL_COLUMNS):
        source = next((s for s in mapping.sources_for(canonical) if s in table.frame.columns), None)
        if source is None:
            continue
        values = table.frame[source].astype(str).str.strip()
        nulls = set(mapping.null_values.get(canonical, []))
        columns[canonical] = values.where(~values.isin(nulls), "")
    frame = pd.DataFrame(columns, index=table.frame.index, dtype=object)
    frame["_row"] = table.frame["_row"]
    return frame


def check_required(path: Path, frame: pd.DataFrame, mapping: Mapping) -> None:
    """Raise WxriskError naming the first missing required column (file-level, nothing written)."""
    has = set(frame.columns)
    problems = []
    if "incident_id" not in has:
        problems.append("incident_id")
    if "occurred_at" not in has and "date" not in has:
        problems.append("occurred_at (or date and time)")
    if not ({"lat", "lon"} <= has or {"easting", "northing"} <= has):
        problems.append("lat and lon (or easting and northing)")
    if problems:
        hint = f" (mapping {mapping.name})" if mapping.columns else ""
        raise WxriskError(f"{path}: missing required column {problems[0]}{hint}")
    if {"easting", "northing"} <= has and not mapping.crs:
        raise WxriskError(f"{path}: easting/northing given but the mapping names no crs")


def parse_occurred_utc(frame: pd.DataFrame, mapping: Mapping, tz: str) -> pd.Series:
    """When each incident happened, UTC naive (NaT when unreadable); local times are in `tz`."""
    if "occurred_at" in frame.columns:
        text = frame["occurred_at"]
        has_offset = text.str.contains(_OFFSET)
        aware = pd.to_datetime(text.where(has_offset), utc=True, format="ISO8601", errors="coerce")
        local = pd.to_datetime(text.where(~has_offset), format=mapping.occurred_format or "ISO8601",
                               errors="coerce")
        local_utc = _local_to_utc(local, tz)
        return aware.dt.tz_localize(None).astype(local_utc.dtype).where(has_offset, local_utc)
    date = pd.to_datetime(frame["date"], format=mapping.date_format or "ISO8601", errors="coerce")
    minutes = parse_minutes_of_day(frame["time"], mapping.time_format) if "time" in frame.columns \
        else pd.Series(0.0, index=frame.index)
    return _local_to_utc(date + pd.to_timedelta(minutes, unit="min"), tz)


def _local_to_utc(local: pd.Series, tz: str) -> pd.Series:
    """Local wall-clock times to UTC naive; a skipped hour moves forward, a repeated hour reads as summer time."""
    summer_time = np.ones(len(local), dtype=bool)
    aware = local.dt.tz_localize(tz, nonexistent="shift_forward", ambiguous=summer_time)
    return aware.dt.tz_convert("UTC").dt.tz_localize(None)


def parse_minutes_of_day(text: pd.Series, time_format: str | None) -> pd.Series:
    """Minutes after midnight from `HHMM` integers (`time_format: hhmm`) or a strptime format; NaN if unreadable."""
    if time_format == "hhmm":
        digits = text.where(text.str.fullmatch(r"\d{1,4}"), None)
        value = pd.to_numeric(digits, errors="coerce")
        hours, minutes = value // 100, value % 100
        ok = (hours < 24) & (minutes < 60)
        return (hours * 60 + minutes).where(ok)
    parsed = pd.to_datetime(text, format=time_format or "%H:%M", errors="coerce")
    return (parsed.dt.hour * 60 + parsed.dt.minute).astype(float)


def parse_lonlat(frame: pd.DataFrame, crs: str | None) -> tuple[pd.Series, pd.Series]:
    """WGS84 lon, lat [deg]: from lat/lon where given, else projected from easting/northing in `crs`."""
    lon = _numbers(frame, "lon")
    lat = _numbers(frame, "lat")
    if {"easting", "northing"} <= set(frame.columns):
        easting, northing = _numbers(frame, "easting"), _numbers(frame, "northing")
        use_grid = (lon.isna() | lat.isna()) & easting.notna() & northing.notna()
        if use_grid.any():
            transformer = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
            x, y = transformer.transform(easting[use_grid].to_numpy(), northing[use_grid].to_numpy())
            lon = lon.mask(use_grid, pd.Series(x, index=easting[use_grid].index))
            lat = lat.mask(use_grid, pd.Series(y, index=easting[use_grid].index))
    bad = ~(lon.between(-180, 180) & lat.between(-90, 90))
    return lon.mask(bad), lat.mask(bad)


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    return pd.to_numeric(frame[column], errors="coerce").astype(float).where(lambda v: np.isfinite(v))


def map_category(text: pd.Series, column: str, mapping: Mapping) -> tuple[pd.Series, int]:
    """Canonical values of severity/surface/weather and how many non-empty values did not map."""
    codes = mapping.codes.get(column, {})
    vocabulary = VOCABULARY[column]
    keys = text.map(code_key)
    mapped = keys.map(lambda k: codes.get(k, k if k in vocabulary else None))
    invalid = int(((text != "") & mapped.isna()).sum())
    return mapped.where(mapped != "none", None), invalid


def compose_road_ref(frame: pd.DataFrame, mapping: Mapping) -> pd.Series:
    """Road number: the `road_ref` column, else built from road class code and number (`A6120`)."""
    if "road_ref" in frame.columns:
        return frame["road_ref"].where(frame["road_ref"] != "", None)
    if not ({"road_class", "road_number"} <= set(frame.columns) and mapping.road_ref_formats):
        return pd.Series(None, index=frame.index, dtype=object)
    formats = frame["road_class"].map(code_key).map(mapping.road_ref_formats)
    numbers = frame["road_number"].map(code_key)
    return pd.Series([fmt.format(number=n) if isinstance(fmt, str) and n else None
                      for fmt, n in zip(formats, numbers, strict=True)], index=frame.index, dtype=object)


def _counts(frame: pd.DataFrame, column: str) -> tuple[pd.Series, int]:
    """Non-negative integer counts; how many non-empty values were not such counts."""
    if column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64"), 0
    value = pd.to_numeric(frame[column], errors="coerce")
    ok = value.notna() & (value >= 0) & (value == np.floor(value))
    invalid = int(((frame[column] != "") & ~ok).sum())
    return value.where(ok).astype("Int64"), invalid


def parse_incidents(path: str | Path, mapping: Mapping, tz: str) -> ParsedIncidents:
    """Read a file with a mapping: canonical incidents (UTC), quarantined rows and counts."""
    path = Path(path)
    table = read_table(path)
    text = canonical_text(table, mapping)
    check_required(path, text, mapping)
    out = pd.DataFrame(index=text.index)
    out["_row"] = text["_row"]
    out["incident_id"] = text["incident_id"]
    out["occurred_at"] = parse_occurred_utc(text, mapping, tz)
    out["lon"], out["lat"] = parse_lonlat(text, mapping.crs)
    out["road_ref"] = compose_road_ref(text, mapping)
    invalid: dict[str, int] = {}
    for column in ("severity", "surface", "weather"):
        source = text[column] if column in text.columns else pd.Series("", index=text.index)
        out[column], invalid[column] = map_category(source, column, mapping)
    for column in ("vehicles", "casualties"):
        out[column], invalid[column] = _counts(text, column)
    synthetic = text["synthetic"].map(parse_bool) if "synthetic" in text.columns else None
    out["synthetic"] = False if synthetic is None else synthetic.eq(True)

    reasons = row_reasons(text, out)
    bad = reasons != ""
    raw_rows = table.frame.loc[bad, table.frame.columns.drop("_row")]
    rejected = table.rejected + [
        (int(row), reason, dict(zip(table.header, values, strict=True)))
        for row, reason, values in zip(out.loc[bad, "_row"], reasons[bad], raw_rows.itertuples(index=False),
                                       strict=True)
    ]
    good = out[~bad]
    incidents = collapse_rows(good, mapping.casualties_from_rows)
    return ParsedIncidents(
        incidents=incidents,
        rejected=sorted(rejected, key=lambda r: r[0]),
        rows_read=len(table.frame) + len(table.rejected),
        rows_collapsed=len(good) - len(incidents),
        invalid_values={k: v for k, v in invalid.items() if v},
    )


def row_reasons(text: pd.DataFrame, out: pd.DataFrame) -> pd.Series:
    """Why each row cannot be an incident (`; `-joined), empty when it can."""
    checks = [
        (out["incident_id"] == "", "missing incident_id"),
        (out["occurred_at"].isna(), "unreadable " + _time_fields(text)),
        (out["lon"].isna() | out["lat"].isna(), "missing or unreadable coordinates"),
    ]
    reasons = pd.Series("", index=out.index, dtype=object)
    for failed, reason in checks:
        reasons = reasons.where(~failed, reasons + np.where(reasons == "", "", "; ") + reason)
    return reasons


def _time_fields(text: pd.DataFrame) -> str:
    return "occurred_at" if "occurred_at" in text.columns else "date/time"


def collapse_rows(rows: pd.DataFrame, casualties_from_rows: bool) -> pd.DataFrame:
    """One incident per id: first non-empty values, the worst severity, casualties counted if one row each."""
    rows = rows.sort_values("_row")
    grouped = rows.groupby("incident_id", sort=False)
    incidents = grouped.first()
    rank = rows["severity"].map(SEVERITY_RANK)
    worst = rank.groupby(rows["incident_id"], sort=False).min()
    by_rank = {v: k for k, v in SEVERITY_RANK.items()}
    incidents["severity"] = worst.map(by_rank).reindex(incidents.index)
    incidents["severity"] = incidents["severity"].astype(object).where(incidents["severity"].notna(), None)
    if casualties_from_rows:
        incidents["casualties"] = grouped.size().astype("Int64")
    incidents = incidents.reset_index()
    return incidents.sort_values("_row")[[*OUTPUT_COLUMNS, "_row"]].reset_index(drop=True)
