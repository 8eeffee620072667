"""The incidents importer: a CSV/Parquet export -> `incidents` (UTC), matched to road segments."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from wxrisk.config import Settings
from wxrisk.incidents.mapping import load_mapping
from wxrisk.incidents.parse import OUTPUT_COLUMNS, parse_incidents
from wxrisk.roads.matching import SegmentIndex
from wxrisk.store.db import transaction
from wxrisk.store.ledger import ImportEntry, ImportResult, run_import

INCIDENT_COLUMNS = (*OUTPUT_COLUMNS, "segment_id", "match_distance_m", "source", "import_id")


def _ids_taken_elsewhere(con: duckdb.DuckDBPyConnection, ids: pd.Series, window_key: str) -> dict[str, str]:
    """Incident ids of this file already imported from another file: id -> that file's window key."""
    con.register("new_incident_ids", pd.DataFrame({"incident_id": ids.astype(object)}))
    try:
        rows = con.execute(
            "SELECT i.incident_id, i.source FROM incidents i JOIN new_incident_ids n USING (incident_id) "
            "WHERE i.source <> ?", [window_key]).fetchall()
    finally:
        con.unregister("new_incident_ids")
    return dict(rows)


def import_incidents(con: duckdb.DuckDBPyConnection, settings: Settings, path: str | Path,
                     preset: str = "generic", mapping: str | Path | None = None,
                     tz: str | None = None) -> ImportResult:
    """Import an incidents file with a preset or a YAML mapping -> ImportResult.

    Local times are read in `tz`, else the mapping's time zone, else `settings.timezone`.
    Incidents are matched to segments within `settings.match_tolerance_m`.
    """
    rules = load_mapping(preset, mapping)
    parsed = parse_incidents(path, rules, tz or rules.timezone or settings.timezone)
    window_key = f"incidents:{Path(path).name}"
    incidents = parsed.incidents.copy()
    incidents["segment_id"], incidents["match_distance_m"] = SegmentIndex.from_db(con).match(
        incidents["lon"].to_numpy(), incidents["lat"].to_numpy(), incidents["road_ref"].to_numpy(),
        settings.match_tolerance_m)

    def write(entry: ImportEntry) -> None:
        entry.replace_rows("incidents")
        taken = _ids_taken_elsewhere(con, incidents["incident_id"], window_key)
        clash = incidents["incident_id"].isin(taken)
        kept = incidents[~clash].assign(source=window_key, import_id=entry.import_id)[list(INCIDENT_COLUMNS)]
        con.register("new_incidents", kept)
        try:
            con.execute(f"INSERT INTO incidents ({', '.join(INCIDENT_COLUMNS)}) SELECT * FROM new_incidents")
        finally:
            con.unregister("new_incidents")
        clashes = [(int(row), f"incident_id {i} already imported from {taken[i]}", {"incident_id": i})
                   for i, row in zip(incidents.loc[clash, "incident_id"], incidents.loc[clash, "_row"],
                                     strict=True)]
        entry.quarantine(parsed.rejected + clashes)
        entry.rows_read = parsed.rows_read
        entry.rows_kept = len(kept)
        entry.details = {
            "rows_collapsed": parsed.rows_collapsed,
            "matched": int(kept["segment_id"].notna().sum()),
            "unmatched": int(kept["segment_id"].isna().sum()),
            "match_tolerance_m": settings.match_tolerance_m,
            "invalid_values": parsed.invalid_values,
            "mapping": rules.name,
        }

    return run_import(con, "incidents", path, window_key, write)


def rematch_incidents(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """Match every stored incident again to the current segments; returns how many are matched."""
    stored = con.execute("SELECT incident_id, lon, lat, road_ref FROM incidents").df()
    segment_ids, distance_m = SegmentIndex.from_db(con).match(
        stored["lon"].to_numpy(), stored["lat"].to_numpy(), stored["road_ref"].to_numpy(dtype=object),
        settings.match_tolerance_m)
    matches = pd.DataFrame({"incident_id": stored["incident_id"].astype(object),
                            "segment_id": segment_ids, "match_distance_m": distance_m})
    con.register("incident_matches", matches)
    try:
        with transaction(con):
            con.execute(
                "UPDATE incidents SET segment_id = m.segment_id, match_distance_m = m.match_distance_m "
                "FROM incident_matches m WHERE incidents.incident_id = m.incident_id")
    finally:
        con.unregister("incident_matches")
    return int(pd.notna(segment_ids).sum())
