"""Tiers of a segment-hour (`none` < `blue` < `yellow` < `orange` < `red`) from risk and warnings.

The rules live in `tiers.yaml` (editable); each rule whose input column is absent is skipped
and named in the result's `attrs["skipped_rules"]`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from wxrisk.config import WxriskError
from wxrisk.vocab import TIER_RANK, TIERS

KEYS = ["segment_id", "valid_time"]
REQUIRED_SECTIONS = ("risk_absolute", "risk_relative", "icing", "visibility", "conditions", "stretch", "dispatch")


def default_rules_path() -> Path:
    return Path(str(resources.files("wxrisk.board").joinpath("tiers.yaml")))


def load_rules(path: str | Path | None = None) -> dict:
    """The board rules from YAML (default: the packaged `tiers.yaml`), checked."""
    path = Path(path) if path is not None else default_rules_path()
    try:
        rules = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise WxriskError(f"{path}: cannot read board rules ({str(exc).splitlines()[0]})") from exc
    if not isinstance(rules, dict):
        raise WxriskError(f"{path}: board rules must be a mapping")
    missing = [name for name in REQUIRED_SECTIONS if name not in rules]
    if missing:
        raise WxriskError(f"{path}: board rules lack section(s) {', '.join(missing)}")
    _check_increasing(path, "risk_absolute", rules["risk_absolute"], increasing=True)
    _check_increasing(path, "risk_relative.ratio", rules["risk_relative"]["ratio"], increasing=True)
    _check_increasing(path, "visibility.below_m", rules["visibility"]["below_m"], increasing=False)
    _check_increasing(path, "icing.lead_hours", rules["icing"]["lead_hours"], increasing=False)
    if rules["stretch"]["min_tier"] not in TIERS[1:]:
        raise WxriskError(f"{path}: stretch.min_tier must be one of {', '.join(TIERS[1:])}")
    return rules


def _check_increasing(path: Path, name: str, thresholds: dict, increasing: bool) -> None:
    """Thresholds must name tiers and grow (or shrink) with the tier."""
    unknown = [tier for tier in thresholds if tier not in TIER_RANK or tier == "none"]
    if unknown:
        raise WxriskError(f"{path}: {name} names unknown tier(s) {', '.join(map(str, unknown))}")
    values = [float(thresholds[tier]) for tier in sorted(thresholds, key=TIER_RANK.get)]
    ordered = values == sorted(values, reverse=not increasing)
    if not ordered:
        raise WxriskError(f"{path}: {name} must {'rise' if increasing else 'fall'} from blue to red")


def _rank_from_thresholds(values: np.ndarray, thresholds: dict, at_least: bool) -> np.ndarray:
    """Tier rank per value: the highest tier whose threshold is reached (NaN reaches none)."""
    rank = np.zeros(len(values), dtype=np.int8)
    for tier, threshold in thresholds.items():
        reached = values >= float(threshold) if at_least else values < float(threshold)
        rank = np.where(reached & ~np.isnan(values), np.maximum(rank, TIER_RANK[tier]), rank)
    return rank


def absolute_rank(risk: np.ndarray, rules: dict) -> np.ndarray:
    """Tier rank from calibrated risk [probability per segment-hour]."""
    return _rank_from_thresholds(risk, rules["risk_absolute"], at_least=True)


def relative_rank(risk: np.ndarray, baseline: np.ndarray, rules: dict) -> np.ndarray:
    """Tier rank from risk / the segment's normal risk for that hour [ratio]."""
    section = rules["risk_relative"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(baseline > 0, risk / baseline, np.nan)
    ratio = np.where(risk >= float(section["min_risk"]), ratio, np.nan)
    return _rank_from_thresholds(ratio, section["ratio"], at_least=True)


def visibility_rank(vis_m: np.ndarray, rules: dict) -> np.ndarray:
    """Tier rank from visibility [m]: below 200 / 100 / 50 m by default."""
    return _rank_from_thresholds(vis_m, rules["visibility"]["below_m"], at_least=False)


def icing_now(features: pd.DataFrame, rules: dict) -> tuple[np.ndarray, list[str]]:
    """Whether each row's road ices (bool array), and the icing inputs that were absent."""
    section = rules["icing"]
    absent: list[str] = []
    icing = np.zeros(len(features), dtype=bool)
    black_ice_column = section["black_ice_column"]
    if black_ice_column in features:
        icing |= features[black_ice_column].to_numpy(dtype=float, na_value=np.nan) >= float(section["black_ice_min"])
    else:
        absent.append(black_ice_column)
    temp_column = section["road_temp_column"]
    if temp_column not in features:
        return icing, [*absent, temp_column]
    frozen = features[temp_column].to_numpy(dtype=float, na_value=np.nan) <= float(section["road_temp_max_c"])
    wetting = np.zeros(len(features), dtype=bool)
    for column, min_mm in section["precipitation_columns"].items():
        if column in features:
            wetting |= features[column].to_numpy(dtype=float, na_value=np.nan) >= float(min_mm)
        else:
            absent.append(column)
    return icing | (frozen & wetting), absent


def icing_lead_rank(features: pd.DataFrame, icing: np.ndarray, rules: dict) -> np.ndarray:
    """Tier rank from the hours until the road ices on that segment (0 when icing now).

    features : rows with `segment_id`, `valid_time` [UTC]; icing per row (bool).
    """
    frame = pd.DataFrame({
        "segment_id": features["segment_id"].to_numpy(),
        "valid_time": pd.to_datetime(features["valid_time"]).to_numpy(),
        "icing": icing,
        "row": np.arange(len(features)),
    }).sort_values(["segment_id", "valid_time"], ascending=[True, False])
    next_icing = frame["valid_time"].where(frame["icing"])
    frame["next_icing"] = next_icing.groupby(frame["segment_id"]).ffill()
    hours_to_icing = (frame["next_icing"] - frame["valid_time"]).dt.total_seconds().to_numpy() / 3600.0
    rank = np.zeros(len(frame), dtype=np.int8)
    for tier, lead_h in rules["icing"]["lead_hours"].items():
        within = hours_to_icing <= float(lead_h)
        rank = np.where(within, np.maximum(rank, TIER_RANK[tier]), rank)
    out = np.zeros(len(features), dtype=np.int8)
    out[frame["row"].to_numpy()] = rank
    return out


def _aligned_features(risk_df: pd.DataFrame, features_df: pd.DataFrame | None) -> pd.DataFrame:
    """The feature rows matching the risk rows, in risk-row order (missing rows as NaN)."""
    keys = risk_df[KEYS].reset_index(drop=True)
    if features_df is None or features_df.empty:
        return keys
    feature_columns = [c for c in features_df.columns if c not in KEYS and c not in risk_df.columns]
    extra = features_df[KEYS + feature_columns].drop_duplicates(KEYS)
    merged = keys.merge(extra, on=KEYS, how="left", validate="many_to_one")
    return merged


def assign_tiers(risk_df: pd.DataFrame, features_df: pd.DataFrame | None, rules: dict | None = None,
                 icing: tuple[np.ndarray, list[str]] | None = None) -> pd.Series:
    """The tier of each risk row: `none`, `blue`, `yellow`, `orange` or `red`.

    risk_df     : `segment_id`, `valid_time` [UTC], `risk` [probability per segment-hour],
                  optionally the baseline column named in the rules (normal risk for that hour)
    features_df : `segment_id`, `valid_time` and feature columns (road temperature, icing,
                  precipitation, visibility); None uses risk alone
    icing       : `icing_now(features_df, rules)` when the caller computed it already
    Returns a string Series on `risk_df`'s index; `attrs["skipped_rules"]` names rules skipped
    for lack of an input column.
    """
    rules = rules or load_rules()
    for column in ("segment_id", "valid_time", "risk"):
        if column not in risk_df:
            raise WxriskError(f"risk table: column {column!r} missing")
    risk = risk_df["risk"].to_numpy(dtype=float, na_value=np.nan)
    features = _aligned_features(risk_df, features_df)
    skipped: list[str] = []
    rank = absolute_rank(risk, rules)

    baseline_column = rules["risk_relative"]["baseline_column"]
    if baseline_column in risk_df:
        baseline = risk_df[baseline_column].to_numpy(dtype=float, na_value=np.nan)
        rank = np.maximum(rank, relative_rank(risk, baseline, rules))
    else:
        skipped.append(f"risk_relative: no column {baseline_column}")

    icing, absent = icing if icing is not None else icing_now(features, rules)
    if rules["icing"]["road_temp_column"] in absent and rules["icing"]["black_ice_column"] in absent:
        skipped.append(f"icing: no column {rules['icing']['road_temp_column']} or {rules['icing']['black_ice_column']}")
    else:
        rank = np.maximum(rank, icing_lead_rank(features, icing, rules))
        skipped += [f"icing: no column {column}" for column in absent]

    vis_column = rules["visibility"]["column"]
    if vis_column in features:
        rank = np.maximum(rank, visibility_rank(features[vis_column].to_numpy(dtype=float, na_value=np.nan), rules))
    else:
        skipped.append(f"visibility: no column {vis_column}")

    tiers = pd.Series(np.asarray(TIERS, dtype=object)[rank], index=risk_df.index, name="tier", dtype="string")
    tiers.attrs["skipped_rules"] = skipped
    return tiers


def condition_flags(features_df: pd.DataFrame | None, rules: dict, icing: np.ndarray | None = None) -> pd.DataFrame:
    """Weather conditions per segment-hour: `freezing_rain`, `snow`, `black_ice`, `fog` (bool).

    A flag whose input column is absent is False; `icing` is `icing_now(...)[0]` when already computed.
    """
    if features_df is None or features_df.empty:
        return pd.DataFrame(columns=[*KEYS, "freezing_rain", "snow", "black_ice", "fog"])
    section = rules["conditions"]
    flags = features_df[KEYS].reset_index(drop=True).copy()
    for name in ("freezing_rain", "snow"):
        column = section[name]["column"]
        values = features_df[column].to_numpy(dtype=float, na_value=np.nan) if column in features_df else None
        flags[name] = values >= float(section[name]["min"]) if values is not None else False
    flags["black_ice"] = icing if icing is not None else icing_now(features_df, rules)[0]
    vis_column = rules["visibility"]["column"]
    if vis_column in features_df:
        flags["fog"] = features_df[vis_column].to_numpy(dtype=float, na_value=np.nan) < float(section["fog_below_vis_m"])
    else:
        flags["fog"] = False
    return flags
