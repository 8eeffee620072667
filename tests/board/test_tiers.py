"""Risk tiers rank the board's weather risk; the official warnings follow their rules, apart."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from wxrisk.board.tiers import (
    assign_tiers,
    default_rules_path,
    load_rules,
    segment_hour_signals,
    tier_cuts,
    weather_risk,
)
from wxrisk.config import WxriskError

T0 = datetime(2024, 2, 2, 0)


def rows(n: int, **columns) -> pd.DataFrame:
    """`n` hours of one segment with the given columns."""
    frame = pd.DataFrame({"segment_id": "s1", "valid_time": [T0 + timedelta(hours=h) for h in range(n)]})
    return frame.assign(**columns)


def board(risk) -> pd.DataFrame:
    return pd.DataFrame({"segment_id": [f"s{i}" for i in range(len(risk))], "valid_time": T0, "risk": risk})


def test_red_is_the_top_share_of_the_tiered_segment_hours():
    rules = load_rules()  # floors 0.2 / 0.25 / 0.3 / 0.35 %; top shares yellow 40 %, orange 15 %, red 5 %
    risk = np.r_[np.full(500, 0.0005), np.linspace(0.01, 0.2, 1000)]  # a wide storm: all of it above every floor
    tiers = pd.Series(assign_tiers(board(risk), rules))
    counts = tiers.value_counts()
    assert counts["none"] == 500
    assert (counts["red"], counts["orange"], counts["yellow"], counts["blue"]) == (50, 100, 250, 600)
    assert risk[tiers == "red"].min() > risk[tiers == "orange"].max()  # red is the top of the ranking
    assert risk[tiers == "orange"].min() > risk[tiers == "yellow"].max()


def test_a_quiet_board_stays_quiet_however_it_ranks():
    rules = load_rules()
    risk = np.linspace(0.0001, 0.0024, 200)
    tiers = pd.Series(assign_tiers(board(risk), rules))
    assert set(tiers) == {"none", "blue"}  # the top shares exist, but nothing reaches yellow's floor
    assert (tiers == "blue").sum() == (risk >= 0.002).sum()


def test_floors_and_shares_are_inclusive_cuts():
    rules = load_rules()
    floors = rules["tiers"]["floor"]
    below = {tier: np.nextafter(floors[tier], 0) for tier in floors}
    risk = [below["blue"], floors["blue"], floors["yellow"], floors["orange"], floors["red"]]
    cuts = tier_cuts(np.asarray(risk * 10), rules)  # ten of each: shares cut at exact values
    assert cuts["blue"] == floors["blue"]
    assert all(cuts[tier] >= floors[tier] for tier in ("yellow", "orange", "red"))


def test_tiers_rank_ice_risk_and_else_the_risk_above_normal():
    frame = pd.DataFrame({
        "segment_id": ["rush", "icy_night", "ice_model", "ice_model_dry"],
        "valid_time": T0,
        "risk": [0.05, 0.012, 0.001, 0.05],
        "baseline_risk": [0.049, 0.00002, 0.0, 0.049],
        "ice_risk": [np.nan, np.nan, 0.02, 0.0],
    })
    assert weather_risk(frame) == pytest.approx([0.001, 0.01198, 0.02, 0.0])
    tiers = list(assign_tiers(frame, load_rules()))
    assert tiers[0] == "none" and tiers[3] == "none"  # a busy dry rush hour is not an icy night
    assert tiers[1] != "none" and tiers[2] != "none"


def test_a_warning_never_sets_the_tier():
    features = rows(3, road_temp_c=-3.0, fzra_mm_1h=2.0, snow_mm_1h=0.0, black_ice=1.0, vis_m=30.0)
    signals = segment_hour_signals(features, load_rules())
    assert set(signals["icing_warning"]) == {"red"} and set(signals["visibility_warning"]) == {"red"}
    assert set(assign_tiers(rows(3, risk=0.0001).assign(**signals), load_rules())) == {"none"}


def test_road_icing_warning_follows_the_signal_lead_times():
    """CMA road-icing signal (道路结冰预警信号): yellow within 12 h, orange 6 h, red 2 h or occurring."""
    n = 16
    icing_hour = 13
    road_temp = np.where(np.arange(n) == icing_hour, -0.5, 2.0)
    fzra = np.where(np.arange(n) == icing_hour, 0.1, 0.0)
    features = rows(n, road_temp_c=road_temp, fzra_mm_1h=fzra, snow_mm_1h=0.0, black_ice=0.0, vis_m=20000.0)
    levels = segment_hour_signals(features, load_rules())["icing_warning"].tolist()
    # hour 0: 13 h ahead; 1-6: 12..7 h; 7-10: 6..3 h; 11-13: 2..0 h; after the icing hour: none
    assert levels == ["none"] + ["yellow"] * 6 + ["orange"] * 4 + ["red"] * 3 + ["none"] * 2


def test_icing_needs_frozen_road_and_wetting_or_the_black_ice_flag():
    features = pd.DataFrame({
        "segment_id": ["a", "b", "c", "d"],
        "valid_time": T0,
        "road_temp_c": [0.0, 0.1, -3.0, 5.0],
        "fzra_mm_1h": [0.1, 2.0, 0.0, 0.0],
        "snow_mm_1h": [0.0, 0.0, 0.0, 0.0],
        "black_ice": [0.0, 0.0, 0.0, 1.0],
    })
    signals = segment_hour_signals(features, load_rules())
    # a: 0 °C with freezing rain ices; b: +0.1 °C does not; c: dry frozen road does not; d: flag
    assert signals["icing_warning"].tolist() == ["red", "none", "none", "red"]
    assert signals["black_ice"].tolist() == [True, False, False, True]
    assert signals["freezing_rain"].tolist() == [True, True, False, False]


def test_visibility_control_levels_of_the_expressway_rules():
    """道路交通安全法实施条例 第八十一条: below 200 m, 100 m, 50 m."""
    vis = [200.0, 199.0, 100.0, 99.0, 50.0, 49.0, np.nan]
    features = pd.DataFrame({"segment_id": [f"s{i}" for i in range(len(vis))], "valid_time": T0, "vis_m": vis})
    signals = segment_hour_signals(features, load_rules())
    assert signals["visibility_warning"].tolist() == ["none", "yellow", "yellow", "orange", "orange", "red", "none"]
    assert signals["fog"].tolist() == [False, True, True, True, True, True, False]


def test_missing_inputs_skip_their_rule_and_say_so():
    signals = segment_hour_signals(rows(3, snow_mm_1h=1.0), load_rules())
    assert set(signals["icing_warning"]) == {"none"} and signals["snow"].all()
    skipped = " | ".join(signals.attrs["skipped_rules"])
    assert "icing: no column road_temp_c or black_ice" in skipped
    assert "visibility: no column vis_m" in skipped


def test_signals_align_with_rows_in_any_order():
    features = pd.concat([rows(3, road_temp_c=-2.0, fzra_mm_1h=[0.0, 0.0, 1.0], black_ice=0.0, vis_m=5000.0),
                          rows(3, road_temp_c=5.0, fzra_mm_1h=0.0, black_ice=0.0, vis_m=5000.0).assign(segment_id="s2")])
    shuffled = features.sample(frac=1, random_state=1).set_index(pd.Index([7, 8, 9, 10, 11, 12]))
    signals = segment_hour_signals(shuffled, load_rules())
    assert signals.index.tolist() == [7, 8, 9, 10, 11, 12]
    expected = np.where(shuffled["segment_id"] == "s1", "red", "none")  # icing at s1's hour 2: 0, 1 and 2 h ahead
    assert signals["icing_warning"].tolist() == expected.tolist()


@pytest.mark.parametrize(("old", "new", "message"), [
    ("    orange: 0.003", "    orange: 0.001", "tiers.floor must rise"),
    ("    red: 0.05", "    red: 0.70", "tiers.top_share must fall"),
    ("    red: 0.05", "    red: 1.5", "tiers.top_share must"),
    ("  min_tier: blue", "  min_tier: purple", "stretch.min_tier must be one of"),
])
def test_rules_are_checked_on_load(tmp_path, old, new, message):
    text = default_rules_path().read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "tiers.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(WxriskError, match=message):
        load_rules(path)
