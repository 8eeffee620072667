"""The dispatch plan: priority order, capacity over time, reachability, teams import."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from wxrisk.board.dispatch import DispatchProblem, load_teams, plan_dispatch, solve_in_order, travel_minutes
from wxrisk.board.tiers import load_rules
from wxrisk.config import WxriskError
from wxrisk.store import connect

READY = datetime(2024, 2, 2, 0)


def random_problem(seed: int, n_teams: int = 6, n_stretches: int = 25) -> DispatchProblem:
    rng = np.random.default_rng(seed)
    travel = rng.uniform(5, 240, size=(n_teams, n_stretches))
    arrive = rng.uniform(120, 2000, n_stretches)
    return DispatchProblem(
        value=rng.gamma(1.0, 0.5, n_stretches),
        need=rng.integers(1, 4, n_stretches),
        capacity=rng.integers(0, 6, n_teams),
        travel_min=travel,
        reachable=travel <= arrive[None, :],
        arrive_min=arrive,
        end_min=arrive + rng.uniform(60, 1500, n_stretches),
    )


def away(problem: DispatchProblem, cars: np.ndarray, team: int, moment: float) -> int:
    """Cars of `team` away from base at `moment` [min] under the plan."""
    spans = [problem.busy(team, s) for s in range(cars.shape[1])]
    return sum(int(cars[team, s]) for s, (a, b) in enumerate(spans) if a <= moment < b)


def free_for(problem: DispatchProblem, cars: np.ndarray, team: int, stretch: int) -> int:
    """Cars of `team` free during the whole time it would serve `stretch`, under the plan `cars`."""
    start, end = problem.busy(team, stretch)
    moments = [start] + [problem.busy(team, s)[0] for s in range(cars.shape[1]) if start < problem.busy(team, s)[0] < end]
    return int(problem.capacity[team]) - max(away(problem, cars, team, m) for m in moments)


@pytest.mark.parametrize("seed", range(12))
def test_plan_respects_capacity_over_time_reach_and_priority(seed):
    problem = random_problem(seed)
    cars = solve_in_order(problem)
    assert (cars >= 0).all() and (cars[~problem.reachable] == 0).all()
    sent = cars.sum(axis=0)
    assert ((sent == 0) | (sent == problem.need)).all()  # a stretch is covered whole or not at all
    for team in range(cars.shape[0]):  # never more cars away than the team has, at any departure
        for s in range(cars.shape[1]):
            assert away(problem, cars, team, problem.busy(team, s)[0]) <= problem.capacity[team]
    for s in np.flatnonzero(sent == 0):  # left out only when the cars were taken by stretches before it
        before = cars.copy()
        before[:, s:] = 0
        reachable = np.flatnonzero(problem.reachable[:, s])
        assert sum(free_for(problem, before, k, s) for k in reachable) < problem.need[s]


def test_a_car_serves_stretches_one_after_another():
    """One team of 3 cars next to two red stretches: one window after the other both get the
    team; overlapping windows only the first in the list."""
    def problem(second_arrive: float) -> DispatchProblem:
        return DispatchProblem(value=np.array([1.0, 1.0]), need=np.array([3, 3]), capacity=np.array([3]),
                               travel_min=np.array([[10.0, 10.0]]), reachable=np.ones((1, 2), dtype=bool),
                               arrive_min=np.array([120.0, second_arrive]),
                               end_min=np.array([600.0, second_arrive + 300]))
    assert solve_in_order(problem(700.0)).tolist() == [[3, 3]]
    assert solve_in_order(problem(500.0)).tolist() == [[3, 0]]


def test_the_first_in_the_list_is_served_even_when_later_ones_are_worth_more():
    problem = DispatchProblem(value=np.array([0.2, 1.2]), need=np.array([3, 1]), capacity=np.array([3]),
                              travel_min=np.array([[10.0, 10.0]]), reachable=np.ones((1, 2), dtype=bool),
                              arrive_min=np.array([120.0, 120.0]), end_min=np.array([600.0, 600.0]))
    assert problem.covered(solve_in_order(problem)).tolist() == [True, False]


def test_travel_minutes_wuhan_to_yueyang():
    # Wuhan (114.30, 30.60) to Yueyang (113.13, 29.36): about 176 km great circle
    # (haversine, R = 6371 km); x 1.3 road factor / 80 km/h = about 172 min
    minutes = travel_minutes(114.30, 30.60, 113.13, 29.36, 80.0, 1.3)
    assert minutes == pytest.approx(176.0 * 1.3 / 80 * 60, rel=0.02)


def stretches_frame() -> pd.DataFrame:
    """Three stretches in priority order, all through the morning of 2 Feb (UTC)."""
    return pd.DataFrame({
        "stretch_id": ["near-red", "near-blue", "tibet"],
        "tier": ["red", "blue", "orange"],
        "expected_weather_incidents": [0.9, 0.1, 0.5],
        "lon": [114.0, 114.1, 91.1],
        "lat": [30.5, 30.4, 29.6],
        "onset": pd.to_datetime(["2024-02-02T05:00", "2024-02-02T06:00", "2024-02-02T05:00"]),
        "end_time": pd.to_datetime(["2024-02-02T10:00", "2024-02-02T10:00", "2024-02-02T10:00"]),
    })


def test_plan_reports_unreachable_and_uncovered_stretches():
    teams = pd.DataFrame({"team_id": ["WH"], "name": ["武汉"], "province": ["湖北"], "lon": [114.3], "lat": [30.6],
                          "cars": [3]})
    measures = pd.DataFrame(columns=["stretch_id", "start_at", "police"])
    rows, stats = plan_dispatch(stretches_frame(), measures, teams, READY, load_rules())
    status = rows.set_index("stretch_id")["status"]
    assert status["near-red"] == "assigned"    # 3 cars, all of them
    assert status["near-blue"] == "uncovered"  # reachable, but no car left
    assert status["tibet"] == "unreachable"    # 1,100 km away, 4 h to go
    assert rows["cars"].sum() <= teams["cars"].sum()
    assigned = rows[rows["status"] == "assigned"].iloc[0]
    assert assigned["arrive_by"] == pd.Timestamp("2024-02-02T04:00")
    assert assigned["depart_by"] >= pd.Timestamp(READY)
    assert stats["unreachable"] == 1 and stats["covered_expected_weather_incidents"] == pytest.approx(0.9)


def test_teams_import_quarantines_bad_rows_and_replaces_on_reload(tmp_path):
    con = connect(tmp_path / "teams.duckdb")
    path = tmp_path / "teams.csv"
    path.write_text("team_id,name,province,lon,lat,cars\nA,甲,湖北,114.3,30.6,4\nB,乙,湖南,abc,29.4,2\n"
                    "C,丙,湖南,113.1,29.4,-1\nA,甲2,湖北,114.3,30.6,2\n", encoding="utf-8")
    assert load_teams(con, path) == 1
    reasons = [r[0] for r in con.execute("SELECT reason FROM quarantine WHERE kind = 'teams' ORDER BY row_number").fetchall()]
    assert reasons == ["lon, lat and cars must be numbers", "cars -1 is not a whole number >= 0", "duplicate team_id A"]
    yaml_path = tmp_path / "teams.yaml"
    yaml_path.write_text("teams:\n  - {team_id: A, name: 甲, province: 湖北, lon: 114.3, lat: 30.6, cars: 6}\n"
                         "  - {team_id: D, lon: 112.9, lat: 28.2, cars: 2}\n", encoding="utf-8")
    assert load_teams(con, yaml_path) == 2
    assert con.execute("SELECT team_id, cars FROM teams ORDER BY team_id").fetchall() == [("A", 6), ("D", 2)]
    con.close()


def test_a_roster_without_a_valid_team_imports_nothing_but_keeps_the_rows(tmp_path):
    con = connect(tmp_path / "teams.duckdb")
    path = tmp_path / "teams.csv"
    path.write_text("team_id,lon,lat,cars\nA,east,30.6,4\n", encoding="utf-8")
    assert load_teams(con, path) == 0
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 1
    con.close()


def test_a_roster_without_coordinates_is_refused(tmp_path):
    path = tmp_path / "teams.csv"
    path.write_text("team_id,name,cars\nA,甲,4\n", encoding="utf-8")
    with connect(tmp_path / "teams.duckdb") as con, pytest.raises(WxriskError, match=r"teams.csv: teams need the columns"):
        load_teams(con, path)
