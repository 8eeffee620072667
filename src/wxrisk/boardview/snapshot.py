"""Read-only queries of a published board snapshot (see `wxrisk.store.publish`).

Every function takes a read-only connection from `open_board` and returns plain Python or a
DataFrame; timestamps stay UTC (naive) here and are shown in local time by `to_local`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import pandas as pd

from wxrisk.levels import TIER_RANK
from wxrisk.vocab import to_local as to_local  # the pages call it snapshot.to_local


@dataclass(frozen=True)
class RunInfo:
    """The published run: its window (UTC), weather, model and flags."""

    run_id: str
    start_time: datetime
    hours: int
    weather_kind: str | None
    weather_issued_at: datetime | None
    model_version: str | None
    missing_inputs: list[str]
    synthetic: bool
    message: str | None
    published_at: datetime | None
    feature_labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (zh, en)

    def valid_hours(self) -> list[datetime]:
        """Every valid hour of the run [UTC]."""
        return [self.start_time + timedelta(hours=i) for i in range(self.hours)]


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database()"
    ).fetchall()}


def _parse_json_list(text: str | None) -> list[str]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [text]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def run_info(con: duckdb.DuckDBPyConnection) -> RunInfo:
    """The snapshot's single run row (with the publication time when recorded)."""
    row = con.execute(
        "SELECT run_id, start_time, hours, weather_kind, weather_issued_at, model_version, "
        "missing_inputs, synthetic, message FROM runs ORDER BY created_at DESC LIMIT 1"
    ).fetchone()
    published_at = None
    tables = table_names(con)
    if "published" in tables:
        found = con.execute("SELECT max(published_at) FROM published").fetchone()
        published_at = found[0] if found else None
    labels = {}
    if "feature_labels" in tables:
        labels = {name: (zh, en) for name, zh, en in con.execute(
            "SELECT name, label_zh, label_en FROM feature_labels").fetchall()}
    return RunInfo(
        run_id=row[0], start_time=row[1], hours=int(row[2]), weather_kind=row[3],
        weather_issued_at=row[4], model_version=row[5], missing_inputs=_parse_json_list(row[6]),
        synthetic=bool(row[7]), message=row[8], published_at=published_at, feature_labels=labels,
    )


def default_hour_index(start_utc: datetime, hours: int, now_utc: datetime, after_end_index: int | None = None) -> int:
    """Index of the hour containing `now_utc` in a run starting at `start_utc`, clamped to the window;
    once the window is over, `after_end_index` (e.g. the busiest hour) when given."""
    elapsed_h = (now_utc - start_utc).total_seconds() // 3600
    if elapsed_h >= hours and after_end_index is not None:
        return after_end_index
    return int(min(max(elapsed_h, 0), hours - 1))


