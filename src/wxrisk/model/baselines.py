"""The two baselines the model must beat on the same held-out period.

- Historical average: each segment's past rate of incident-hours, shrunk toward the network
  rate by `PRIOR_HOURS` hours of prior exposure (a segment with little history gets the mean).
- Physical rule: risky when there is freezing rain, or snow, or a sub-zero road surface with
  precipitation. Its features are picked from the specs by name (`RULE_ROLES`); a role whose
  feature is absent drops out of the rule. Its probability is the incident rate that rule-true
  and rule-false hours had in the training data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from wxrisk.features.spec import FeatureSpec
from wxrisk.model.dataset import ICE_CONDITION

PRIOR_HOURS = 168.0

# Amount that counts as precipitation for the rule [mm in the hour]: 0.1 mm, the smallest
# measurable amount and the threshold of the board's icing rule (board/tiers.yaml).
RULE_MIN_MM = 0.1

# role -> pattern on feature names; the first spec (in spec order) whose name matches is used.
RULE_ROLES = {
    "freezing_rain": r"^(fzra|freezing_rain|fzdz)",
    "snow": r"^snow(fall)?_(mm|cm)",
    "surface_temp": r"^(road_temp|road_surface_temp|surface_temp|skt)_c",
    "precip": r"^precip",
}


def smoothed_rates(positives: pd.Series, exposure_hours: pd.Series, network_rate: float) -> pd.Series:
    """Per-segment incident-hour rate shrunk toward `network_rate` [probability per hour]."""
    return (positives + PRIOR_HOURS * network_rate) / (exposure_hours + PRIOR_HOURS)


def segment_rates_from_frame(labelled: pd.DataFrame, label: str = "label") -> tuple[pd.Series, float]:
    """Historical rates per segment from labelled rows (`label`, optional `weight` for thinned negatives)."""
    weight = labelled["weight"] if "weight" in labelled else pd.Series(1.0, index=labelled.index)
    grouped = pd.DataFrame({"segment_id": labelled["segment_id"], "pos": labelled[label].astype("float64"),
                            "exposure": weight}).groupby("segment_id")[["pos", "exposure"]].sum()
    network = float(grouped["pos"].sum() / max(grouped["exposure"].sum(), 1.0))
    return smoothed_rates(grouped["pos"], grouped["exposure"], network), network


def segment_rates_from_history(con: duckdb.DuckDBPyConnection, before: datetime,
                               ice_only: bool = False) -> tuple[pd.Series, float]:
    """Historical rates per segment from incidents before `before` over the analysed hours before it.

    Without analysis weather or segments in the database (nothing to count exposure by) every
    segment gets the network rate 0 and the baseline ranks nothing.
    """
    hours, segments = con.execute(
        "SELECT (SELECT count(DISTINCT valid_time) FROM weather_times WHERE kind = 'analysis' AND valid_time < $1), "
        "(SELECT count(*) FROM segments)", [before]).fetchone()
    extra = f"AND {ICE_CONDITION}" if ice_only else ""
    counts = con.execute(
        "SELECT segment_id, count(DISTINCT date_trunc('hour', occurred_at)) AS pos FROM incidents "
        f"WHERE segment_id IS NOT NULL AND occurred_at < ? {extra} GROUP BY segment_id", [before],
    ).df().set_index("segment_id")["pos"].astype("float64")
    if hours == 0 or segments == 0:
        return pd.Series(dtype="float64"), 0.0
    network = float(counts.sum() / (hours * segments))
    return smoothed_rates(counts, pd.Series(float(hours), index=counts.index), network), network


def historical_average(segment_id: pd.Series, rates: pd.Series, network_rate: float) -> np.ndarray:
    """Each row's segment rate; segments without history get the network rate."""
    mapped = segment_id.astype("string").map(rates.rename(index=str))
    return mapped.astype("float64").fillna(network_rate).to_numpy()


def rule_features(specs: Sequence[FeatureSpec]) -> dict[str, str]:
    """role -> feature name, for the roles of the physical rule found among `specs`."""
    found: dict[str, str] = {}
    for role, pattern in RULE_ROLES.items():
        match = next((s.name for s in specs if re.match(pattern, s.name)), None)
        if match:
            found[role] = match
    return found


def rule_fires(features: pd.DataFrame, roles: dict[str, str]) -> np.ndarray:
    """True where freezing rain or snow >= 0.1 mm, or road surface < 0 °C with precipitation >= 0.1 mm."""
    fires = np.zeros(len(features), dtype=bool)
    for role in ("freezing_rain", "snow"):
        if role in roles:
            fires |= features[roles[role]].to_numpy(dtype="float64", na_value=np.nan) >= RULE_MIN_MM
    if "surface_temp" in roles and "precip" in roles:
        cold = features[roles["surface_temp"]].to_numpy(dtype="float64", na_value=np.nan) < 0
        wet = features[roles["precip"]].to_numpy(dtype="float64", na_value=np.nan) >= RULE_MIN_MM
        fires |= cold & wet
    return fires


def rule_rates(labelled: pd.DataFrame, roles: dict[str, str], label: str = "label") -> dict[str, float]:
    """Incident rate of rule-true and rule-false rows (weighted for thinned negatives)."""
    fires = rule_fires(labelled, roles)
    weight = labelled["weight"].to_numpy() if "weight" in labelled else np.ones(len(labelled))
    outcome = labelled[label].to_numpy(dtype="float64")

    def rate(mask: np.ndarray) -> float:
        return float(outcome[mask].sum() / weight[mask].sum()) if mask.any() else 0.0

    return {"fires": rate(fires), "quiet": rate(~fires)}


def rule_probability(features: pd.DataFrame, roles: dict[str, str], rates: dict[str, float]) -> np.ndarray:
    """The rule as a probability: the training rate of its rule-true or rule-false rows."""
    return np.where(rule_fires(features, roles), rates["fires"], rates["quiet"])


def describe_rule(roles: dict[str, str]) -> str:
    """The rule in words, naming the features it uses."""
    terms = [f"{roles[r]} >= {RULE_MIN_MM}" for r in ("freezing_rain", "snow") if r in roles]
    if "surface_temp" in roles and "precip" in roles:
        terms.append(f"({roles['surface_temp']} < 0 and {roles['precip']} >= {RULE_MIN_MM})")
    return " or ".join(terms) if terms else "(no rule features found)"
