"""Incident files to canonical rows: read, rename, check, convert, validate, deduplicate.

Every data row ends up in exactly one place: an incident, a row merged into an earlier row of
the same incident (only where the mapping declares `duplicate_ids: merge`), or the quarantine
with its 1-based row number, the reason and the value read. Anything that would change meaning
for the whole file (a mapped column missing, a date format the data contradict, codes that do
not match) stops the import before anything is written.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

import numpy as np
import pandas as pd

from wxrisk.config import WxriskError
from wxrisk.incidents.mapping import CANONICAL_COLUMNS, VOCABULARY, Mapping, code_key
from wxrisk.incidents.positions import parse_positions
from wxrisk.incidents.reading import RawTable, read_table
from wxrisk.incidents.times import parse_times
from wxrisk.roads.tags import parse_bool
from wxrisk.vocab import haversine_km

OUTPUT_COLUMNS = ("incident_id", "occurred_at", "lat", "lon", "road_ref", "severity", "surface",
                  "weather", "vehicles", "casualties", "synthetic")
SEVERITY_RANK = {"fatal": 0, "serious": 1, "slight": 2, "damage_only": 3}
MERGE_DISTANCE_KM = 0.2  # rows of one incident (casualty rows) lie within this distance [km]
MIN_ROWS_FOR_CONSTANT_WARNING = 20
RELATED = (("surface", "weather"), ("weather", "surface"))
REQUIRED = "incident_id; occurred_at or date (+ time, or hour [+ minute]); lat + lon or easting + northing"


@dataclass
class ParsedIncidents:
    """Canonical incidents, quarantined rows and the counts that account for every row."""

    incidents: pd.DataFrame
    rejected: list[tuple[int, str, dict]]
    rows_read: int
    rows_merged: int
    invalid_values: dict[str, int] = field(default_factory=dict)
    invalid_examples: dict[str, list[str]] = field(default_factory=dict)
    absent_optional: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = ","
    positions_from_grid: int = 0


def canonical_text(table: RawTable, mapping: Mapping) -> pd.DataFrame:
    """Canonical columns (text, stripped, null values blanked) picked from the source headers."""
    columns = {}
    for canonical in mapping.mapped_columns() + _unmapped_canonical(table, mapping):
        source = next((s for s in mapping.sources_for(canonical) if s in table.frame.columns), None)
        if source is None:
            continue
        values = table.frame[source].astype(str).str.strip()
        nulls = set(mapping.null_values.get(canonical, []))
        columns[canonical] = values.where(~values.isin(nulls), "")
    frame = pd.DataFrame(columns, index=table.frame.index, dtype=object)
    frame["_row"] = table.frame["_row"]
    return frame


def _unmapped_canonical(table: RawTable, mapping: Mapping) -> list[str]:
    """Canonical names present in the file as headers that the mapping does not map to."""
    mapped = set(mapping.mapped_columns())
    return [c for c in CANONICAL_COLUMNS if c not in mapped and c in table.frame.columns]


def check_columns(path: Path, table: RawTable, frame: pd.DataFrame, mapping: Mapping) -> list[str]:
    """Raise WxriskError for a mapped column missing from the file or a required one missing;
    return the optional columns that are absent."""
    has = set(frame.columns)
    absent_optional = []
    for canonical in mapping.mapped_columns():
        if canonical in has:
            continue
        if canonical in mapping.optional:
            absent_optional.append(canonical)
            continue
        sources = mapping.sources_for(canonical)[:-1]
        named = (f"column {sources[0]!r}" if len(sources) == 1
                 else "none of the columns " + ", ".join(repr(s) for s in sources))
        raise WxriskError(f"{path}: {named} ({canonical} in mapping {mapping.name}) is not in the file"
                          f"{_did_you_mean(sources, table.header)}; {table.describe_layout()}")
    absent_optional += [c for c in mapping.optional if c not in has and c not in mapping.mapped_columns()]
    problems = []
    if "incident_id" not in has:
        problems.append("incident_id")
    if "occurred_at" not in has and "date" not in has:
        problems.append("occurred_at (or date)")
    if not ({"lat", "lon"} <= has or {"easting", "northing"} <= has):
        problems.append("lat and lon (or easting and northing)")
    if problems:
        raise WxriskError(f"{path}: missing required column {problems[0]} (with {mapping.name}; required: "
                          f"{REQUIRED}); {table.describe_layout()}")
    if "minute" in has and "hour" not in has and "time" not in has:
        raise WxriskError(f"{path}: a minute column without an hour column (mapping {mapping.name})")
    if {"easting", "northing"} <= has and not mapping.crs:
        raise WxriskError(f"{path}: easting/northing given but mapping {mapping.name} names no crs (e.g. EPSG:27700)")
    return absent_optional


def _did_you_mean(sources: list[str], header: list[str]) -> str:
    """` (did you mean 'X'?)` for a header close to, or containing or contained in, a missing one."""
    close = [h for s in sources for h in difflib.get_close_matches(s, header, n=1, cutoff=0.6)]
    close += [h for s in sources for h in header if len(h) >= 3 and (h.lower() in s.lower() or s.lower() in h.lower())]
    return f" (did you mean {close[0]!r}?)" if close else ""


def map_category(text: pd.Series, column: str, mapping: Mapping) -> tuple[pd.Series, pd.Series]:
    """Canonical values of severity/surface/weather and a mask of non-empty values that did not map."""
    codes = mapping.codes.get(column, {})
    vocabulary = VOCABULARY[column]
    keys = text.map(code_key)
    mapped = keys.map(lambda k: codes.get(k, k if k in vocabulary else None))
    invalid = (text != "") & mapped.isna()
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


def _counts(frame: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series]:
    """Non-negative integer counts and a mask of non-empty values that were not such counts."""
    if column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64"), pd.Series(False, index=frame.index)
    value = pd.to_numeric(frame[column], errors="coerce")
    ok = value.notna() & (value >= 0) & (value == np.floor(value))
    return value.where(ok).astype("Int64"), (frame[column] != "") & ~ok


def refuse_unknown_codes(path: Path, column: str, text: pd.Series, invalid: pd.Series, mapping: Mapping,
                         max_share: float) -> None:
    """Refuse a file whose category column mostly holds values the mapping does not know."""
    given = int((text != "").sum())
    if given and invalid.sum() > max_share * given:
        examples = ", ".join(f"{v!r} ×{n}" for v, n in Counter(text[invalid]).most_common(3))
        known = sorted(set(mapping.codes.get(column, {})) | set(VOCABULARY[column]))
        raise WxriskError(f"{path}: {column}: {int(invalid.sum())} of {given} values are not codes mapping "
                          f"{mapping.name} knows ({examples}); known: {', '.join(known)} "
                          f"(add them under codes: {column}, or choose another preset)")


def refuse_swapped(path: Path, evidence: str | None, mapping: Mapping) -> None:
    """Refuse a file whose lat and lon look exchanged (never swapped back quietly)."""
    if evidence:
        lat_source, lon_source = mapping.sources_for("lat")[0], mapping.sources_for("lon")[0]
        raise WxriskError(f"{path}: lat and lon look swapped: {evidence}; if the file has them the other way "
                          f"round, map columns: {{{lat_source}: lon, {lon_source}: lat}}")


def parse_incidents(path: str | Path, mapping: Mapping, zone: tzinfo, encoding: str | None = None,
                    max_quarantined: float = 0.5) -> ParsedIncidents:
    """Read a file with a mapping: canonical incidents (UTC), quarantined rows, counts and warnings."""
    path = Path(path)
    table = read_table(path, encoding or mapping.encoding, mapping.delimiter)
    text = canonical_text(table, mapping)
    absent_optional = check_columns(path, table, text, mapping)
    out = pd.DataFrame(index=text.index)
    out["_row"] = text["_row"]
    out["incident_id"] = text["incident_id"]
    times = parse_times(text, mapping.date_format, mapping.time_format, mapping.occurred_format, zone, str(path),
                        max_quarantined)
    out["occurred_at"] = times.utc
    positions = parse_positions(text, mapping.crs, decimal_comma=table.delimiter not in (",", ""))
    refuse_swapped(path, positions.swapped, mapping)
    out["lon"], out["lat"] = positions.lon, positions.lat
    out["road_ref"] = compose_road_ref(text, mapping)
    invalid: dict[str, pd.Series] = {}
    for column in ("severity", "surface", "weather"):
        source = text[column] if column in text.columns else pd.Series("", index=text.index)
        out[column], invalid[column] = map_category(source, column, mapping)
        refuse_unknown_codes(path, column, source, invalid[column], mapping, max_quarantined)
    for column in ("vehicles", "casualties"):
        out[column], invalid[column] = _counts(text, column)
    synthetic = text["synthetic"].map(parse_bool) if "synthetic" in text.columns else None
    out["synthetic"] = False if synthetic is None else synthetic.eq(True)

    reasons = join_reasons([
        pd.Series(np.where(out["incident_id"] == "", "missing incident_id", ""), index=out.index),
        times.reasons, positions.reasons])
    good = out[reasons == ""]
    incidents, merged, duplicates = deduplicate(good, mapping)
    reasons = reasons.where(reasons != "", duplicates.reindex(reasons.index, fill_value=""))
    rejected = table.rejected + _raw_rows(table, out["_row"], reasons)
    warnings = list(positions.warnings)
    if times.no_time_of_day:
        warnings.append("no time of day in the file (no time or hour column mapped): incidents placed at "
                        "local midnight")
    warnings += constant_column_warnings(out)
    kept_rows = set(incidents["_row"])
    invalid_kept = {c: mask & out["_row"].isin(kept_rows) for c, mask in invalid.items()}
    return ParsedIncidents(
        incidents=incidents,
        rejected=sorted(rejected, key=lambda r: r[0]),
        rows_read=len(table.frame) + len(table.rejected),
        rows_merged=merged,
        invalid_values={c: int(m.sum()) for c, m in invalid_kept.items() if m.any()},
        invalid_examples={c: [str(v) for v, _ in Counter(text.loc[m, c]).most_common(3)]
                          for c, m in invalid_kept.items() if m.any()},
        absent_optional=absent_optional,
        warnings=warnings,
        encoding=table.encoding,
        delimiter=table.delimiter,
        positions_from_grid=positions.from_grid,
    )


def join_reasons(parts: list[pd.Series]) -> pd.Series:
    """Per-row reasons joined with `; ` (empty where a row has none)."""
    reasons = pd.Series("", index=parts[0].index, dtype=object)
    for part in parts:
        joined = pd.Series(np.where(reasons == "", part, reasons + "; " + part), index=reasons.index)
        reasons = reasons.where(part == "", joined)
    return reasons


def _raw_rows(table: RawTable, rows: pd.Series, reasons: pd.Series) -> list[tuple[int, str, dict]]:
    bad = reasons != ""
    raw = table.frame.loc[bad, table.frame.columns.drop("_row")]
    return [(int(row), reason, dict(zip(table.header, values, strict=True)))
            for row, reason, values in zip(rows[bad], reasons[bad], raw.itertuples(index=False), strict=True)]


def deduplicate(rows: pd.DataFrame, mapping: Mapping) -> tuple[pd.DataFrame, int, pd.Series]:
    """One incident per id -> (incidents, rows merged, reasons of the rows quarantined as duplicates).

    `duplicate_ids: quarantine` keeps an id's first row and quarantines the others. `merge` folds
    rows of one incident into its first row (worst severity; with `casualties_from_rows` the row
    count as casualties) unless a row disagrees with the first on time or place: that one is
    quarantined, since it is another incident under the same id.
    """
    rows = rows.sort_values("_row")
    later = rows["incident_id"].duplicated()
    firsts = rows[~later].set_index("incident_id")
    quarantined: dict = {}
    for index, row in rows[later].iterrows():
        first = firsts.loc[row["incident_id"]]
        if mapping.duplicate_ids == "merge":
            if row["occurred_at"] != first["occurred_at"]:
                conflict = f"at another time ({row['occurred_at']:%Y-%m-%d %H:%M} UTC)"
            elif haversine_km(row["lon"], row["lat"], first["lon"], first["lat"]) > MERGE_DISTANCE_KM:
                conflict = f"at another place ({row['lat']:.5f}, {row['lon']:.5f})"
            else:
                continue
            reason = f"incident_id {row['incident_id']!r} repeats row {int(first['_row'])} {conflict}"
        else:
            reason = f"duplicate incident_id {row['incident_id']!r} (first at row {int(first['_row'])})"
        quarantined[index] = reason
    reasons = pd.Series(quarantined, dtype=object)
    if mapping.duplicate_ids == "merge":
        merged_rows = rows.drop(index=reasons.index)
        incidents = _merge(merged_rows, mapping.casualties_from_rows)
        return incidents, len(merged_rows) - len(incidents), reasons
    incidents = rows[~later][[*OUTPUT_COLUMNS, "_row"]].reset_index(drop=True)
    return incidents, 0, reasons


def _merge(rows: pd.DataFrame, casualties_from_rows: bool) -> pd.DataFrame:
    """Rows of one id folded: first non-empty values, the worst severity, casualties counted if one row each."""
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


def constant_column_warnings(out: pd.DataFrame) -> list[str]:
    """Name a surface (weather) column with one value on every row while weather (surface) varies."""
    warnings = []
    for column, related in RELATED:
        values, other = out[column].dropna(), out[related].dropna()
        if len(values) < MIN_ROWS_FOR_CONSTANT_WARNING or len(values) < len(out) // 2:
            continue
        if values.nunique() == 1 and other.nunique() > 1:
            spread = ", ".join(f"{k} {n}" for k, n in other.value_counts().head(4).items())
            warnings.append(f"{column} is {values.iloc[0]!r} on every one of {len(values)} rows while {related} "
                            f"varies ({spread}): check the {column} column and its codes")
    return warnings
