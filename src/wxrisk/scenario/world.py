"""Generate the demo world's files: roads, incidents, analyses, forecasts and police bases."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from wxrisk.config import WxriskError
from wxrisk.scenario.episodes import HOLDOUT_YEAR, Winter, demo_winters, spring_festival, winter_world
from wxrisk.scenario.geography import TEAMS
from wxrisk.scenario.history import (
    GridSampler,
    concat_weather,
    draw_incidents,
    hazard_rates,
    write_incidents_csv,
)
from wxrisk.scenario.roads import build_network, segment_pieces, substream, write_roads_geojson
from wxrisk.scenario.truth import TruthWriter
from wxrisk.scenario.weather import (
    Grid,
    compute_fields,
    draw_forecast_error,
    hours_of,
    make_grid,
    pack,
    write_netcdf,
)

DEMO_NOW_UTC = datetime(2024, 2, 1, 21)     # 2024-02-02 05:00 Asia/Shanghai: the demo board's first hour
FORECAST_HOURS = 96                          # valid hours after issue (18 UTC = 02:00 Beijing, 3 h before the board)
CHUNK_HOURS = 168                            # hours computed at a time (bounds memory)


@dataclass(frozen=True)
class ScenarioFiles:
    """What `generate` wrote; all datetimes are naive UTC."""

    roads: Path                                   # GeoJSON FeatureCollection
    incidents: Path                               # CSV, generic preset
    analysis: list[Path]                          # NetCDF, one per history window
    forecasts: list[tuple[Path, datetime]]        # NetCDF and its issue time
    teams: Path                                   # CSV team_id,name,province,lon,lat,cars
    truth: Path                                   # Parquet: the generating hazard per imported segment-hour
    now: datetime                                 # the demo board's start hour
    train_until: datetime                         # history before this trains the model
    holdout_winter: tuple[datetime, datetime]     # the evaluation window [start, end)


@dataclass(frozen=True)
class SizeSpec:
    """How much world to write."""

    refs: tuple[str, ...] | None                  # corridors (None: all)
    lat_range: tuple[float, float] | None         # crop of the roads by latitude
    grid: tuple[float, float, float, float, float]  # west, south, east, north, step [deg]
    winters: tuple[Winter, ...]
    forecast_issues: tuple[str, ...]              # UTC issue times


def _tiny_winters() -> tuple[Winter, ...]:
    return (
        Winter("2021-22", spring_festival(2022), hours_of("2022-01-25T00"), hours_of("2022-02-10T00"), "train"),
        Winter("2022-23", spring_festival(2023), hours_of("2023-01-11T00"), hours_of("2023-01-30T00"), "train"),
        Winter("2023-24", spring_festival(2024), hours_of("2024-01-30T00"), hours_of("2024-02-05T00"), "holdout"),
    )


def size_spec(size: str) -> SizeSpec:
    """The demo world (`demo`) or a ~55 km slice of the G4 over the Yangtze at Wuhan for flow tests (`tiny`)."""
    if size == "demo":
        issues = tuple(str(np.datetime64("2024-01-28T18") + np.timedelta64(d, "D")) for d in range(9))
        return SizeSpec(None, None, (108.0, 22.0, 122.0, 36.0, 0.25), demo_winters(), issues)
    if size == "tiny":
        return SizeSpec(("G4",), (30.18, 30.68), (113.5, 29.75, 114.75, 31.0, 0.25), _tiny_winters(),
                        ("2024-02-01T18",))
    raise WxriskError(f"scenario size {size!r}: expected 'demo' or 'tiny'")


def _datetime(hours: int) -> datetime:
    return datetime(2000, 1, 1) + timedelta(hours=int(hours))


def generate(out_dir: str | Path, seed: int = 2024, size: str = "demo") -> ScenarioFiles:
    """Write the demo world into `out_dir` in the CONTRACT formats; same seed and size, same bytes."""
    spec = size_spec(size)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    roads = write_roads_geojson(build_network(seed, spec.refs, spec.lat_range), out / "roads.geojson")
    pieces = segment_pieces(roads)
    grid = make_grid(*spec.grid)
    sampler = GridSampler.for_points(grid, pieces.lon, pieces.lat)
    analysis, rows, truth = [], [], TruthWriter(out / "truth.parquet", pieces.segment_id)
    for w in spec.winters:
        world = winter_world(seed, w.festival.year)
        hours = np.arange(w.start_h, w.end_h, dtype=np.int64)
        path, weather = _write_analysis(world, grid, hours, sampler, out / f"analysis_{w.label}.nc")
        analysis.append(path)
        rate, state = hazard_rates(pieces, weather, hours, w.festival)
        truth.add(hours, rate, np.where(state["icy"], rate, 0.0))
        rows += draw_incidents(substream(seed, f"incidents/{w.label}"), w.label, pieces, weather, hours, rate, state)
    incidents = write_incidents_csv(rows, out / "incidents.csv")
    holdout_world = winter_world(seed, HOLDOUT_YEAR)
    forecasts = []
    for issue in spec.forecast_issues:
        issued_h = hours_of(issue)
        name = f"forecast_{_datetime(issued_h):%Y%m%d%H}.nc"
        path = _write_forecast(holdout_world, grid, issued_h, seed, out / name)
        forecasts.append((path, _datetime(issued_h)))
    holdout = next(w for w in spec.winters if w.role == "holdout")
    return ScenarioFiles(
        roads=roads, incidents=incidents, analysis=analysis, forecasts=forecasts,
        teams=write_teams_csv(out / "teams.csv"), truth=truth.close(), now=DEMO_NOW_UTC, train_until=holdout.start, holdout_winter=(holdout.start, holdout.end),
    )


def _write_analysis(world, grid: Grid, hours: np.ndarray, sampler: GridSampler, path: Path):
    packed_parts, ptype_parts, weather_parts = [], [], []
    for first in range(0, len(hours), CHUNK_HOURS):
        fields = compute_fields(world, grid, hours[first:first + CHUNK_HOURS])
        packed_parts.append(pack(fields))
        ptype_parts.append(fields["ptype"])
        weather_parts.append(sampler.sample(fields))
    packed = {name: np.concatenate([p[name] for p in packed_parts]) for name in packed_parts[0]}
    write_netcdf(path, packed, np.concatenate(ptype_parts), grid, hours, "analysis")
    return path, concat_weather(weather_parts)


def _write_forecast(world, grid: Grid, issued_h: int, seed: int, path: Path) -> Path:
    hours = np.arange(issued_h + 1, issued_h + FORECAST_HOURS + 1, dtype=np.int64)
    error = draw_forecast_error(world, substream(seed, f"forecast/{issued_h}"))
    fields = compute_fields(world, grid, hours, issued_h=issued_h, error=error)
    return write_netcdf(path, pack(fields), fields["ptype"], grid, hours, "forecast", issued_h)


def write_teams_csv(path: Path) -> Path:
    """Expressway police bases at real cities along the corridors."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["team_id", "name", "province", "lon", "lat", "cars"])
        writer.writerows(TEAMS)
    return path
