"""Risk tiers, the official warnings and the weather conditions of segment-hours.

Two things, kept apart (`tiers.yaml`, editable by headquarters):
- the **risk tier** (`none` < `blue` < `yellow` < `orange` < `red`) ranks the weather risk of a
  segment-hour against the board's own distribution: red is the top of the ranking, what the
  teams act on first (`assign_tiers`, on the whole board at once);
- the **warnings**, rule-based and named as the officials name them: the CMA road-icing warning
  signal (icing within 12 / 6 / 2 h) and the visibility control levels (below 200 / 100 / 50 m)
  (`segment_hour_signals`, row by row, a tile at a time). A warning never sets the tier.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from wxrisk.config import WxriskError
from wxrisk.levels import TIER_RANK, TIERS, WARNING_LEVELS, WARNING_RANK

REQUIRED_SECTIONS = ("tiers", "warnings", "conditions", "stretch", "priority", "dispatch")
CONDITION_COLUMNS = ("freezing_rain", "snow", "black_ice", "fog")
WARNING_COLUMNS = ("icing_warning", "visibility_warning")
RAISED_TIERS = TIERS[2:]  # the tiers above blue, which also need a place in the board's ranking


def default_rules_path() -> Path:
    return Path(str(resources.files("wxrisk.board").joinpath("tiers.yaml")))


def load_rules(path: str | Path | None = None) -> dict:
    """The board rules from YAML (default: the packaged `tiers.yaml`), checked; one line names a fault."""
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
    try:
        _check_tiers(path, rules["tiers"])
        _check_levels(path, "warnings.icing.lead_hours", rules["warnings"]["icing"]["lead_hours"], WARNING_RANK,
                      rising=False)
        _check_levels(path, "warnings.visibility.below_m", rules["warnings"]["visibility"]["below_m"], WARNING_RANK,
                      rising=False)
    except (KeyError, TypeError, ValueError) as exc:
        raise WxriskError(f"{path}: board rules: tiers or warnings malformed ({exc})") from exc
    if rules["stretch"].get("min_tier") not in TIERS[1:]:
        raise WxriskError(f"{path}: stretch.min_tier must be one of {', '.join(TIERS[1:])}")
    return rules


def _check_levels(path: Path, name: str, thresholds: dict, ranks: dict, rising: bool) -> None:
    """Thresholds must name known levels (not `none`) and rise (or fall) with the level."""
    unknown = [level for level in thresholds if level not in ranks or level == "none"]
    if unknown:
        raise WxriskError(f"{path}: {name} names unknown level(s) {', '.join(map(str, unknown))}")
    values = [float(thresholds[level]) for level in sorted(thresholds, key=ranks.get)]
    if values != sorted(values, reverse=not rising):
        raise WxriskError(f"{path}: {name} must {'rise' if rising else 'fall'} from the lowest level to red")


def _check_tiers(path: Path, section: dict) -> None:
    floors, shares = section["floor"], section["top_share"]
    _check_levels(path, "tiers.floor", floors, TIER_RANK, rising=True)
    if set(floors) != set(TIERS[1:]):
        raise WxriskError(f"{path}: tiers.floor must give blue, yellow, orange and red")
    _check_levels(path, "tiers.top_share", shares, TIER_RANK, rising=False)
    if set(shares) != set(RAISED_TIERS) or not all(0 < float(v) <= 1 for v in shares.values()):
        raise WxriskError(f"{path}: tiers.top_share must give yellow, orange and red as shares in (0, 1]")


# --- the risk tier --------------------------------------------------------------------------------

def _column(frame: pd.DataFrame, name: str, rows: np.ndarray | None = None) -> np.ndarray:
    """Column `name` as float64 with NaN where missing, at positions `rows` (default: all)."""
    if name not in frame:
        return np.full(len(frame) if rows is None else len(rows), np.nan)
    series = frame[name]
    if series.dtype == np.float64:  # NaN already marks what is missing: read it in place
        values = series.to_numpy()
    else:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    return values if rows is None else values[rows]


def weather_risk(frame: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """What the tiers rank [probability per segment-hour]: `ice_risk` where the model gives it,
    else the weather-attributable risk max(risk - baseline_risk, 0) (an unknown baseline counts 0).
    So a busy dry rush hour (high risk, high baseline) never outranks an icy night.

    rows : positions of the rows wanted (default: all)
    """
    score = np.nan_to_num(_column(frame, "baseline_risk", rows))  # a fresh array: worked in place
    np.subtract(_column(frame, "risk", rows), score, out=score)
    np.maximum(score, 0.0, out=score)
    ice = _column(frame, "ice_risk", rows)
    np.copyto(score, ice, where=~np.isnan(ice))
    return score


def tier_cuts(score: np.ndarray, rules: dict) -> dict[str, float]:
    """The weather risk each tier starts at on this board [probability per segment-hour].

    Blue starts at its floor. Each higher tier starts at its floor or at the weather risk that
    keeps it within its `top_share` of the board's blue-or-above segment-hours, whichever is higher.
    """
    section = rules["tiers"]
    cuts = {"blue": float(section["floor"]["blue"])}
    ranked = score[score >= cuts["blue"]]
    for tier in RAISED_TIERS:
        within = int(np.floor(float(section["top_share"][tier]) * len(ranked)))
        share_cut = np.partition(ranked, len(ranked) - within)[len(ranked) - within] if within else np.inf
        cuts[tier] = max(float(section["floor"][tier]), float(share_cut))
    return cuts


def assign_tiers(frame: pd.DataFrame, rules: dict) -> pd.Categorical:
    """The tier of every segment-hour of a whole board (ordered Categorical `none` .. `red`).

    frame : `risk`, optionally `ice_risk` and `baseline_risk` [probability per segment-hour]. The
    cuts are shares of this board's ranking, so call it once on the whole board, never per tile.
    """
    if "risk" not in frame and "ice_risk" not in frame:
        raise WxriskError("risk table: column 'risk' missing")
    score = weather_risk(frame)
    rank = np.zeros(len(frame), dtype=np.int8)
    for tier, cut in tier_cuts(score, rules).items():
        rank[score >= cut] = TIER_RANK[tier]
    return pd.Categorical.from_codes(rank, categories=TIERS, ordered=True)


# --- warnings and conditions, row by row ------------------------------------------------------------

def _float(features: pd.DataFrame, column: str) -> np.ndarray | None:
    return features[column].to_numpy(dtype="float64", na_value=np.nan) if column in features else None


def icing_now(features: pd.DataFrame, rules: dict) -> tuple[np.ndarray, list[str]]:
    """Whether each row's road ices (bool array), and the icing inputs that were absent.

    Icing: road surface at or below `road_temp_max_c` with one of the precipitation amounts
    reached, or the black-ice indicator set.
    """
    section = rules["warnings"]["icing"]
    absent: list[str] = []
    icing = np.zeros(len(features), dtype=bool)
    black_ice = _float(features, section["black_ice_column"])
    if black_ice is None:
        absent.append(section["black_ice_column"])
    else:
        icing |= black_ice >= float(section["black_ice_min"])
    road_temp = _float(features, section["road_temp_column"])
    if road_temp is None:
        return icing, [*absent, section["road_temp_column"]]
    wetting = np.zeros(len(features), dtype=bool)
    for column, min_mm in section["precipitation_columns"].items():
        amount = _float(features, column)
        if amount is None:
            absent.append(column)
        else:
            wetting |= amount >= float(min_mm)
    return icing | ((road_temp <= float(section["road_temp_max_c"])) & wetting), absent


def _segment_runs(features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row order that puts each segment's hours together in time order, and the segment codes in it."""
    codes = pd.factorize(features["segment_id"])[0] if len(features) else np.zeros(0, dtype=np.int64)
    hours = pd.to_datetime(features["valid_time"]).to_numpy().astype("datetime64[h]").astype(np.int64)
    step_code, step_hour = np.diff(codes), np.diff(hours)
    contiguous = len(codes) == 0 or (np.count_nonzero(step_code) + 1 == codes.max() + 1)
    if contiguous and ((step_code != 0) | (step_hour > 0)).all():
        order = np.arange(len(codes))
    else:
        order = np.lexsort((hours, codes))
    return order, codes[order]


