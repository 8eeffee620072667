"""The three kinds of model a version holds, and what each one sees.

- **risk**: P(at least one incident on the segment in the hour), every feature of the catalog
  with its monotone direction, on top of the region's hour-of-week offset (`exposure`).
- **ice share**: P(the incident is an ice/snow one | an incident, the weather and road there),
  learnt from every incident of the region; `ice_risk = risk x share`.
- **yardstick**: the plain LightGBM every evaluation shows beside ours: default parameters,
  the hour's raw inputs only (`RAW_INPUTS`: weather as imported, road attributes, the clock),
  no derived physics, no history, no constraints, 100 rounds. It learns from the same thinned
  rows as ours but unweighted, as a plain model would (weights of ~1/rate would let LightGBM's
  20-row leaves hold only incidents), and its log-odds are shifted by ln(rate) to undo the
  thinning (prior correction, King & Zeng 2001, Political Analysis 9, 137-163).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from wxrisk.features.spec import FeatureSpec
from wxrisk.model.folds import Learner

RISK_LEAVES = (7, 15)  # candidates, chosen by rolling-origin validation
SHARE_LEAVES = (3, 7)
YARDSTICK_ROUNDS = 100  # LightGBM's default num_iterations

# The weather, surface and road features the ice share model may use: what makes an incident
# an ice/snow one is the state of the road, not how busy it is or its record.
SHARE_FEATURES = (
    "t2m_c", "d2m_c", "rh_pct", "wet_bulb_c", "road_temp_c", "skt_c", "phase_code",
    "precip_mm_1h", "precip_mm_3h", "precip_mm_6h", "precip_mm_12h", "precip_mm_24h",
    "snow_mm_1h", "snow_mm_3h", "snow_mm_6h", "snow_mm_12h", "snow_mm_24h",
    "fzra_mm_1h", "fzra_mm_3h", "fzra_mm_6h", "fzra_mm_12h", "fzra_mm_24h",
    "rain_on_frozen_road_mm_3h", "hours_since_precip_h", "hours_below_zero_h", "black_ice",
    "surface_water_mm", "surface_ice_mm", "surface_snow_mm",
    "wind_ms", "vis_m", "solar_elev_deg", "dark", "bridge", "elevation_m", "grade_pct",
)
# Inputs that only ever make an ice/snow incident more likely, given an incident.
SHARE_RAISING = frozenset({
    "snow_mm_1h", "snow_mm_3h", "snow_mm_6h", "snow_mm_12h", "snow_mm_24h",
    "fzra_mm_1h", "fzra_mm_3h", "fzra_mm_6h", "fzra_mm_12h", "fzra_mm_24h",
    "rain_on_frozen_road_mm_3h", "black_ice", "surface_ice_mm", "surface_snow_mm",
})

# The plain yardstick's inputs: values of the hour as imported, road attributes, the clock.
RAW_INPUTS = (
    "t2m_c", "d2m_c", "skt_c", "precip_mm_1h", "snow_mm_1h", "phase_code", "wind_ms", "vis_m",
    "bridge", "tunnel", "is_ramp", "grade_pct", "curvature_deg_per_km", "elevation_m", "maxspeed_kmh", "lanes",
    "hour_local", "dow_local", "is_holiday",
)


def tree_params(learning_rate: float, leaves: int, min_data_in_leaf: int, lambda_l2: float, rows: int,
                seed: int, threads: int) -> dict:
    """Binary log-loss trees, deterministic: fixed threads, no bagging, rows in a fixed order.

    `min_data_in_leaf` is capped at 2 % of the rows, so a small region still splits.
    """
    return {
        "objective": "binary", "learning_rate": learning_rate, "num_leaves": leaves,
        "min_data_in_leaf": max(5, min(min_data_in_leaf, rows // 50)), "min_sum_hessian_in_leaf": 1e-3,
        "lambda_l2": lambda_l2, "monotone_constraints_method": "intermediate", "feature_pre_filter": False,
        "deterministic": True, "force_row_wise": True, "num_threads": threads, "seed": seed,
    }


def risk_candidates(specs: Sequence[FeatureSpec], params: dict, offset_for) -> list[Learner]:
    """Risk learners over every feature of `specs`, one per leaf count of RISK_LEAVES."""
    return [Learner("risk", tuple(s.name for s in specs), tuple(int(s.monotone) for s in specs), "label",
                    {**params, "num_leaves": leaves}, "binary_logloss", offset_for=offset_for)
            for leaves in RISK_LEAVES]


def share_candidates(available: Sequence[str], params: dict) -> list[Learner]:
    """Ice-share learners over SHARE_FEATURES present in `available`, one per leaf count."""
    names = tuple(n for n in SHARE_FEATURES if n in available)
    monotone = tuple(1 if n in SHARE_RAISING else 0 for n in names)
    return [Learner("ice share", names, monotone, "ice", {**params, "num_leaves": leaves}, "binary_logloss")
            for leaves in SHARE_LEAVES]


def yardstick(available: Sequence[str], label: str, seed: int, threads: int) -> Learner:
    """The plain yardstick for `label` over the RAW_INPUTS present in `available`."""
    names = tuple(n for n in RAW_INPUTS if n in available)
    params = {"objective": "binary", "deterministic": True, "force_row_wise": True, "num_threads": threads,
              "seed": seed}
    return Learner(f"yardstick ({label})", names, (0,) * len(names), label, params, "average_precision",
                   rounds=YARDSTICK_ROUNDS, weighted=False)


def undo_thinning(probability: np.ndarray, rate: float) -> np.ndarray:
    """Probabilities of a model trained on negatives kept at `rate`, brought back to the true rate."""
    p = np.clip(np.asarray(probability, dtype="float64"), 1e-12, 1 - 1e-12)
    return 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) + np.log(rate))))
