"""The scored segment-hours of a run, kept in memory for the board: small columns, aligned rows.

Scoring computes features, risk, tiers and weather conditions a tile of segments at a time and
keeps only what the board reads (about 50 bytes a segment-hour), so the board never reads the
13 million risk rows of a national run back from DuckDB nor holds the feature table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from wxrisk.levels import WARNING_LEVELS
from wxrisk.vocab import TIERS

CONDITION_COLUMNS = ("freezing_rain", "snow", "black_ice", "fog")
DRIVER_COLUMNS = ("top_drivers", "top_drivers_en")
WARNING_COLUMNS = ("icing_warning", "visibility_warning")
BOARD_COLUMNS = ("segment_id", "valid_time", "risk", "ice_risk", "baseline_risk", "tier", *DRIVER_COLUMNS,
                 *WARNING_COLUMNS, *CONDITION_COLUMNS)


@dataclass(frozen=True)
class ScoredRun:
    """A run's scored segment-hours, one row each, sorted by segment then hour.

    frame columns (`BOARD_COLUMNS`):
      segment_id     Categorical of str
      valid_time     datetime64[us], naive UTC (the hour ending then)
      risk           float64, calibrated P(at least one incident of any kind) [0-1]
      ice_risk       float64, calibrated P(at least one ice/snow incident); NaN when the model gives none
      baseline_risk  float64, the segment's normal hourly risk; NaN when unknown
      tier           Categorical, categories `TIERS` (ordered)
      top_drivers, top_drivers_en   Categorical of str, NaN where no drivers were made
      icing_warning, visibility_warning   Categorical, categories `WARNING_LEVELS` (ordered): the official
                     warnings of the segment-hour (road-icing signal, visibility control)
      freezing_rain, snow, black_ice, fog   bool, the weather conditions of the features the model used
    Segment-hours without weather (an incomplete run) have no row.
    rules         : the board rules the tiers were assigned with (loaded once per run)
    skipped_rules : tier rules skipped for lack of an input column
    """

    run_id: str
    frame: pd.DataFrame
    rules: dict
    skipped_rules: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.frame)


def board_frame(segment_id, valid_time, risk, tier, baseline_risk=None, ice_risk=None, drivers=(None, None),
                conditions: pd.DataFrame | dict | None = None, warnings: pd.DataFrame | dict | None = None
                ) -> pd.DataFrame:
    """A frame in the `ScoredRun` layout from columns (absent ones: NaN risks, no drivers, no
    warnings, no conditions)."""
    n = len(risk)
    nan = np.full(n, np.nan)
    frame = pd.DataFrame({
        "segment_id": pd.Categorical(segment_id),
        "valid_time": np.asarray(valid_time, dtype="datetime64[us]"),
        "risk": np.asarray(risk, dtype="float64"),
        "ice_risk": nan if ice_risk is None else np.asarray(ice_risk, dtype="float64"),
        "baseline_risk": nan if baseline_risk is None else np.asarray(baseline_risk, dtype="float64"),
        "tier": _levels(tier, TIERS, n),
    })
    for name, values in zip(DRIVER_COLUMNS, drivers, strict=True):
        if values is None:
            frame[name] = pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), categories=pd.Index([], dtype=object))
        elif isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
            frame[name] = pd.Categorical(values)  # already categorical: no strings made per row
        else:
            frame[name] = pd.Categorical(np.asarray(values, dtype=object))
    for name in WARNING_COLUMNS:
        frame[name] = _levels(None if warnings is None else warnings[name], WARNING_LEVELS, n)
    for name in CONDITION_COLUMNS:
        values = None if conditions is None else conditions[name]
        frame[name] = np.zeros(n, dtype=bool) if values is None else np.asarray(values, dtype=bool)
    return frame


def concat_board_frames(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Tiles' board frames as one, keeping the categorical columns categorical (no object copies)."""
    frames = [f for f in frames if len(f)] or list(frames[:1])
    if not frames:
        return board_frame([], [], [], [])
    columns = {}
    for name in BOARD_COLUMNS:
        parts = [f[name] for f in frames]
        if name in ("segment_id", *DRIVER_COLUMNS):
            columns[name] = _union_text_categoricals([_text_categorical(p) for p in parts])
        elif name == "tier" or name in WARNING_COLUMNS:
            levels = TIERS if name == "tier" else WARNING_LEVELS
            columns[name] = pd.Categorical.from_codes(np.concatenate([p.cat.codes.to_numpy() for p in parts]),
                                                      categories=levels, ordered=True)
        else:
            columns[name] = np.concatenate([p.to_numpy() for p in parts])
    return pd.DataFrame(columns, copy=False)


def _union_text_categoricals(parts: list[pd.Categorical]) -> pd.Categorical:
    """One categorical of `parts`, categories in order of appearance; tiles' disjoint segment ids are
    joined by offsetting codes (no category lookups per row)."""
    categories = parts[0].categories.append([p.categories for p in parts[1:]])  # as union_categoricals makes them
    if not categories.is_unique:
        return union_categoricals(parts, ignore_order=True)
    offsets = np.cumsum([0, *(len(p.categories) for p in parts[:-1])])
    codes = np.concatenate([np.where(p.codes >= 0, p.codes.astype(np.int64) + offset, -1)
                            for p, offset in zip(parts, offsets, strict=True)])
    return pd.Categorical.from_codes(codes, categories=categories)


def _text_categorical(values) -> pd.Categorical:
    """A categorical with object-dtype categories (an empty one and a pyarrow-string one then unite)."""
    values = pd.Categorical(values)
    return pd.Categorical.from_codes(values.codes, categories=pd.Index(values.categories, dtype=object))


def _levels(values, levels: Sequence[str], n: int) -> pd.Categorical:
    """An ordered categorical of `levels` (all the lowest when `values` is None); categorical input
    is recoded without making a string per row."""
    if values is None:
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=list(levels), ordered=True)
    if not isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        values = np.asarray(values, dtype=object)
    return pd.Categorical(values, categories=list(levels), ordered=True)