def busiest_hour_index(con: duckdb.DuckDBPyConnection, start_utc: datetime) -> int:
    """Hours from `start_utc` to the valid hour where the board is at its worst: the most tiered
    segments, weighted by tier (red 4 ... blue 1), then the largest summed risk (a dry rush hour,
    high in risk of any incident, is not the storm's peak)."""
    ranks = " ".join(f"WHEN '{tier}' THEN {rank}" for tier, rank in TIER_RANK.items())
    row = con.execute(
        f"SELECT valid_time FROM risk GROUP BY valid_time "
        f"ORDER BY sum(CASE tier {ranks} ELSE 0 END) DESC, sum(risk) DESC, valid_time LIMIT 1"
    ).fetchone()
    return 0 if row is None else int((row[0] - start_utc).total_seconds() // 3600)


def segment_paths(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Segments of the board with their geometry as a list of [lon, lat] (for a PathLayer) and the
    `chain` their K-stakes count along, ordered along each chain."""
    frame = con.execute(
        f"SELECT segment_id, road_ref, name, province, km_from, km_to, lon, lat, path_json, bridge, tunnel, "
        f"{_chain_expression(con)} AS chain FROM segments ORDER BY chain, km_from"
    ).df()
    frame["path"] = [json.loads(p) for p in frame.pop("path_json")]
    return frame


def column_names(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {row[0] for row in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_catalog = current_database()",
        [table]).fetchall()}


def _warning_columns(con: duckdb.DuckDBPyConnection) -> str:
    """The risk table's warning columns, `'none'` on boards made before they existed."""
    present = column_names(con, "risk")
    return ", ".join(f"{c}" if c in present else f"'none' AS {c}" for c in ("icing_warning", "visibility_warning"))


def risk_at_hour(con: duckdb.DuckDBPyConnection, valid_time: datetime) -> pd.DataFrame:
    """`segment_id, risk, tier, top_drivers, top_drivers_en, icing_warning, visibility_warning` for
    one valid hour [UTC]."""
    return con.execute(
        f"SELECT segment_id, risk, tier, top_drivers, top_drivers_en, {_warning_columns(con)} FROM risk "
        "WHERE valid_time = ?",
        [valid_time],
    ).df()


def shows_osm_bridges(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the board shows the demo world's bridges taken from OpenStreetMap (a synthetic run
    with bridges in 安徽), whose licence asks for the attribution on every map."""
    return bool(con.execute(
        "SELECT (SELECT bool_or(synthetic) FROM runs) AND (SELECT count(*) > 0 FROM segments "
        "WHERE province = '安徽' AND bridge)").fetchone()[0])


def filter_options(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """Provinces and road numbers present in the snapshot, sorted."""
    provinces = [r[0] for r in con.execute(
        "SELECT DISTINCT province FROM segments WHERE province IS NOT NULL ORDER BY 1").fetchall()]
    roads = [r[0] for r in con.execute(
        "SELECT DISTINCT road_ref FROM segments WHERE road_ref IS NOT NULL ORDER BY 1").fetchall()]
    return provinces, roads


def stretches(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The priority list: stretches with their first measure (the one to start first) and their
    dispatch, in priority order (boards made before the list: by tier, then peak risk).

    Columns: the `stretches` table plus `measure_id, measure_zh, measure_en, measure_start_at,
    team_id, team_name, cars, depart_by, dispatch_status, tier_rank`.
    """
    frame = con.execute(
        """
        WITH first_measure AS (
            SELECT * FROM stretch_measures
            QUALIFY row_number() OVER (PARTITION BY stretch_id ORDER BY start_at NULLS LAST, priority) = 1
        ), first_dispatch AS (
            SELECT d.*, t.name AS team_name FROM dispatch d LEFT JOIN teams t USING (team_id)
            QUALIFY row_number() OVER (PARTITION BY stretch_id ORDER BY depart_by NULLS LAST) = 1
        )
        SELECT s.*, m.measure_id, m.label_zh AS measure_zh, m.label_en AS measure_en,
               m.start_at AS measure_start_at, d.team_id, d.team_name, d.cars, d.depart_by,
               d.status AS dispatch_status
        FROM stretches s
        LEFT JOIN first_measure m USING (stretch_id)
        LEFT JOIN first_dispatch d USING (stretch_id)
        """
    ).df()
    frame["tier_rank"] = frame["tier"].map(TIER_RANK).fillna(0).astype(int)
    if "priority" in frame and frame["priority"].notna().all():
        return frame.sort_values("priority", ignore_index=True)
    return frame.sort_values(["tier_rank", "peak_risk"], ascending=False, ignore_index=True)


def filter_stretches(frame: pd.DataFrame, provinces: list[str], roads: list[str]) -> pd.DataFrame:
    """Keep stretches of the chosen provinces and roads (an empty choice keeps all)."""
    keep = pd.Series(True, index=frame.index)
    if provinces:
        keep &= frame["province"].isin(provinces)
    if roads:
        keep &= frame["road_ref"].isin(roads)
    return frame[keep].reset_index(drop=True)


def _chain_expression(con: duckdb.DuckDBPyConnection) -> str:
    """SQL naming the chain a segment's K-stakes count along: `route_id`, else the source feature,
    else the road number (older snapshots have no `route_id`)."""
    columns = column_names(con, "segments")
    return "coalesce(" + ", ".join(c for c in ("route_id", "feature_id", "road_ref") if c in columns) + ")"


def stretch_segments(con: duckdb.DuckDBPyConnection, stretch_id: str, margin_km: float = 5.0) -> pd.DataFrame:
    """The stretch's segments (its `segment_ids`) and those within `margin_km` [km] of them on the
    same route (K-stakes are only comparable along one route), with `in_stretch`, by K-stake."""
    row = con.execute("SELECT segment_ids FROM stretches WHERE stretch_id = ?", [stretch_id]).fetchone()
    members = _parse_json_list(row[0]) if row else []
    chain = _chain_expression(con)
    return con.execute(
        f"""
        WITH chained AS (SELECT *, {chain} AS chain FROM segments),
        spans AS (SELECT chain, min(km_from) AS lo_km, max(km_to) AS hi_km FROM chained
                  WHERE list_contains($members, segment_id) GROUP BY chain)
        SELECT c.segment_id, c.road_ref, c.province, c.km_from, c.km_to, c.bridge, c.tunnel, c.grade_pct,
               c.elevation_m, list_contains($members, c.segment_id) AS in_stretch
        FROM chained c JOIN spans s ON c.chain IS NOT DISTINCT FROM s.chain
        WHERE c.km_to > s.lo_km - $margin AND c.km_from < s.hi_km + $margin
        ORDER BY c.chain, c.km_from
        """,
        {"members": members, "margin": margin_km},
    ).df()


def risk_strip(con: duckdb.DuckDBPyConnection, segment_ids: list[str]) -> pd.DataFrame:
    """`segment_id, km_from, km_to, valid_time, risk, ice_risk, tier` of the given segments over
    the whole run (`ice_risk` NULL where the model gives none, and on boards made before it existed)."""
    ice = "r.ice_risk" if "ice_risk" in column_names(con, "risk") else "CAST(NULL AS DOUBLE) AS ice_risk"
    return con.execute(
        f"SELECT r.segment_id, s.km_from, s.km_to, r.valid_time, r.risk, {ice}, r.tier FROM risk r "
        "JOIN segments s USING (segment_id) WHERE list_contains(?, r.segment_id) ORDER BY s.km_from, r.valid_time",
        [segment_ids],
    ).df()


def drivers(con: duckdb.DuckDBPyConnection, segment_ids: list[str], top: int = 5) -> pd.DataFrame:
    """The drivers most often named at the stretch's riskiest hours: `top_drivers, top_drivers_en, hours`."""
    return con.execute(
        "WITH worst AS (SELECT * FROM risk WHERE list_contains(?, segment_id) AND tier <> 'none') "
        "SELECT top_drivers, top_drivers_en, count(*) AS hours, max(risk) AS peak_risk FROM worst "
        "WHERE top_drivers IS NOT NULL GROUP BY ALL ORDER BY peak_risk DESC LIMIT ?",
        [segment_ids, top],
    ).df()


def weather_timeline(con: duckdb.DuckDBPyConnection, segment_ids: list[str]) -> pd.DataFrame:
    """Hourly weather averaged over the segments: temperatures [°C], precipitation [mm/h], wind
    [m/s], visibility [m], the most frequent `ptype` and the `kind` (analysis or forecast)."""
    if "weather" not in table_names(con):
        return pd.DataFrame()
    return con.execute(
        "SELECT valid_time, any_value(kind) AS kind, avg(t2m_c) AS t2m_c, avg(d2m_c) AS d2m_c, "
        "avg(skt_c) AS skt_c, avg(precip_mm) AS precip_mm, avg(snowfall_mm) AS snowfall_mm, "
        "mode(ptype) AS ptype, avg(wind_ms) AS wind_ms, avg(vis_m) AS vis_m FROM weather "
        "WHERE list_contains(?, segment_id) GROUP BY valid_time ORDER BY valid_time",
        [segment_ids],
    ).df()


def measures(con: duckdb.DuckDBPyConnection, stretch_id: str | None = None) -> pd.DataFrame:
    """Measures in priority order, for one stretch or for all."""
    return con.execute(
        "SELECT * FROM stretch_measures WHERE ? IS NULL OR stretch_id = ? ORDER BY stretch_id, priority, start_at",
        [stretch_id, stretch_id],
    ).df()


def dispatch_plan(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Dispatch rows with their stretch and team (road, K-stakes, tier, team name, cars, times,
    status), in the order of the priority list (older boards: by departure)."""
    listed = "priority" in column_names(con, "stretches")
    return con.execute(
        "SELECT d.*, s.road_ref, s.name AS road_name, s.km_from, s.km_to, s.tier, s.onset, s.peak_risk, "
        f"{'s.priority, ' if listed else ''}t.name AS team_name FROM dispatch d JOIN stretches s USING (stretch_id) "
        "LEFT JOIN teams t USING (team_id) ORDER BY "
        + ("s.priority, d.depart_by NULLS LAST" if listed else "d.depart_by NULLS LAST, s.peak_risk DESC")
    ).df()


def teams(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Teams with the cars already assigned on this board."""
    return con.execute(
        "SELECT t.team_id, t.name, t.province, t.cars, CAST(coalesce(sum(d.cars), 0) AS INTEGER) AS cars_assigned, "
        "count(d.stretch_id) AS stretches FROM teams t LEFT JOIN dispatch d ON d.team_id = t.team_id "
        "AND d.status = 'assigned' GROUP BY ALL ORDER BY t.team_id"
    ).df()


def risk_table(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """All `segment_id, valid_time, risk, ice_risk, tier, icing_warning, visibility_warning` of the run
    (for verification; `ice_risk` NULL where the model gives none)."""
    ice = "ice_risk" if "ice_risk" in column_names(con, "risk") else "CAST(NULL AS DOUBLE) AS ice_risk"
    return con.execute(f"SELECT segment_id, valid_time, risk, {ice}, tier, {_warning_columns(con)} FROM risk").df()


def incidents_in_window(con: duckdb.DuckDBPyConnection, start_utc: datetime, end_utc: datetime) -> pd.DataFrame:
    """Matched incidents that occurred in [start_utc, end_utc) [UTC]."""
    return con.execute(
        "SELECT incident_id, occurred_at, segment_id, severity, surface, weather FROM incidents "
        "WHERE segment_id IS NOT NULL AND occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at",
        [start_utc, end_utc],
    ).df()


def import_freshness(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Latest import per kind: `kind, path, finished_at, rows_kept, rows_quarantined, status`."""
    if "import_ledger" not in table_names(con):
        return pd.DataFrame(columns=["kind", "path", "finished_at", "rows_kept", "rows_quarantined", "status"])
    return con.execute(
        "SELECT kind, path, finished_at, rows_kept, rows_quarantined, status FROM import_ledger "
        "QUALIFY row_number() OVER (PARTITION BY kind ORDER BY coalesce(finished_at, started_at) DESC) = 1 "
        "ORDER BY kind"
    ).df()


def quarantine_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rows kept in quarantine per import kind and file."""
    if "quarantine_counts" not in table_names(con):
        return pd.DataFrame(columns=["kind", "path", "rows"])
    return con.execute("SELECT kind, path, rows FROM quarantine_counts ORDER BY rows DESC").df()
