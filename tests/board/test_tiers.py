"""Tier rules at their thresholds (values from the packaged tiers.yaml)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from wxrisk.board.tiers import assign_tiers, default_rules_path, load_rules
from wxrisk.config import WxriskError

T0 = datetime(2024, 2, 2, 0)


def rows(n: int, **columns) -> pd.DataFrame:
    """`n` hours of one segment with the given columns."""
    frame = pd.DataFrame({"segment_id": "s1", "valid_time": [T0 + timedelta(hours=h) for h in range(n)]})
    return frame.assign(**columns)


def test_absolute_risk_thresholds_are_inclusive():
    rules = load_rules()
    edges = rules["risk_absolute"]
    below = {tier: np.nextafter(edges[tier], 0) for tier in edges}
    risk = [below["blue"], edges["blue"], below["yellow"], edges["yellow"], below["orange"], edges["orange"],
            below["red"], edges["red"], 0.9]
    frame = pd.DataFrame({"segment_id": [f"s{i}" for i in range(len(risk))], "valid_time": T0, "risk": risk})
    tiers = assign_tiers(frame, None, rules)
    assert tiers.tolist() == ["none", "blue", "blue", "yellow", "yellow", "orange", "orange", "red", "red"]


def test_relative_risk_raises_tier_only_above_the_floor():
    rules = load_rules()  # ratio blue 2, yellow 4, orange 8; min_risk 0.003
    frame = pd.DataFrame({
        "segment_id": ["a", "b", "c", "d", "e"],
        "valid_time": T0,
        "risk": [0.0039, 0.0040, 0.0040, 0.0040, 0.0029],
        "baseline_risk": [0.002, 0.001, 0.0005, 0.0001, 0.0001],
    })
    tiers = assign_tiers(frame, None, rules)
    # all at or above absolute blue (0.002); a: ratio 1.95 adds nothing; b: 4 -> yellow; c: 8 -> orange;
    # d: 40 -> orange (capped); e: below the relative rule's floor
    assert tiers.tolist() == ["blue", "yellow", "orange", "orange", "blue"]
    assert "risk_relative: no column baseline_risk" not in tiers.attrs["skipped_rules"]


def test_road_icing_lead_times_follow_the_warning_signal():
    """CMA road-icing signal (道路结冰预警信号): yellow within 12 h, orange 6 h, red 2 h or occurring."""
    n = 16
    icing_hour = 13
    road_temp = np.where(np.arange(n) == icing_hour, -0.5, 2.0)
    fzra = np.where(np.arange(n) == icing_hour, 0.1, 0.0)
    features = rows(n, road_temp_c=road_temp, fzra_mm_1h=fzra, snow_mm_1h=0.0, black_ice=0.0, vis_m=20000.0)
    risk = rows(n, risk=0.0)
    tiers = assign_tiers(risk, features).tolist()
    expected = (["none"] + ["yellow"] * 6 + ["orange"] * 4 + ["red"] * 3 + ["none"] * 2)
    # hour 0: 13 h ahead; 1-6: 12..7 h; 7-10: 6..3 h; 11-13: 2..0 h; after the icing hour: none
    assert tiers == expected


def test_icing_needs_frozen_road_and_wetting_or_the_black_ice_flag():
    features = pd.DataFrame({
        "segment_id": ["a", "b", "c", "d"],
        "valid_time": T0,
        "road_temp_c": [0.0, 0.1, -3.0, 5.0],
        "fzra_mm_1h": [0.1, 2.0, 0.0, 0.0],
        "snow_mm_1h": [0.0, 0.0, 0.0, 0.0],
        "black_ice": [0.0, 0.0, 0.0, 1.0],
    })
    risk = features[["segment_id", "valid_time"]].assign(risk=0.0)
    # a: 0 °C with freezing rain ices; b: +0.1 °C does not; c: dry frozen road does not; d: flag
    assert assign_tiers(risk, features).tolist() == ["red", "none", "none", "red"]


def test_visibility_thresholds_of_the_expressway_rules():
    """道路交通安全法实施条例 第八十一条: below 200 m, 100 m, 50 m."""
    vis = [200.0, 199.0, 100.0, 99.0, 50.0, 49.0, np.nan]
    features = pd.DataFrame({"segment_id": [f"s{i}" for i in range(len(vis))], "valid_time": T0, "vis_m": vis})
    risk = features[["segment_id", "valid_time"]].assign(risk=0.0)
    tiers = assign_tiers(risk, features)
    assert tiers.tolist() == ["none", "yellow", "yellow", "orange", "orange", "red", "none"]


def test_missing_inputs_skip_their_rule_and_say_so():
    risk = rows(3, risk=[0.0, 0.006, 0.2])
    tiers = assign_tiers(risk, rows(3, snow_mm_1h=1.0))
    assert tiers.tolist() == ["none", "yellow", "red"]
    skipped = " | ".join(tiers.attrs["skipped_rules"])
    assert "icing: no column road_temp_c or black_ice" in skipped
    assert "visibility: no column vis_m" in skipped
    assert "risk_relative" in skipped


def test_tiers_align_with_risk_rows_in_any_order():
    features = rows(3, road_temp_c=-2.0, fzra_mm_1h=[0.0, 0.0, 1.0], black_ice=0.0, vis_m=5000.0)
    risk = rows(3, risk=0.0).iloc[::-1].set_index(pd.Index([7, 8, 9]))
    tiers = assign_tiers(risk, features.sample(frac=1, random_state=1))
    assert tiers.index.tolist() == [7, 8, 9]
    assert tiers.tolist() == ["red", "red", "red"]  # icing at hour 2: 0, 1 and 2 h ahead


def test_rules_must_rise_with_the_tier(tmp_path):
    bad = default_rules_path().read_text(encoding="utf-8").replace("orange: 0.01", "orange: 0.001")
    assert bad != default_rules_path().read_text(encoding="utf-8")
    path = tmp_path / "tiers.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(WxriskError, match="risk_absolute must rise"):
        load_rules(path)
