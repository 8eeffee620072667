"""The incidents importer: a CSV/Parquet export -> `incidents` (UTC), matched to road segments.

The contract (docs/importers.md): every row read is kept, quarantined with its reason and value,
or merged under the mapping's declared rule, and the counts add up. A file whose rows would be
quarantined beyond `max_quarantined` (a share, default half) is refused and nothing is written.

Source (`window_key`): `incidents:<resolved path>`, so files of the same name in two folders are
two sources. Identity: the bytes plus the preset/mapping content, time zone and encoding, so a
re-import with a fixed mapping or `tz` replaces that source's rows in one transaction.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import duckdb
import pandas as pd

from wxrisk.config import Settings, WxriskError
from wxrisk.incidents.mapping import Mapping, load_mapping
from wxrisk.incidents.parse import OUTPUT_COLUMNS, ParsedIncidents, parse_incidents, refuse_swapped
from wxrisk.incidents.positions import extent_swap_evidence
from wxrisk.incidents.timezones import check_zone
from wxrisk.roads.matching import SegmentIndex
from wxrisk.store.db import transaction
from wxrisk.store.ledger import (
    CurrentImport,
    ImportEntry,
    ImportResult,
    find_source,
    retire_source,
    run_import,
)
from wxrisk.vocab import frame_registered, insert_frame

INCIDENT_COLUMNS = (*OUTPUT_COLUMNS, "segment_id", "match_distance_m", "source", "import_id")
KIND = "incidents"
DEFAULT_MAX_QUARANTINED = 0.5


def source_key(path: str | Path) -> str:
    """The source a file's rows belong to: its resolved path (same name, other folder: other source)."""
    return f"{KIND}:{Path(path).expanduser().resolve()}"


def _ids_taken_elsewhere(con: duckdb.DuckDBPyConnection, ids: pd.Series, window_key: str) -> dict[str, str]:
    """Incident ids of this file already imported from another source: id -> that source's path."""
    with frame_registered(con, "new_incident_ids", pd.DataFrame({"incident_id": ids.astype(object)})):
        rows = con.execute(
            "SELECT i.incident_id, i.source FROM incidents i JOIN new_incident_ids n USING (incident_id) "
            "WHERE i.source <> ?", [window_key]).fetchall()
    return {incident_id: source.removeprefix(f"{KIND}:") for incident_id, source in rows}


def import_options(rules: Mapping, tz: str, encoding: str) -> dict:
    """The options that change what the rows mean: part of the import's identity."""
    return {"mapping_sha256": rules.content_sha256, "timezone": tz, "encoding": encoding}


def import_incidents(con: duckdb.DuckDBPyConnection, settings: Settings, path: str | Path,
                     preset: str | None = "generic", mapping: str | Path | None = None,
                     tz: str | None = None, encoding: str | None = None,
                     max_quarantined: float = DEFAULT_MAX_QUARANTINED, replace: str | None = None,
                     source: str | Path | None = None) -> ImportResult:
    """Import an incidents file with a preset or a YAML mapping -> ImportResult.

    Local times are read in `tz`, else the mapping's time zone, else `settings.timezone` (a row's
    `tz` column wins). `replace` names an earlier import (id, path or source) whose rows this
    file's rows replace in the same transaction. `source` names the source the rows belong to when
    it is not the file's own path (the inbox: where the file is kept once imported). Refusals raise
    WxriskError and write nothing.
    """
    if not 0 <= max_quarantined <= 1:
        raise WxriskError(f"--max-quarantined {max_quarantined}: a share between 0 and 1")
    rules = load_mapping(preset, mapping)
    zone_name = tz or rules.timezone or settings.timezone
    zone = check_zone(zone_name, "--tz" if tz else "time zone")
    parsed = parse_incidents(path, rules, zone, encoding, max_quarantined)
    refuse_if_mostly_quarantined(path, parsed.rows_read, parsed.rejected, max_quarantined)
    window_key = source_key(source or path)
    retired = find_source(con, replace) if replace else None
    if retired is not None and retired.window_key == window_key:
        retired = None  # the file replaces its own source anyway
    incidents = parsed.incidents.copy()
    index = SegmentIndex.from_db(con)
    incidents["segment_id"], incidents["match_distance_m"] = index.match(
        incidents["lon"].to_numpy(), incidents["lat"].to_numpy(), incidents["road_ref"].to_numpy(),
        settings.match_tolerance_m)
    refuse_swapped(path, extent_swap_evidence(incidents["lon"], incidents["lat"], network_extent(con)), rules)
    warnings = list(parsed.warnings)

    def write(entry: ImportEntry) -> None:
        if retired is not None:
            retire_source(con, retired)
        entry.replace_rows("incidents")
        taken = _ids_taken_elsewhere(con, incidents["incident_id"], window_key)
        clash = incidents["incident_id"].isin(taken)
        clashes = [(int(row), f"incident_id {i!r} already imported from {taken[i]}", {"incident_id": i})
                   for i, row in zip(incidents.loc[clash, "incident_id"], incidents.loc[clash, "_row"], strict=True)]
        refuse_if_mostly_quarantined(path, parsed.rows_read, parsed.rejected + clashes, max_quarantined,
                                     hint=_replace_hint(taken) if clashes else "")
        kept = incidents[~clash].assign(source=window_key, import_id=entry.import_id)[list(INCIDENT_COLUMNS)]
        insert_frame(con, "incidents", kept, INCIDENT_COLUMNS)
        entry.quarantine(parsed.rejected + clashes)
        entry.rows_read = parsed.rows_read
        entry.rows_kept = len(kept)
        entry.details = _details(parsed, kept, settings, rules, warnings, retired)
        accounted = entry.rows_kept + entry.rows_quarantined + parsed.rows_merged
        if accounted != entry.rows_read:
            raise RuntimeError(f"{path}: {entry.rows_read} rows read but {accounted} accounted for")

    options = import_options(rules, zone_name, parsed.encoding)
    return run_import(con, KIND, path, window_key, write, options=options)


