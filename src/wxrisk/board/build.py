"""Build the board of a run: stretches, their measures and the dispatch plan, written whole."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from wxrisk.board.dispatch import plan_dispatch
from wxrisk.board.measures import assign_measures, load_playbook
from wxrisk.board.stretches import build_stretches
from wxrisk.board.tiers import condition_flags, load_rules
from wxrisk.config import Settings, WxriskError
from wxrisk.store.db import transaction

BOARD_TABLES = ("stretches", "stretch_measures", "dispatch")


def _insert(con, table: str, run_id: str, frame: pd.DataFrame, columns: list[str]) -> None:
    """Insert `frame[columns]` with the run id, by column name."""
    if frame.empty:
        return
    rows = frame[columns].assign(run_id=run_id)[["run_id", *columns]]
    con.register("board_rows", rows)
    try:
        names = ", ".join(["run_id", *columns])
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM board_rows")
    finally:
        con.unregister("board_rows")


def _rule_paths(settings: Settings) -> tuple[Path | None, Path | None]:
    """Board rule files from `settings.extra` (`board_rules`, `playbook`), else the packaged ones."""
    rules, playbook = settings.extra.get("board_rules"), settings.extra.get("playbook")
    return (Path(rules) if rules else None), (Path(playbook) if playbook else None)


def build_board(con, settings: Settings, run_id: str, features_df: pd.DataFrame | None = None) -> dict:
    """Write the `stretches`, `stretch_measures` and `dispatch` rows of run `run_id`.

    Reads the run's `risk` rows (tiers assigned), `segments` and `teams`; `features_df` (the run's
    feature table) names the weather conditions of each stretch. Earlier rows of the run are
    replaced in one transaction. Returns a summary: counts by tier, measures, dispatch figures and
    the tier rules skipped for lack of inputs.
    """
    run = con.execute("SELECT start_time FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if run is None:
        raise WxriskError(f"run {run_id}: no such run")
    rules_path, playbook_path = _rule_paths(settings)
    rules, book = load_rules(rules_path), load_playbook(playbook_path)
    risk = con.execute(
        "SELECT segment_id, valid_time, risk, tier, top_drivers, top_drivers_en FROM risk WHERE run_id = ?", [run_id]
    ).df()
    segments = con.execute(
        "SELECT * FROM segments WHERE segment_id IN (SELECT segment_id FROM risk WHERE run_id = ?)", [run_id]
    ).df()
    teams = con.execute("SELECT team_id, name, province, lon, lat, cars FROM teams ORDER BY team_id").df()

    flags = condition_flags(features_df, rules)
    stretches = build_stretches(risk, segments, rules, flags, tz=settings.timezone)
    measures = assign_measures(stretches, book, tz=settings.timezone)
    dispatch, stats = plan_dispatch(stretches, measures, teams, run[0], rules)

    with transaction(con):
        for table in BOARD_TABLES:
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
        _insert(con, "stretches", run_id, stretches, list(stretches.columns))
        _insert(con, "stretch_measures", run_id, measures, [c for c in measures.columns if c != "police"])
        _insert(con, "dispatch", run_id, dispatch, list(dispatch.columns))
    return {
        "run_id": run_id,
        "stretches": len(stretches),
        "stretches_by_tier": stretches["tier"].value_counts().to_dict(),
        "measures": len(measures),
        "teams": len(teams),
        **stats,
    }