def icing_warning_rank(features: pd.DataFrame, icing: np.ndarray, rules: dict) -> np.ndarray:
    """Road-icing warning level per row (0 none .. 3 red) from the hours until that segment ices.

    features : rows with `segment_id`, `valid_time` [UTC], any order; icing : per row (bool).
    """
    order, codes = _segment_runs(features)
    hours = pd.to_datetime(features["valid_time"]).to_numpy().astype("datetime64[h]").astype(np.int64)[order]
    icing_hour = pd.Series(np.where(icing[order], hours, np.nan))
    next_icing = icing_hour[::-1].groupby(codes[::-1]).ffill()[::-1].to_numpy()
    hours_to_icing = next_icing - hours
    rank = np.zeros(len(order), dtype=np.int8)
    for level, lead_h in rules["warnings"]["icing"]["lead_hours"].items():
        rank = np.where(hours_to_icing <= float(lead_h), np.maximum(rank, WARNING_RANK[level]), rank).astype(np.int8)
    out = np.zeros(len(order), dtype=np.int8)
    out[order] = rank
    return out


def visibility_warning_rank(vis_m: np.ndarray, rules: dict) -> np.ndarray:
    """Visibility control level per row (0 none .. 3 red) from visibility [m] (strictly below)."""
    rank = np.zeros(len(vis_m), dtype=np.int8)
    for level, below_m in rules["warnings"]["visibility"]["below_m"].items():
        rank = np.where(vis_m < float(below_m), np.maximum(rank, WARNING_RANK[level]), rank).astype(np.int8)
    return rank


