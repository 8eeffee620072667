"""Risk per segment-hour from a registered model: `risk`, `ice_risk` and the drivers in words.

Speed: the probabilities are vectorised LightGBM calls, a chunk of rows at a time. Drivers are
made only for rows whose risk is at or above `drivers_min_risk` (default `DRIVERS_MIN_RISK`, the
lowest risk at which the board gives any tier); the other rows get none (NULL). They explain
`ice_risk` when the version has an ice/snow share model, else `risk`: LightGBM's own feature
contributions (TreeSHAP, once per distinct decision path, `explain.contributions`) of the region
rate, the segment trees and the share model, added per input on the log scale
(ln ice_risk ~ ln region rate + segment trees + ln share), so "freezing rain 2.1 mm" comes first
when the weather is what raises the risk, wherever in the model it entered.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wxrisk.model.explain import categorical_by_row, contributions, driver_codes
from wxrisk.model.registry import FeatureBlock, LoadedModel, feature_matrix

DRIVERS_MIN_RISK = 0.003
MAX_DRIVER_ROWS = 100_000
CHUNK_ROWS = 131_072  # a chunk's float32 inputs stay < 32 MB: the allocator reuses their pages, no fresh faults


def chunked_risk(model: LoadedModel, features_df: pd.DataFrame, chunk_rows: int = CHUNK_ROWS,
                 block: FeatureBlock | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(risk, ice_risk) of every row, a chunk at a time so no full float32 copy of the table is made.

    `block`: the feature columns as one block (the scoring path's `FeatureTable.block`), read instead
    of the frame's columns."""
    risk = np.empty(len(features_df), dtype="float64")
    ice = np.empty(len(features_df), dtype="float64")
    for first in range(0, len(features_df), chunk_rows):
        chunk = features_df.iloc[first:first + chunk_rows]
        rows = block.rows(first, first + len(chunk)) if block is not None else None
        risk[first:first + len(chunk)] = model.risk(chunk, rows)
        ice[first:first + len(chunk)] = model.ice_risk(chunk, risk[first:first + len(chunk)], rows)
    return risk, ice


def driver_rows(risk: np.ndarray, floor: float, max_rows: int | None) -> np.ndarray:
    """Rows that get drivers in words: risk at or above `floor`, at most the `max_rows` riskiest."""
    chosen = risk >= floor
    if max_rows is not None and chosen.sum() > max_rows:
        if max_rows <= 0:
            return np.zeros(len(risk), dtype=bool)
        chosen &= risk >= np.partition(risk, len(risk) - max_rows)[len(risk) - max_rows]
    return chosen


def drivers_in_words(model: LoadedModel, x: np.ndarray, n_drivers: int = 3) -> tuple[np.ndarray, dict]:
    """Driver codes per row of `x` (rows x model.feature_names, float32) and their texts by language.

    A driver's weight is its summed log-scale contribution over the version's models (region rate,
    segment trees, ice/snow share: `LoadedModel.parts`).
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    position = {name: j for j, name in enumerate(model.feature_names)}
    total = np.zeros(x.shape, dtype="float64")
    for booster, used in model.parts():
        columns = [position[name] for name in used]
        total[:, columns] += contributions(booster, np.ascontiguousarray(x[:, columns]))
    return driver_codes(total, x.astype("float64"), model.input_specs, n_drivers)


def predict_risk(model: LoadedModel, features_df: pd.DataFrame, drivers_min_risk: float | None = None,
                 n_drivers: int = 3, max_driver_rows: int | None = MAX_DRIVER_ROWS,
                 block: FeatureBlock | None = None) -> pd.DataFrame:
    """DataFrame `segment_id, valid_time, risk, ice_risk, top_drivers, top_drivers_en`, one row per input row.

    risk     : calibrated probability of at least one incident on the segment in the hour [0-1]
    ice_risk : calibrated probability of at least one ice/snow incident there and then [0-1];
               NaN when the version has no ice/snow share model (too few such incidents to learn)
    Drivers are explained for at most `max_driver_rows` rows (the riskiest), since TreeSHAP costs
    ~0.25 ms a row: a national board keeps its explanations where the board shows them. Drivers
    are Categorical (NaN where none). `block`: every feature column as one block (the scoring
    path's `FeatureTable.block`), read instead of the frame's columns.
    """
    risk, ice_risk = chunked_risk(model, features_df, block=block)
    floor = DRIVERS_MIN_RISK if drivers_min_risk is None else drivers_min_risk
    codes = np.full(len(risk), -1, dtype="int64")
    texts: dict[str, list[str | None]] = {"zh": [], "en": []}
    needs_words = driver_rows(risk, floor, max_driver_rows)
    if needs_words.any():
        chosen = (block.matrix(model.feature_names, np.flatnonzero(needs_words)) if block is not None
                  else feature_matrix(features_df[needs_words], model.feature_names))
        codes[needs_words], texts = drivers_in_words(model, chosen, n_drivers)
    return pd.DataFrame({
        "segment_id": features_df["segment_id"].array,  # a categorical stays one: no string per row
        "valid_time": features_df["valid_time"].to_numpy(),
        "risk": risk,
        "ice_risk": ice_risk,
        "top_drivers": categorical_by_row(codes, texts["zh"]),
        "top_drivers_en": categorical_by_row(codes, texts["en"]),
    })
