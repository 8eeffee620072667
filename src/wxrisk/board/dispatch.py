"""Dispatch plan: patrol cars from team bases to stretches, in the order of the priority list.

A stretch is covered when it gets all the cars its tier needs, each arriving before its first
police measure starts (travel = great-circle distance x road factor / speed). A measure whose
start is already past, or closer than `max_response_min`, gets that response target instead.
Stretches are served in priority order, each by the nearest teams that have the cars free for
its whole window; a car serves several stretches whose windows do not overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

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
    """Stretches s in priority order (value, need, window) and teams k (capacity), with travel times
    and reachability. Times are minutes from when the teams can leave their bases."""

    value: np.ndarray       # expected weather incidents per stretch
    need: np.ndarray        # cars per stretch
    capacity: np.ndarray    # cars per team
    travel_min: np.ndarray  # [team, stretch] travel time [min]
    reachable: np.ndarray   # [team, stretch] arrives before the deadline
    arrive_min: np.ndarray  # [stretch] when its cars must be there [min]
    end_min: np.ndarray     # [stretch] when its window ends [min]

    def covered_value(self, cars: np.ndarray) -> float:
        """Expected weather incidents on fully covered stretches."""
        return float(self.value[self.covered(cars)].sum())

    def covered(self, cars: np.ndarray) -> np.ndarray:
        return (cars.sum(axis=0) >= self.need) & (self.need > 0)

    def busy(self, team: int, stretch: int) -> tuple[float, float]:
        """When a car of `team` serving `stretch` is away from its base [min]: from leaving to
        arriving back after the stretch's window."""
        travel = float(self.travel_min[team, stretch])
        return float(self.arrive_min[stretch]) - travel, float(self.end_min[stretch]) + travel


def travel_minutes(team_lon, team_lat, lon, lat, speed_kmh: float, road_factor: float) -> np.ndarray:
    """Travel time [min] from bases to points: great-circle km x road factor / speed [km/h]."""
    return haversine_km(team_lon, team_lat, lon, lat) * road_factor / speed_kmh * 60.0


def cars_in_use(commitments: list[tuple[float, float, int]], start: float, end: float) -> int:
    """The most cars a team has away at once during [start, end) [min], given its commitments
    (start, end, cars)."""
    overlapping = [(a, b, n) for a, b, n in commitments if a < end and start < b]
    moments = [start] + [a for a, _, _ in overlapping if a > start]
    return max((sum(n for a, b, n in overlapping if a <= t < b) for t in moments), default=0)


def solve_in_order(problem: DispatchProblem) -> np.ndarray:
    """Cars [team, stretch], stretches served in their (priority) order, each by the nearest
    teams with cars free for its whole window, whole or not at all. A car serves any number of
    stretches whose windows (with the drives there and back) do not overlap."""
    cars = np.zeros(problem.travel_min.shape, dtype=int)
    commitments: list[list[tuple[float, float, int]]] = [[] for _ in problem.capacity]
    for s in range(len(problem.need)):
        still, chosen = int(problem.need[s]), []
        teams = np.flatnonzero(problem.reachable[:, s])
        for k in teams[np.argsort(problem.travel_min[teams, s], kind="stable")] if still > 0 else ():
            free = int(problem.capacity[k]) - cars_in_use(commitments[k], *problem.busy(k, s))
            if free > 0:
                chosen.append((k, min(still, free)))
                still -= chosen[-1][1]
            if still == 0:
                break
        if still > 0:
            continue  # whole or not at all
        for k, take in chosen:
            cars[k, s] = take
            commitments[k].append((*problem.busy(k, s), take))
    return cars


def stretch_deadlines(stretches: pd.DataFrame, measures: pd.DataFrame, ready_at: pd.Timestamp,
                      max_response_min: float) -> pd.Series:
    """When the cars must be on each stretch [UTC]: its first police measure's start, but no
    earlier than `ready_at` + the response target."""
    police = measures[measures["police"].astype(bool)]
    first_start = pd.to_datetime(stretches["stretch_id"].map(police.groupby("stretch_id")["start_at"].min()))
    starts = first_start.where(first_start.notna(), pd.to_datetime(stretches["onset"]) - pd.Timedelta(hours=1))
    return starts.clip(lower=pd.Timestamp(ready_at) + pd.Timedelta(minutes=max_response_min))