def warning_levels(rank: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(rank, categories=WARNING_LEVELS, ordered=True)


def segment_hour_signals(features: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """The warnings and weather conditions of every feature row, on the features' index.

    Columns: `icing_warning`, `visibility_warning` (ordered Categorical none < yellow < orange <
    red) and `freezing_rain`, `snow`, `black_ice`, `fog` (bool). A tile of segments at a time is
    fine (each segment's hours must all be in the tile). `attrs["skipped_rules"]` names the
    rules and conditions left out for lack of a column.
    """
    skipped: list[str] = []
    icing_section = rules["warnings"]["icing"]
    icing, absent = icing_now(features, rules)
    if icing_section["road_temp_column"] in absent and icing_section["black_ice_column"] in absent:
        skipped.append(f"icing: no column {icing_section['road_temp_column']} or {icing_section['black_ice_column']}")
        icing_rank = np.zeros(len(features), dtype=np.int8)
    else:
        skipped += [f"icing: no column {column}" for column in absent]
        icing_rank = icing_warning_rank(features, icing, rules)
    vis = _float(features, rules["warnings"]["visibility"]["column"])
    if vis is None:
        skipped.append(f"visibility: no column {rules['warnings']['visibility']['column']}")
        vis = np.full(len(features), np.nan)
    signals = pd.DataFrame({"icing_warning": warning_levels(icing_rank),
                            "visibility_warning": warning_levels(visibility_warning_rank(vis, rules))},
                           index=features.index)
    conditions = rules["conditions"]
    for name in ("freezing_rain", "snow"):
        amount = _float(features, conditions[name]["column"])
        signals[name] = np.zeros(len(features), dtype=bool) if amount is None else amount >= float(conditions[name]["min"])
    signals["black_ice"] = icing
    signals["fog"] = vis < float(conditions["fog_below_vis_m"])
    signals.attrs["skipped_rules"] = skipped
    return signals