def _details(parsed: ParsedIncidents, kept: pd.DataFrame, settings: Settings, rules: Mapping,
             warnings: list[str], retired: CurrentImport | None) -> dict:
    details = {
        "rows_merged": parsed.rows_merged,
        "matched": int(kept["segment_id"].notna().sum()),
        "unmatched": int(kept["segment_id"].isna().sum()),
        "match_tolerance_m": settings.match_tolerance_m,
        "invalid_values": parsed.invalid_values,
        "invalid_examples": parsed.invalid_examples,
        "absent_optional": parsed.absent_optional,
        "positions_from_grid": parsed.positions_from_grid,
        "warnings": warnings,
        "mapping": rules.name,
        "encoding": parsed.encoding,
        "delimiter": parsed.delimiter,
    }
    if retired is not None:
        details["replaced_source"] = retired.path
    return details


def _replace_hint(taken: dict[str, str]) -> str:
    other = Counter(taken.values()).most_common(1)[0][0]
    return f"; if this file supersedes {other}, import it with --replace {other} (or `wxrisk import remove` it first)"


def refuse_if_mostly_quarantined(path: str | Path, rows_read: int, rejected: list[tuple[int, str, dict]],
                                 max_share: float, hint: str = "") -> None:
    """Refuse the file (nothing written) when more than `max_share` of its rows would be quarantined."""
    if not rows_read or len(rejected) <= max_share * rows_read:
        return
    kinds = Counter(_reason_kind(reason) for _, reason, _ in rejected)
    first_of_kind: dict[str, tuple[int, str]] = {}
    for row, reason, _ in sorted(rejected, key=lambda r: r[0]):
        first_of_kind.setdefault(_reason_kind(reason), (row, reason))
    shown = "; ".join(f"{kind} ×{n} (first: row {first_of_kind[kind][0]}: {first_of_kind[kind][1]})"
                      for kind, n in kinds.most_common(3))
    raise WxriskError(f"{path}: refused: {len(rejected)} of {rows_read} rows would be quarantined (more than "
                      f"{max_share:.0%}): {shown}{_mangled_id_hint(rejected)}{hint}; nothing imported "
                      "(--max-quarantined 1 keeps the readable rows anyway)")


def _reason_kind(reason: str) -> str:
    """The reason without its values: `unreadable date '31/02' (expected ...)` -> `unreadable date …`."""
    kind = reason
    while (shorter := re.sub(r"\s*\([^()]*\)", "", kind)) != kind:
        kind = shorter
    kind = re.sub(r"'[^']*'|\"[^\"]*\"", "…", kind)
    return re.sub(r"(?<![\w/.-])-?\d+(\.\d+)?(?![\w/.-])", "N", kind).strip()


def _mangled_id_hint(rejected: list[tuple[int, str, dict]]) -> str:
    duplicates = [reason for _, reason, _ in rejected
                  if reason.startswith("duplicate incident_id") or " repeats row " in reason]
    if any("E+" in reason.upper() or "E-" in reason.upper() for reason in duplicates[:50]):
        return ("; the ids are in scientific notation (a spreadsheet rounded them): export the id column "
                "as text")
    return ""


def network_extent(con: duckdb.DuckDBPyConnection) -> tuple[float, float, float, float] | None:
    """The road network's extent (W, S, E, N) [deg], None without roads."""
    row = con.execute("SELECT min(lon), min(lat), max(lon), max(lat) FROM segments").fetchone()
    return None if row is None or row[0] is None else tuple(float(v) for v in row)


def rematch_incidents(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """Match every stored incident again to the current segments; returns how many are matched."""
    stored = con.execute("SELECT incident_id, lon, lat, road_ref FROM incidents").df()
    segment_ids, distance_m = SegmentIndex.from_db(con).match(
        stored["lon"].to_numpy(), stored["lat"].to_numpy(), stored["road_ref"].to_numpy(dtype=object),
        settings.match_tolerance_m)
    matches = pd.DataFrame({"incident_id": stored["incident_id"].astype(object),
                            "segment_id": segment_ids, "match_distance_m": distance_m})
    with frame_registered(con, "incident_matches", matches), transaction(con):
        con.execute(
            "UPDATE incidents SET segment_id = m.segment_id, match_distance_m = m.match_distance_m "
            "FROM incident_matches m WHERE incidents.incident_id = m.incident_id")
    return int(pd.notna(segment_ids).sum())
