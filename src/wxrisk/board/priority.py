"""The priority list: which stretch the teams go to first.

Stretches in this order: tier (red first: red is the top of the board's ranking); within a tier,
those due first (their first measure must start within `priority.due_hours` of the board's
start); then by expected weather incidents (the ice/snow incidents the board ranks), then by
the higher official warning, then the earlier onset. Dispatch serves them in this order; the
board's table and the PDF briefing open with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wxrisk.levels import TIER_RANK, WARNING_RANK


def first_measure_start(stretches: pd.DataFrame, measures: pd.DataFrame) -> pd.Series:
    """When each stretch's first measure starts [UTC]; its onset hour's start when it has none."""
    first = pd.to_datetime(stretches["stretch_id"].map(measures.groupby("stretch_id")["start_at"].min()))
    return first.where(first.notna(), pd.to_datetime(stretches["onset"]) - pd.Timedelta(hours=1))


def warning_rank(stretches: pd.DataFrame) -> np.ndarray:
    """The higher of a stretch's road-icing and visibility warning levels (0 none .. 3 red)."""
    ranks = [stretches[column].map(WARNING_RANK).fillna(0).to_numpy(int)
             for column in ("icing_warning", "visibility_warning") if column in stretches]
    return np.maximum.reduce(ranks) if ranks else np.zeros(len(stretches), dtype=int)


def prioritise(stretches: pd.DataFrame, measures: pd.DataFrame, board_start, rules: dict) -> pd.DataFrame:
    """The stretches in priority order, with `priority` (1 = first) and `due_at` (first measure start, UTC)."""
    due_at = first_measure_start(stretches, measures)
    due_by = pd.Timestamp(board_start) + pd.Timedelta(hours=float(rules["priority"]["due_hours"]))
    keys = pd.DataFrame({
        "tier": -stretches["tier"].map(TIER_RANK).to_numpy(int),
        "due": -(due_at <= due_by).to_numpy(int),
        "expected": -stretches["expected_weather_incidents"].to_numpy(float),
        "warning": -warning_rank(stretches),
        "onset": pd.to_datetime(stretches["onset"]).to_numpy(),
        "stretch_id": stretches["stretch_id"].to_numpy(),
    })
    order = keys.sort_values(list(keys.columns), kind="stable").index
    ranked = stretches.assign(due_at=due_at).loc[order].reset_index(drop=True)
    ranked["priority"] = np.arange(1, len(ranked) + 1)
    return ranked
