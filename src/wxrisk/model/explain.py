"""Per-row drivers in words from LightGBM's own feature contributions (`pred_contrib=True`).

The three largest positive contributions (log-odds) become text through each spec's
`describe` ("冻雨 2.1 mm", "bridge"). A flag feature is a driver only when it is set.
Text is made once per unique (feature, rounded value) pair, not once per row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from wxrisk.features.spec import FeatureSpec

SEPARATORS = {"zh": "，", "en": ", "}


# Units of amounts: none of it is never a cause a duty officer can act on ("curvature 0 °/km").
AMOUNT_UNITS = frozenset({"mm", "m/s", "°/km", "%", "veh/h", "/yr"})


def eligible_contributions(contrib: np.ndarray, values: np.ndarray, specs: Sequence[FeatureSpec]) -> np.ndarray:
    """Contributions that may be named: positive, for flags only when set, for amounts only when
    not zero (else -inf)."""
    is_flag = np.array([s.decimals is None for s in specs])
    is_amount = np.array([s.unit in AMOUNT_UNITS for s in specs])
    absent = (is_flag[None, :] | is_amount[None, :]) & ~(np.abs(values) > 0)
    return np.where((contrib > 0) & ~absent, contrib, -np.inf)


def rounded_values(values: np.ndarray, specs: Sequence[FeatureSpec]) -> np.ndarray:
    """Values rounded as they will be shown, so equal texts share one key (flags become 1)."""
    out = np.empty_like(values, dtype="float64")
    for j, spec in enumerate(specs):
        out[:, j] = 1.0 if spec.decimals is None else np.round(values[:, j], spec.decimals)
    return out


def pair_codes(feature: np.ndarray, value: np.ndarray, named: np.ndarray, specs: Sequence[FeatureSpec],
               texts: dict[str, list[str]]) -> np.ndarray:
    """A code per row for its (feature, shown value) pair, -1 where nothing is named.

    The words of each new pair are appended to `texts[lang]` (computed once per unique pair).
    """
    codes = np.full(len(feature), -1, dtype="int64")
    for f in np.unique(feature[named]):
        rows = named & (feature == f)
        local, uniques = pd.factorize(value[rows], use_na_sentinel=False)
        codes[rows] = local + len(texts["zh"])
        for lang, words in texts.items():
            words += [specs[f].describe(v, lang) for v in uniques]
    return codes


def driver_codes(contrib: np.ndarray, values: np.ndarray, specs: Sequence[FeatureSpec],
                 n: int = 3) -> tuple[np.ndarray, dict[str, list[str | None]]]:
    """The `n` main drivers of each row as (code per row, texts by language); `texts[lang][code]`
    is the row's drivers in words (None when no feature pushes its risk up).

    contrib : feature contributions [log-odds], shape (rows, features), bias column removed
    values  : the feature values of the same rows, shape (rows, features)
    """
    rows = np.arange(len(contrib))
    scored = eligible_contributions(contrib, values, specs)
    order = np.argsort(-scored, axis=1, kind="stable")[:, :n]
    shown = rounded_values(values, specs)
    words: dict[str, list[str]] = {"zh": [], "en": []}
    ranks = pd.DataFrame({
        rank: pair_codes(order[:, rank], shown[rows, order[:, rank]], np.isfinite(scored[rows, order[:, rank]]),
                         specs, words)
        for rank in range(order.shape[1])
    })
    combo = pd.factorize(pd.util.hash_pandas_object(ranks, index=False).to_numpy())[0]
    first = pd.Series(rows).groupby(combo).first().to_numpy()
    unique_ranks = ranks.to_numpy()[first]
    texts = {}
    for lang, sep in SEPARATORS.items():
        lookup = np.array(words[lang] + [""], dtype=object)      # pair code -1 picks the trailing ""
        texts[lang] = [sep.join(w for w in lookup[pairs] if w) or None for pairs in unique_ranks]
    return combo, texts


def categorical_by_row(codes: np.ndarray, texts: list[str | None]) -> pd.Categorical:
    """`texts[code]` per row as a Categorical (NaN where `code` is -1): no string per row is made."""
    labels = np.asarray(texts, dtype=object)
    valid = np.array([t is not None for t in labels], dtype=bool)
    names, first = np.unique(labels[valid].astype(str), return_inverse=True) if valid.any() else ([], [])
    remap = np.full(len(labels) + 1, -1, dtype=np.int64)
    remap[np.flatnonzero(valid)] = first
    return pd.Categorical.from_codes(remap[np.where(codes < 0, len(labels), codes)], categories=list(names))


def texts_by_row(codes: np.ndarray, texts: list[str | None]) -> pd.Series:
    """A string Series with `texts[code]` per row, null where `code` is -1 (done in Arrow, no Python loop)."""
    indices = pa.array(codes, mask=codes < 0)
    return pa.array(texts, type=pa.string()).take(indices).to_pandas()


def split_thresholds(booster) -> tuple[list[np.ndarray], set[int]]:
    """Per feature, the sorted thresholds of the model's numeric splits; and features with categorical splits."""
    n_features = booster.num_feature()
    found: list[set[float]] = [set() for _ in range(n_features)]
    categorical: set[int] = set()
    stack = [tree["tree_structure"] for tree in booster.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_feature" not in node:
            continue
        if node["decision_type"] == "<=":
            found[node["split_feature"]].add(float(node["threshold"]))
        else:
            categorical.add(node["split_feature"])
        stack += [node["left_child"], node["right_child"]]
    return [np.array(sorted(t), dtype="float64") for t in found], categorical


def decision_codes(x: np.ndarray, thresholds: list[np.ndarray], categorical: set[int]) -> np.ndarray:
    """One integer per row that is equal for rows taking the same side of every split of the model.

    Rows with equal codes follow the same path in every tree, so they have the same prediction
    and the same TreeSHAP contributions. Missing values get their own bin.
    """
    key = pd.DataFrame({
        j: (pd.factorize(x[:, j])[0] if j in categorical
            else np.where(np.isnan(x[:, j]), -1, np.searchsorted(t, x[:, j].astype("float64"), side="left")))
        for j, t in enumerate(thresholds)
    })
    return pd.factorize(pd.util.hash_pandas_object(key, index=False).to_numpy())[0]


def contributions(booster, x: np.ndarray) -> np.ndarray:
    """LightGBM's `pred_contrib` for each row [log-odds], bias column removed, computed once per
    distinct decision path (identical to calling it on every row)."""
    thresholds, categorical = split_thresholds(booster)
    codes = decision_codes(x, thresholds, categorical)
    first = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
    unique_contrib = booster.predict(x[first], pred_contrib=True)[:, : x.shape[1]]
    return unique_contrib[codes]
