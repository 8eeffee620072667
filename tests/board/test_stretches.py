"""Stretch merging: gaps along the road, road changes, time windows."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from wxrisk.board.stretches import build_stretches
from wxrisk.board.tiers import load_rules
from wxrisk.vocab import k_stake

from .conftest import road_segments

T0 = datetime(2024, 2, 2, 0)
TZ = "Asia/Shanghai"  # the board's local time, for the reasons' words


def stretches_of(risk: pd.DataFrame, segments: pd.DataFrame, rules: dict) -> pd.DataFrame:
    return build_stretches(risk, segments, rules, tz=TZ)


def cells(segments: pd.DataFrame, risky: dict[str, list[int]], hours: int = 12, risk: float = 0.05) -> pd.DataFrame:
    """Risk rows for all segments and hours; `risky` maps segment id -> hours at `risk` (orange)."""
    rows = []
    for segment_id in segments["segment_id"]:
        for h in range(hours):
            hot = h in risky.get(segment_id, [])
            rows.append((segment_id, T0 + timedelta(hours=h), risk if hot else 0.001, "orange" if hot else "none"))
    return pd.DataFrame(rows, columns=["segment_id", "valid_time", "risk", "tier"])


def rules_with(gap_km: float = 2.0, gap_hours: int = 2) -> dict:
    rules = load_rules()
    rules["stretch"] = {**rules["stretch"], "gap_km": gap_km, "gap_hours": gap_hours}
    return rules


@pytest.fixture
def g4():
    return road_segments("G4", "w1", 10, 113.3, 30.4, "湖北")


def test_gap_within_tolerance_joins_and_covers_the_gap(g4):
    ids = g4["segment_id"].tolist()
    risk = cells(g4, {ids[2]: [3], ids[3]: [3], ids[6]: [3]})  # K2-K4 risky, K4-K6 quiet, K6-K7 risky
    joined = stretches_of(risk, g4, rules_with(gap_km=2.0))
    assert len(joined) == 1
    stretch = joined.iloc[0]
    assert (stretch["km_from"], stretch["km_to"], stretch["n_segments"]) == (2.0, 7.0, 5)
    assert json.loads(stretch["segment_ids"]) == ids[2:7]
    split = stretches_of(risk, g4, rules_with(gap_km=1.5))
    assert split[["km_from", "km_to"]].values.tolist() == [[2.0, 4.0], [6.0, 7.0]]


def test_different_roads_never_merge(g4):
    other = road_segments("G70", "w2", 10, 113.3, 30.4, "湖北")  # same place, same K-stakes
    segments = pd.concat([g4, other], ignore_index=True)
    risk = cells(segments, {g4["segment_id"][4]: [1], other["segment_id"][4]: [1], other["segment_id"][5]: [1]})
    stretches = stretches_of(risk, segments, rules_with())
    assert stretches["road_ref"].tolist() == ["G4", "G70"]
    assert stretches["n_segments"].tolist() == [1, 2]


def test_same_road_ref_other_feature_is_another_stretch(g4):
    other_carriageway = road_segments("G4", "w9", 10, 113.3, 30.4, "湖北")
    segments = pd.concat([g4, other_carriageway], ignore_index=True)
    risk = cells(segments, {g4["segment_id"][4]: [1], other_carriageway["segment_id"][4]: [1]})
    assert len(stretches_of(risk, segments, rules_with())) == 2


def g4_route(route_id: str | None, lat0: float = 30.4) -> pd.DataFrame:
    """G4 as two features (K0-K10 in 湖北 then K10-K20 in 湖南) on one route `route_id`."""
    north = road_segments("G4", "w1", 10, 113.3, lat0, "湖北")
    south = road_segments("G4", "w2", 10, 113.3 + 10 / (111.32 * np.cos(np.radians(lat0))), lat0, "湖南")
    south[["km_from", "km_to"]] += 10.0
    return pd.concat([north, south], ignore_index=True).assign(route_id=route_id)


def test_a_stretch_runs_across_features_and_the_province_border_of_its_route():
    segments = g4_route("G4#1")
    ids = segments["segment_id"].tolist()
    risk = cells(segments, {ids[8]: [3], ids[9]: [3], ids[10]: [3], ids[11]: [3]})  # K8 to K12
    stretches = stretches_of(risk, segments, rules_with())
    assert len(stretches) == 1
    stretch = stretches.iloc[0]
    assert (stretch["km_from"], stretch["km_to"], stretch["n_segments"]) == (8.0, 12.0, 4)
    assert json.loads(stretch["provinces"]) == ["湖北", "湖南"]
    assert stretch["stretch_id"] == "G4-K8+000-20240202T03Z"
    assert "G4 K8+000–K12+000" in stretch["reasons_en"]


def test_without_a_route_the_source_feature_bounds_the_stretch():
    segments = g4_route(None)
    ids = segments["segment_id"].tolist()
    risk = cells(segments, {ids[8]: [3], ids[9]: [3], ids[10]: [3], ids[11]: [3]})
    stretches = stretches_of(risk, segments, rules_with())
    assert stretches["stretch_id"].tolist() == ["G4-w1-K8+000-20240202T03Z", "G4-w2-K10+000-20240202T03Z"]


def test_another_route_of_the_same_road_is_another_stretch_named_by_its_number():
    first, second = g4_route("G4#1"), g4_route("G4#2", lat0=31.4)
    second["segment_id"] = "far-" + second["segment_id"]
    segments = pd.concat([first, second], ignore_index=True)
    risk = cells(segments, {first["segment_id"][5]: [2], second["segment_id"][5]: [2]})
    stretches = stretches_of(risk, segments, rules_with())
    assert stretches["stretch_id"].tolist() == ["G4-K5+000-20240202T02Z", "G4#2-K5+000-20240202T02Z"]


def test_a_long_stretch_is_cut_into_equal_parts_of_at_most_max_km():
    segments = g4_route("G4#1")
    risky = {sid: [3, 4] for sid in segments["segment_id"][2:19]}  # K2 to K19, 17 km for 2 hours
    rules = rules_with()
    whole = stretches_of(cells(segments, risky), segments, rules)
    rules["stretch"]["max_km"] = 6.0
    cut = stretches_of(cells(segments, risky), segments, rules)
    assert whole[["km_from", "km_to"]].values.tolist() == [[2.0, 19.0]]
    # 17 km in ceil(17 / 6) = 3 parts of 5.67 km; each 1-km segment goes to the part holding its midpoint
    assert cut[["km_from", "km_to"]].values.tolist() == [[2.0, 8.0], [8.0, 13.0], [13.0, 19.0]]
    assert cut["expected_incidents"].sum() == pytest.approx(whole["expected_incidents"].sum())
    assert (cut["onset"] == T0 + timedelta(hours=3)).all()


def test_hours_merge_into_one_window_within_the_time_gap(g4):
    sid = g4["segment_id"][5]
    risk = cells(g4, {sid: [1, 2, 5, 6]})  # quiet at hours 3 and 4: a 2 h gap
    merged = stretches_of(risk, g4, rules_with(gap_hours=2))
    assert len(merged) == 1
    assert (merged.loc[0, "onset"], merged.loc[0, "end_time"]) == (T0 + timedelta(hours=1), T0 + timedelta(hours=6))
    split = stretches_of(risk, g4, rules_with(gap_hours=1))
    assert split["onset"].tolist() == [T0 + timedelta(hours=1), T0 + timedelta(hours=5)]


def test_moving_cell_is_one_stretch_but_distant_hours_are_not(g4):
    ids = g4["segment_id"].tolist()
    # the risky cell moves one km per hour (one storm), then a separate one later far away
    risk = cells(g4, {ids[1]: [0], ids[2]: [1], ids[3]: [2], ids[9]: [10]})
    stretches = stretches_of(risk, g4, rules_with(gap_km=0.5, gap_hours=1))
    assert stretches[["km_from", "km_to"]].values.tolist() == [[1.0, 4.0], [9.0, 10.0]]


def test_window_figures_peak_expected_incidents_and_k_stakes(g4):
    ids = g4["segment_id"].tolist()
    risk = cells(g4, {ids[3]: [2, 3], ids[4]: [3]})
    risk.loc[(risk["segment_id"] == ids[4]) & (risk["valid_time"] == T0 + timedelta(hours=3)), "risk"] = 0.3
    stretch = stretches_of(risk, g4, rules_with(gap_hours=0)).iloc[0]
    assert stretch["peak_risk"] == pytest.approx(0.3)
    assert stretch["peak_time"] == T0 + timedelta(hours=3)
    # sum over both segments and both hours: 0.05 + 0.05 + 0.3 + 0.001 (segment 4 at hour 2)
    assert stretch["expected_incidents"] == pytest.approx(0.401)
    assert stretch["length_km"] == 2.0
    assert stretch["province"] == "湖北"
    assert "K3+000–K5+000" in stretch["reasons_zh"]
    assert json.loads(stretch["tier_onsets"]) == {"blue": "2024-02-02T02:00:00", "yellow": "2024-02-02T02:00:00",
                                                  "orange": "2024-02-02T02:00:00"}


def test_stretch_at_a_provincial_border_hands_over():
    segments = road_segments("G4", "w1", 10, 113.3, 30.4, lambda km: "湖北" if km < 8 else "湖南")
    ids = segments["segment_id"].tolist()
    near = stretches_of(cells(segments, {ids[5]: [1]}), segments, rules_with())
    far = stretches_of(cells(segments, {ids[1]: [1]}), segments, rules_with())
    spans = stretches_of(cells(segments, {ids[7]: [1], ids[8]: [1]}), segments, rules_with())
    assert "cross_province" in json.loads(near.loc[0, "conditions"])  # midpoints 3 km from 湖南 (< 5 km)
    assert "cross_province" not in json.loads(far.loc[0, "conditions"])  # midpoints 7 km apart
    assert json.loads(spans.loc[0, "provinces"]) == ["湖北", "湖南"]


def test_k_stake_format():
    assert k_stake(1203.25) == "K1203+250"
    assert k_stake(0.0) == "K0+000"


@settings(max_examples=20, deadline=None)
@given(grid=arrays(bool, (8, 6)), gap_km=st.sampled_from([0.0, 1.0, 2.0]), gap_hours=st.integers(0, 2))
def test_every_risky_cell_lies_in_a_stretch(grid, gap_km, gap_hours):
    segments = road_segments("G4", "w1", 8, 113.3, 30.4, "湖北")
    risky = {segments["segment_id"][i]: [h for h in range(6) if grid[i, h]] for i in range(8)}
    stretches = stretches_of(cells(segments, risky, hours=6), segments, rules_with(gap_km, gap_hours))
    assert len(stretches) <= grid.sum()
    for i, h in zip(*grid.nonzero(), strict=True):
        when = T0 + timedelta(hours=int(h))
        inside = stretches[(stretches["km_from"] <= i) & (stretches["km_to"] >= i + 1)
                           & (stretches["onset"] <= when) & (stretches["end_time"] >= when)]
        assert len(inside) >= 1
    assert (stretches["expected_incidents"] > 0).all()


def brute_force_stretches(grid: np.ndarray, gap_km: float, gap_hours: int) -> set[frozenset]:
    """Stretches of one road of 1-km segments by the definition, pairwise: cells (segment, hour)."""
    cells_ = [tuple(c) for c in np.argwhere(grid)]
    runs = []  # (hour, lo, hi, cells) per hour, merged along the road
    for h in sorted({c[1] for c in cells_}):
        for i in sorted(c[0] for c in cells_ if c[1] == h):
            if runs and runs[-1][0] == h and i - runs[-1][2] <= gap_km:
                runs[-1] = (h, runs[-1][1], i + 1, runs[-1][3] | {(i, h)})
            else:
                runs.append((h, i, i + 1, {(i, h)}))
    parent = list(range(len(runs)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for a, (ha, loa, hia, _) in enumerate(runs):
        for b, (hb, lob, hib, _) in enumerate(runs):
            if 0 < hb - ha <= gap_hours + 1 and lob - hia <= gap_km and loa - hib <= gap_km:
                parent[find(a)] = find(b)
    groups: dict[int, set] = {}
    for n, run in enumerate(runs):
        groups.setdefault(find(n), set()).update(run[3])
    return {frozenset(g) for g in groups.values()}


@settings(max_examples=40, deadline=None)
@given(grid=arrays(bool, (10, 9)), gap_km=st.sampled_from([0.0, 1.0, 2.0]), gap_hours=st.integers(0, 2))
def test_connected_runs_match_the_pairwise_definition(grid, gap_km, gap_hours):
    from wxrisk.board.stretches import connected, hour_links, spatial_runs

    cols, rows = np.nonzero(grid.transpose())
    route = np.zeros(len(rows), dtype=int)
    run = spatial_runs(cols, route, rows.astype(float), rows + 1.0, gap_km)
    starts = np.flatnonzero(np.r_[True, run[1:] != run[:-1]]) if len(run) else np.zeros(0, dtype=int)
    run_hi = np.maximum.reduceat(rows + 1.0, starts) if len(run) else np.zeros(0)
    a, b = hour_links(route[starts], cols[starts], rows[starts].astype(float), run_hi, gap_km, gap_hours)
    labels = connected(len(starts), a, b)[run] if len(run) else np.zeros(0, dtype=int)
    found: dict[int, set] = {}
    for label, i, h in zip(labels, rows, cols, strict=True):
        found.setdefault(int(label), set()).add((int(i), int(h)))
    assert {frozenset(g) for g in found.values()} == brute_force_stretches(grid, gap_km, gap_hours)


def test_a_stretch_falling_below_its_tier_for_hours_becomes_two_entries(g4):
    """Two freezing-rain waves on one stretch, blue for 8 h between them: two entries, each with its
    own onset, peak, end, tier and measure start times."""
    ids = g4["segment_id"].tolist()
    hours = 30
    rows = []
    for sid in ids[2:6]:
        for h in range(hours):
            tier, risk = ("red", 0.05) if 3 <= h <= 6 else ("orange", 0.02) if 17 <= h <= 19 else \
                ("blue", 0.003) if 7 <= h <= 16 else ("none", 0.0005)
            rows.append((sid, T0 + timedelta(hours=h), risk, tier))
    risk = pd.DataFrame(rows, columns=["segment_id", "valid_time", "risk", "tier"])
    stretches = stretches_of(risk, g4, rules_with())
    assert stretches["tier"].tolist() == ["red", "orange"]
    first, second = stretches.iloc[0], stretches.iloc[1]
    assert first["onset"] == T0 + timedelta(hours=3) and first["peak_time"] == T0 + timedelta(hours=3)
    assert first["end_time"] < second["onset"] and second["end_time"] == T0 + timedelta(hours=19)
    assert second["peak_time"] == T0 + timedelta(hours=17)
    assert json.loads(second["tier_onsets"])["orange"] == "2024-02-02T17:00:00"
    # the 10 blue hours are split between the two episodes; every risky hour is in one of them
    assert (second["onset"] - first["end_time"]) == timedelta(hours=1)
    once = stretches_of(risk, g4, {**rules_with(), "stretch": {**rules_with()["stretch"], "episode_gap_hours": 12}})
    assert len(once) == 1  # a lull shorter than episode_gap_hours keeps one entry


def test_stretches_carry_their_warnings_and_the_weather_risk_they_rank_by(g4):
    ids = g4["segment_id"].tolist()
    risk = cells(g4, {ids[3]: [2, 3, 4], ids[4]: [3]})
    risk["baseline_risk"] = 0.01
    risk["icing_warning"] = pd.Categorical(np.where(risk["valid_time"] >= T0 + timedelta(hours=3), "orange", "yellow"),
                                           categories=["none", "yellow", "orange", "red"], ordered=True)
    stretch = stretches_of(risk, g4, rules_with(gap_hours=0)).iloc[0]
    assert stretch["icing_warning"] == "orange" and stretch["visibility_warning"] == "none"
    assert json.loads(stretch["warning_onsets"]) == {
        "icing": {"yellow": "2024-02-02T02:00:00", "orange": "2024-02-02T03:00:00"}, "visibility": {}}
    # weather risk = risk - baseline: 0.04 for the risky cells, 0 for the quiet cells of its window
    assert stretch["expected_weather_incidents"] == pytest.approx(4 * 0.04, rel=1e-6)
    assert stretch["expected_incidents"] == pytest.approx(4 * 0.05 + 2 * 0.001, rel=1e-6)
    assert stretch["peak_risk"] == pytest.approx(0.04)
    assert "道路结冰橙色预警" in stretch["reasons_zh"] and "预计天气事故 0.16 起" in stretch["reasons_zh"]
