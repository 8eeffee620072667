"""Dispatch plan: patrol cars from team bases to stretches, to cover the most expected incidents.

A stretch is covered when it gets all the cars its tier needs, each arriving before its first
police measure starts (travel = great-circle distance x road factor / speed). A measure whose
start is already past, or closer than `max_response_min`, gets that response target instead.
Each car serves one stretch in the plan. `solve_milp` (HiGHS through `scipy.optimize.milp`)
gives the optimum; `solve_greedy` is the quick rule it is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from wxrisk.config import WxriskError
from wxrisk.store.ledger import run_import
from wxrisk.vocab import haversine_km

TEAM_COLUMNS = ("team_id", "name", "province", "lon", "lat", "cars")
DISPATCH_COLUMNS = ["stretch_id", "team_id", "cars", "travel_min", "depart_by", "arrive_by", "status", "cars_needed"]


def _read_team_rows(path: Path) -> list[dict]:
    """Team rows as read from CSV or YAML (a list, or a mapping with a `teams` list)."""
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            rows = data.get("teams") if isinstance(data, dict) else data
            if not isinstance(rows, list):
                raise WxriskError(f"{path}: expected a list of teams (or a `teams:` list)")
            return [dict(row) if isinstance(row, dict) else {"raw": row} for row in rows]
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, yaml.YAMLError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise WxriskError(f"{path}: cannot read teams ({str(exc).splitlines()[0]})") from exc
    return frame.to_dict("records")


def parse_teams(path: str | Path) -> tuple[pd.DataFrame, list[tuple[int, str, dict]]]:
    """Valid teams (`TEAM_COLUMNS`) and rejected rows (row number, reason, raw row)."""
    path = Path(path)
    rows = _read_team_rows(path)
    if rows and not {"team_id", "lon", "lat", "cars"} <= set().union(*(row.keys() for row in rows)):
        raise WxriskError(f"{path}: teams need the columns team_id, lon, lat, cars (optional name, province)")
    kept, rejected, seen = [], [], set()
    for number, row in enumerate(rows, start=1):
        reason, team = _parse_team(row)
        if reason is None and team["team_id"] in seen:
            reason = f"duplicate team_id {team['team_id']}"
        if reason is not None:
            rejected.append((number, reason, row))
            continue
        seen.add(team["team_id"])
        kept.append(team)
    return pd.DataFrame(kept, columns=list(TEAM_COLUMNS)), rejected


def _parse_team(row: dict) -> tuple[str | None, dict]:
    team_id = str(row.get("team_id") or "").strip()
    if not team_id:
        return "team_id is empty", {}
    try:
        lon, lat, cars = float(row.get("lon")), float(row.get("lat")), float(row.get("cars"))
    except (TypeError, ValueError):
        return "lon, lat and cars must be numbers", {}
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return f"lon/lat {lon}, {lat} outside WGS84 range", {}
    if cars < 0 or cars != int(cars):
        return f"cars {cars:g} is not a whole number >= 0", {}
    name, province = (str(row.get(k) or "").strip() or None for k in ("name", "province"))
    return None, {"team_id": team_id, "name": name, "province": province, "lon": lon, "lat": lat, "cars": int(cars)}


def load_teams(con, path: str | Path) -> int:
    """Import a team roster (CSV/YAML: team_id, name, province, lon, lat, cars) into `teams`.

    Teams of the same file, or with the same ids, are replaced; bad rows go to quarantine.
    Returns the number of teams kept.
    """
    path = Path(path)
    teams, rejected = parse_teams(path)
    window_key = f"teams:{path.name}"

    def write(entry) -> None:
        ids = teams["team_id"].tolist()
        con.execute("DELETE FROM teams WHERE source = ? OR list_contains(?::VARCHAR[], team_id)", [window_key, ids])
        if ids:
            con.executemany(
                "INSERT INTO teams (team_id, name, province, lon, lat, cars, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [[*row, window_key] for row in teams.itertuples(index=False)],
            )
        entry.quarantine(rejected)
        entry.rows_read = len(teams) + len(rejected)
        entry.rows_kept = len(teams)

    result = run_import(con, "teams", path, window_key, write)
    return result.rows_kept


@dataclass(frozen=True)
class DispatchProblem:
    """Stretches s (value, need) and teams k (capacity), with travel times and reachability."""

    value: np.ndarray       # expected incidents per stretch
    need: np.ndarray        # cars per stretch
    capacity: np.ndarray    # cars per team
    travel_min: np.ndarray  # [team, stretch] travel time [min]
    reachable: np.ndarray   # [team, stretch] arrives before the deadline

    def covered_value(self, cars: np.ndarray) -> float:
        """Expected incidents on fully covered stretches."""
        return float(self.value[self.covered(cars)].sum())

    def covered(self, cars: np.ndarray) -> np.ndarray:
        return (cars.sum(axis=0) >= self.need) & (self.need > 0)


def travel_minutes(team_lon, team_lat, lon, lat, speed_kmh: float, road_factor: float) -> np.ndarray:
    """Travel time [min] from bases to points: great-circle km x road factor / speed [km/h]."""
    return haversine_km(team_lon, team_lat, lon, lat) * road_factor / speed_kmh * 60.0


def solve_greedy(problem: DispatchProblem) -> np.ndarray:
    """Cars [team, stretch]: stretches by expected incidents per car, nearest teams first."""
    remaining = problem.capacity.astype(int).copy()
    cars = np.zeros(problem.travel_min.shape, dtype=int)
    order = np.argsort(-problem.value / np.maximum(problem.need, 1), kind="stable")
    for s in order:
        teams = np.flatnonzero(problem.reachable[:, s] & (remaining > 0))
        if problem.need[s] <= 0 or remaining[teams].sum() < problem.need[s]:
            continue
        still = int(problem.need[s])
        for k in teams[np.argsort(problem.travel_min[teams, s], kind="stable")]:
            take = min(still, int(remaining[k]))
            cars[k, s], remaining[k], still = take, remaining[k] - take, still - take
            if still == 0:
                break
    return cars


def solve_milp(problem: DispatchProblem, time_limit_s: float = 20.0) -> np.ndarray:
    """Cars [team, stretch] maximising covered expected incidents, then minimising travel.

    Variables: x[k, s] cars of team k on stretch s (integer), y[s] stretch covered (binary).
    sum_k x[k, s] = need[s] y[s];  sum_s x[k, s] <= capacity[k];  x = 0 where unreachable.
    """
    n_teams, n_stretches = problem.travel_min.shape
    n_x = n_teams * n_stretches
    if n_x == 0:
        return np.zeros((n_teams, n_stretches), dtype=int)
    upper_x = np.where(problem.reachable, np.minimum(problem.capacity[:, None], problem.need[None, :]), 0).ravel()
    bounds = Bounds(np.zeros(n_x + n_stretches), np.concatenate([upper_x, np.ones(n_stretches)]))
    k_index, s_index = np.divmod(np.arange(n_x), n_stretches)
    cover = coo_array(
        (np.concatenate([np.ones(n_x), -problem.need.astype(float)]),
         (np.concatenate([s_index, np.arange(n_stretches)]), np.concatenate([np.arange(n_x), n_x + np.arange(n_stretches)]))),
        shape=(n_stretches, n_x + n_stretches),
    )
    capacity = coo_array((np.ones(n_x), (k_index, np.arange(n_x))), shape=(n_teams, n_x + n_stretches))
    constraints = [LinearConstraint(cover, 0, 0), LinearConstraint(capacity, 0, problem.capacity.astype(float))]
    integrality = np.ones(n_x + n_stretches)
    options = {"time_limit": time_limit_s}
    value_objective = np.concatenate([np.zeros(n_x), -problem.value])
    first = milp(value_objective, constraints=constraints, bounds=bounds, integrality=integrality, options=options)
    if first.x is None:
        raise WxriskError(f"dispatch: the solver found no plan ({first.message})")
    best = -first.fun
    keep_value = LinearConstraint(np.concatenate([np.zeros(n_x), problem.value])[None, :], best - 1e-9 * max(best, 1.0), np.inf)
    travel_objective = np.concatenate([problem.travel_min.ravel(), np.zeros(n_stretches)])
    second = milp(travel_objective, constraints=[*constraints, keep_value], bounds=bounds,
                  integrality=integrality, options=options)
    solution = second.x if second.x is not None else first.x
    return np.round(solution[:n_x]).astype(int).reshape(n_teams, n_stretches)


def stretch_deadlines(stretches: pd.DataFrame, measures: pd.DataFrame, ready_at: pd.Timestamp,
                      max_response_min: float) -> pd.Series:
    """When the cars must be on each stretch [UTC]: its first police measure's start, but no
    earlier than `ready_at` + the response target."""
    police = measures[measures["police"].astype(bool)]
    first_start = pd.to_datetime(stretches["stretch_id"].map(police.groupby("stretch_id")["start_at"].min()))
    starts = first_start.where(first_start.notna(), pd.to_datetime(stretches["onset"]))
    return starts.clip(lower=pd.Timestamp(ready_at) + pd.Timedelta(minutes=max_response_min))


def build_problem(stretches: pd.DataFrame, teams: pd.DataFrame, deadlines: pd.Series, ready_at: pd.Timestamp,
                  rules: dict) -> DispatchProblem:
    """The dispatch problem of a board: values, needs, capacities, travel and reachability."""
    section = rules["dispatch"]
    travel = travel_minutes(teams["lon"].to_numpy(float)[:, None], teams["lat"].to_numpy(float)[:, None],
                            stretches["lon"].to_numpy(float)[None, :], stretches["lat"].to_numpy(float)[None, :],
                            float(section["speed_kmh"]), float(section["road_factor"]))
    available_min = ((deadlines - pd.Timestamp(ready_at)).dt.total_seconds() / 60.0).to_numpy(float)
    return DispatchProblem(
        value=stretches["expected_incidents"].to_numpy(float),
        need=stretches["tier"].map(section["cars_needed"]).fillna(0).to_numpy(int),
        capacity=teams["cars"].to_numpy(int),
        travel_min=travel,
        reachable=(travel <= available_min[None, :]) & (teams["cars"].to_numpy(int) > 0)[:, None],
    )


def dispatch_rows(stretches: pd.DataFrame, teams: pd.DataFrame, problem: DispatchProblem, cars: np.ndarray,
                  deadlines: pd.Series) -> pd.DataFrame:
    """The plan as `dispatch` rows: one per team sent, or one `unreachable`/`uncovered` row."""
    rows = []
    covered = problem.covered(cars)
    for s, stretch in enumerate(stretches.itertuples(index=False)):
        deadline = deadlines.iloc[s]
        base = {"stretch_id": stretch.stretch_id, "cars_needed": int(problem.need[s])}
        if covered[s]:
            for k in np.flatnonzero(cars[:, s]):
                travel = float(problem.travel_min[k, s])
                rows.append({**base, "team_id": teams["team_id"].iloc[k], "cars": int(cars[k, s]),
                             "travel_min": round(travel, 1),
                             "depart_by": deadline - pd.Timedelta(minutes=travel), "arrive_by": deadline,
                             "status": "assigned"})
        else:
            status = "unreachable" if not problem.reachable[:, s].any() else "uncovered"
            rows.append({**base, "team_id": None, "cars": 0, "travel_min": None, "depart_by": None,
                         "arrive_by": deadline, "status": status})
    return pd.DataFrame(rows, columns=DISPATCH_COLUMNS)


def plan_dispatch(stretches: pd.DataFrame, measures: pd.DataFrame, teams: pd.DataFrame, ready_at,
                  rules: dict) -> tuple[pd.DataFrame, dict]:
    """The dispatch rows of a board and what was measured (covered expected incidents by
    solver and by greedy, cars used).

    stretches : `build_stretches` rows; measures : `assign_measures` rows; teams : the `teams` table
    ready_at  : when the teams can leave their bases [UTC naive]
    """
    ready_at = pd.Timestamp(ready_at)
    deadlines = stretch_deadlines(stretches, measures, ready_at, float(rules["dispatch"]["max_response_min"]))
    problem = build_problem(stretches, teams, deadlines, ready_at, rules)
    best, greedy = solve_milp(problem), solve_greedy(problem)
    solver = "milp" if problem.covered_value(best) >= problem.covered_value(greedy) else "greedy"  # MILP time limit hit
    cars = best if solver == "milp" else greedy
    rows = dispatch_rows(stretches, teams, problem, cars, deadlines)
    stats = {
        "solver": solver,
        "covered_expected_incidents": problem.covered_value(cars),
        "greedy_covered_expected_incidents": problem.covered_value(greedy),
        "total_expected_incidents": float(problem.value.sum()),
        "cars_assigned": int(cars.sum()),
        "cars_available": int(problem.capacity.sum()),
        "unreachable": int((rows["status"] == "unreachable").sum()),
        "uncovered": int((rows["status"] == "uncovered").sum()),
    }
    return rows, stats
