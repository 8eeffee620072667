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

from wxrisk.config import WxriskError
from wxrisk.model.explain import contributions, driver_codes, texts_by_row
from wxrisk.model.registry import LoadedModel

DRIVERS_MIN_RISK = 0.003
MAX_DRIVER_ROWS = 100_000
CHUNK_ROWS = 1_000_000


def feature_matrix(features: pd.DataFrame, names: list[str]) -> np.ndarray:
    """The model's columns, in its order, as a float32 matrix (NaN for missing values)."""
    missing = [n for n in names if n not in features.columns]
    if missing:
        raise WxriskError(f"features: missing column(s) the model needs: {', '.join(missing)}")
    return np.ascontiguousarray(features[names].to_numpy(dtype="float32", na_value=np.nan))


def chunked_risk(model: LoadedModel, features_df: pd.DataFrame,
                 chunk_rows: int = CHUNK_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """(risk, ice_risk) of every row, a chunk at a time so no full float32 copy of the table is made."""
    risk = np.empty(len(features_df), dtype="float64")
    ice = np.empty(len(features_df), dtype="float64")
    for first in range(0, len(features_df), chunk_rows):
        chunk = features_df.iloc[first:first + chunk_rows]
        risk[first:first + len(chunk)] = model.risk(chunk)
        ice[first:first + len(chunk)] = model.ice_risk(chunk, risk[first:first + len(chunk)])
    return risk, ice


def driver_rows(risk: np.ndarray, floor: float, max_rows: int | None) -> np.ndarray:
    """Rows that get drivers in words: risk at or above `floor`, at most the `max_rows` riskiest."""
    chosen = risk >= floor
    if max_rows is not None and chosen.sum() > max_rows:
        chosen &= risk >= np.partition(risk, len(risk) - max_rows)[len(risk) - max_rows]
    return chosen


def combined_contributions(model: LoadedModel, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list]:
    """Per input of the version, the summed log-scale contributions of its models on `rows`.

    Returns (contributions, values, specs), columns in the order of `model.input_specs`.
    """
    specs = model.input_specs
    position = {spec.name: j for j, spec in enumerate(specs)}
    names = [spec.name for spec in specs]
    values = feature_matrix(rows, names)
    total = np.zeros(values.shape, dtype="float64")
    parts = [(model.booster, model.feature_names)]
    if model.region is not None:
        parts.append((model.region, model.meta["region"]["features"]))
    if model.share is not None:
        parts.append((model.share, model.share_features))
    for booster, used in parts:
        x = values[:, [position[n] for n in used]]
        total[:, [position[n] for n in used]] += contributions(booster, x)
    return total, values.astype("float64"), specs


def predict_risk(model: LoadedModel, features_df: pd.DataFrame, drivers_min_risk: float | None = None,
                 n_drivers: int = 3, max_driver_rows: int | None = MAX_DRIVER_ROWS) -> pd.DataFrame:
    """DataFrame `segment_id, valid_time, risk, ice_risk, top_drivers, top_drivers_en`, one row per input row.

    risk     : calibrated probability of at least one incident on the segment in the hour [0-1]
    ice_risk : calibrated probability of at least one ice/snow incident there and then [0-1];
               NaN when the version has no ice/snow share model (too few such incidents to learn)
    Drivers are explained for at most `max_driver_rows` rows (the riskiest), since TreeSHAP costs
    ~0.25 ms a row: a national board keeps its explanations where the board shows them.
    """
    risk, ice_risk = chunked_risk(model, features_df)
    floor = DRIVERS_MIN_RISK if drivers_min_risk is None else drivers_min_risk
    codes = np.full(len(risk), -1, dtype="int64")
    texts: dict[str, list[str | None]] = {"zh": [], "en": []}
    needs_words = driver_rows(risk, floor, max_driver_rows)
    if needs_words.any():
        contrib, values, specs = combined_contributions(model, features_df[needs_words])
        codes[needs_words], texts = driver_codes(contrib, values, specs, n_drivers)
    return pd.DataFrame({
        "segment_id": features_df["segment_id"].to_numpy(),
        "valid_time": features_df["valid_time"].to_numpy(),
        "risk": risk,
        "ice_risk": ice_risk,
        "top_drivers": texts_by_row(codes, texts["zh"]).array,
        "top_drivers_en": texts_by_row(codes, texts["en"]).array,
    })
