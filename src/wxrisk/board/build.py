"""Build the board of a run: stretches, their measures and the dispatch plan, written whole."""

from __future__ import annotations

import pandas as pd

from wxrisk.board.dispatch import plan_dispatch
from wxrisk.board.measures import assign_measures, load_playbook
from wxrisk.board.stretches import build_stretches
from wxrisk.config import Settings, WxriskError
from wxrisk.scored import CONDITION_COLUMNS, ScoredRun
from wxrisk.store.db import transaction
from wxrisk.vocab import insert_frame

BOARD_TABLES = ("stretches", "stretch_measures", "dispatch")


def build_board(con, settings: Settings, run_id: str, scored: ScoredRun) -> dict:
    """Write the `stretches`, `stretch_measures` and `dispatch` rows of run `run_id`.

    scored : the run's scored segment-hours in memory (risk, tier, drivers, weather conditions),
             with the board rules they were tiered by; the `risk` table is not read back.
    Reads `segments` and `teams`. Earlier rows of the run are replaced in one transaction.
    Returns a summary: counts by tier, measures, dispatch figures and the tier rules skipped
    for lack of inputs.
    """
    run = con.execute("SELECT start_time FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if run is None:
        raise WxriskError(f"run {run_id}: no such run")
    rules, book = scored.rules, load_playbook(settings.playbook)
    risk = scored.frame
    flags = risk[["segment_id", "valid_time", *CONDITION_COLUMNS]]
    segments = con.execute("SELECT * FROM segments").df()
    segments = segments[segments["segment_id"].isin(risk["segment_id"].cat.categories)]
    teams = con.execute("SELECT team_id, name, province, lon, lat, cars FROM teams ORDER BY team_id").df()

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
        "skipped_rules": list(scored.skipped_rules),
        **stats,
    }


def _insert(con, table: str, run_id: str, frame: pd.DataFrame, columns: list[str]) -> None:
    """Insert `frame[columns]` with the run id, by column name."""
    insert_frame(con, table, frame[columns].assign(run_id=run_id), ["run_id", *columns])
