"""Build the board of a run: stretches, their measures, the priority list and dispatch, written whole."""

from __future__ import annotations

import numpy as np
import pandas as pd

from wxrisk.board.dispatch import plan_dispatch
from wxrisk.board.measures import assign_measures, load_playbook
from wxrisk.board.priority import prioritise
from wxrisk.board.stretches import SEGMENT_COLUMNS, build_stretches, category_codes
from wxrisk.board.tiers import tier_cuts, weather_risk
from wxrisk.config import Settings, WxriskError
from wxrisk.levels import TIERS
from wxrisk.scored import ScoredRun
from wxrisk.store.db import transaction
from wxrisk.vocab import insert_frame

BOARD_TABLES = ("stretches", "stretch_measures", "dispatch")
SEGMENT_READ = (*SEGMENT_COLUMNS, "route_id", "bridge", "grade_pct")  # what stretches read of `segments`


def _insert(con, table: str, run_id: str, frame: pd.DataFrame, columns: list[str]) -> None:
    """Insert `frame[columns]` with the run id, by column name."""
    insert_frame(con, table, frame[columns].assign(run_id=run_id), ["run_id", *columns])


def tier_summary(frame: pd.DataFrame, rules: dict, weather: np.ndarray) -> dict:
    """Segment-hours per tier, the weather risk each tier starts at, and red's share of the tiered.

    weather : `tiers.weather_risk(frame)`
    """
    codes = category_codes(frame["tier"], TIERS)
    counts = pd.Series(np.bincount(codes[codes >= 0], minlength=len(TIERS)), index=TIERS)
    tiered = int(counts.iloc[1:].sum())
    return {
        "segment_hours_by_tier": {tier: int(n) for tier, n in counts.items()},
        "tier_cuts": {tier: round(cut, 6) for tier, cut in tier_cuts(weather, rules).items()},
        "red_share_of_tiered": counts["red"] / tiered if tiered else 0.0,
    }


def build_board(con, settings: Settings, run_id: str, scored: ScoredRun) -> dict:
    """Write the `stretches` (in priority order), `stretch_measures` and `dispatch` rows of run `run_id`.

    scored : the run's scored segment-hours in memory (`wxrisk.scored.ScoredRun`: `frame` with
             tiers, warnings and conditions; `rules`, the board rules the tiers were assigned with).
    Reads only `runs`, `segments` and `teams`; earlier rows of the run are replaced in one
    transaction. Returns a summary: tiers, stretches, measures, red cars needed, dispatch figures,
    and the rules skipped for lack of inputs.
    """
    run = con.execute("SELECT start_time FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if run is None:
        raise WxriskError(f"run {run_id}: no such run")
    rules, book = scored.rules, load_playbook(settings.playbook)
    # every segment: a stretch's border check looks beyond the run
    segments = con.execute(f"SELECT {', '.join(SEGMENT_READ)} FROM segments").df()
    teams = con.execute("SELECT team_id, name, province, lon, lat, cars FROM teams ORDER BY team_id").df()

    weather = weather_risk(scored.frame)
    stretches = build_stretches(scored.frame, segments, rules, tz=settings.timezone, weather=weather)
    measures = assign_measures(stretches, book, tz=settings.timezone)
    ranked = prioritise(stretches, measures, run[0], rules)
    dispatch, stats = plan_dispatch(ranked, measures, teams, run[0], rules)

    with transaction(con):
        for table in BOARD_TABLES:
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
        _insert(con, "stretches", run_id, ranked, list(ranked.columns))
        _insert(con, "stretch_measures", run_id, measures, [c for c in measures.columns if c != "police"])
        _insert(con, "dispatch", run_id, dispatch, list(dispatch.columns))
    red = ranked["tier"].eq("red").to_numpy()
    return {
        "run_id": run_id,
        **tier_summary(scored.frame, rules, weather),
        "stretches": len(ranked),
        "stretches_by_tier": ranked["tier"].value_counts().to_dict(),
        "red_cars_needed": int(np.sum(red) * int(rules["dispatch"]["cars_needed"]["red"])),
        "measures": len(measures),
        "teams": len(teams),
        "skipped_rules": list(scored.skipped_rules),
        **stats,
    }