def _minutes_from(times, ready_at: pd.Timestamp) -> np.ndarray:
    return ((pd.to_datetime(pd.Series(times)) - pd.Timestamp(ready_at)).dt.total_seconds() / 60.0).to_numpy(float)


def build_problem(stretches: pd.DataFrame, teams: pd.DataFrame, deadlines: pd.Series, ready_at: pd.Timestamp,
                  rules: dict) -> DispatchProblem:
    """The dispatch problem of a board (stretches in their priority order): values, needs,
    capacities, travel, reachability and windows."""
    section = rules["dispatch"]
    travel = travel_minutes(teams["lon"].to_numpy(float)[:, None], teams["lat"].to_numpy(float)[:, None],
                            stretches["lon"].to_numpy(float)[None, :], stretches["lat"].to_numpy(float)[None, :],
                            float(section["speed_kmh"]), float(section["road_factor"]))
    arrive = _minutes_from(deadlines, ready_at)
    value = stretches["expected_weather_incidents"] if "expected_weather_incidents" in stretches else stretches["expected_incidents"]
    return DispatchProblem(
        value=value.to_numpy(float),
        need=stretches["tier"].map(section["cars_needed"]).fillna(0).to_numpy(int),
        capacity=teams["cars"].to_numpy(int),
        travel_min=travel,
        reachable=(travel <= arrive[None, :]) & (teams["cars"].to_numpy(int) > 0)[:, None],
        arrive_min=arrive,
        end_min=np.maximum(_minutes_from(stretches["end_time"], ready_at), arrive),  # hours end at their label
    )


def dispatch_rows(stretches: pd.DataFrame, teams: pd.DataFrame, problem: DispatchProblem, cars: np.ndarray,
                  deadlines: pd.Series) -> pd.DataFrame:
    """The plan as `dispatch` rows: one per team sent, or one `unreachable`/`uncovered` row."""
    covered, reachable = problem.covered(cars), problem.reachable.any(axis=0)
    sent: dict[int, list[int]] = {}
    for s, k in zip(*(index.tolist() for index in np.nonzero(cars.T)), strict=True):
        sent.setdefault(s, []).append(k)
    team_ids, deadline_of = teams["team_id"].tolist(), deadlines.tolist()
    columns: dict[str, list] = {name: [] for name in DISPATCH_COLUMNS}
    for s, (stretch_id, need) in enumerate(zip(stretches["stretch_id"].tolist(), problem.need.tolist(), strict=True)):
        deadline = deadline_of[s]
        if covered[s]:
            for k in sent[s]:
                travel = float(problem.travel_min[k, s])
                _append(columns, stretch_id, team_ids[k], int(cars[k, s]), round(travel, 1),
                        deadline - pd.Timedelta(minutes=travel), deadline, "assigned", need)
        else:
            _append(columns, stretch_id, None, 0, None, None, deadline,
                    "uncovered" if reachable[s] else "unreachable", need)
    return pd.DataFrame(columns if columns["stretch_id"] else [], columns=DISPATCH_COLUMNS)


def _append(columns: dict[str, list], *row) -> None:
    for name, value in zip(DISPATCH_COLUMNS, row, strict=True):
        columns[name].append(value)


def plan_dispatch(stretches: pd.DataFrame, measures: pd.DataFrame, teams: pd.DataFrame, ready_at,
                  rules: dict) -> tuple[pd.DataFrame, dict]:
    """The dispatch rows of a board, stretches served in the order given (the priority list), and
    what was measured (covered expected weather incidents, cars sent, stretches left).

    stretches : `build_stretches` rows in priority order; measures : `assign_measures` rows;
    teams : the `teams` table; ready_at : when the teams can leave their bases [UTC naive]
    """
    ready_at = pd.Timestamp(ready_at)
    stretches = stretches.reset_index(drop=True)
    deadlines = stretch_deadlines(stretches, measures, ready_at, float(rules["dispatch"]["max_response_min"]))
    problem = build_problem(stretches, teams, deadlines, ready_at, rules)
    cars = solve_in_order(problem)
    rows = dispatch_rows(stretches, teams, problem, cars, deadlines)
    stats = {
        "covered_expected_weather_incidents": problem.covered_value(cars),
        "total_expected_weather_incidents": float(problem.value.sum()),
        "car_assignments": int(cars.sum()),
        "cars_available": int(problem.capacity.sum()),
        "unreachable": int((rows["status"] == "unreachable").sum()),
        "uncovered": int((rows["status"] == "uncovered").sum()),
    }
    return rows, stats
