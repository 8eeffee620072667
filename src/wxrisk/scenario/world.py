"""Generate a scenario world's files: roads, incidents, analyses, forecasts, police bases and the known hazard.

Two worlds: `demo` (central China, the 2024 freezing-rain event, anchored to the Wuhan station) and
`guizhou` (the Guizhou plateau's 凝冻), each in two sizes: `demo` (the whole world) and `tiny` (one
stretch of road, for tests).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from wxrisk.config import WxriskError
from wxrisk.scenario import episodes, guizhou
from wxrisk.scenario.episodes import HOLDOUT_YEAR, Winter, history_winters, spring_festival
from wxrisk.scenario.geography import CENTRAL_CHINA, Geography
from wxrisk.scenario.history import (
    GridSampler,
    HazardResult,
    PieceWeather,
    concat_weather,
    draw_incidents,
    hazard_rates,
    write_incidents_csv,
)
from wxrisk.scenario.roads import RoadPieces, build_network, segment_pieces, substream, write_roads_geojson
from wxrisk.scenario.truth import TruthWriter
from wxrisk.scenario.weather import (
    Grid,
    World,
    compute_fields,
    draw_forecast_error,
    hours_of,
    make_grid,
    pack,
    write_netcdf,
)

BOARD_NOW_UTC = datetime(2024, 2, 1, 21)    # 2024-02-02 05:00 Asia/Shanghai: the board's first hour (both worlds)
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
    now: datetime                                 # the board's start hour
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


@dataclass(frozen=True)
class WorldSpec:
    """One scenario world: its map, its winters' weather and its sizes."""

    name: str
    title: str
    geography: Geography
    winter_world: Callable[[int, int], World]      # (seed, festival year) -> the winter's weather
    full_grid: tuple[float, float, float, float, float]
    tiny: SizeSpec


BOARD_ISSUES = tuple(str(np.datetime64("2024-01-28T18") + np.timedelta64(d, "D")) for d in range(9))


def _tiny_winters(first_start: str) -> tuple[Winter, ...]:
    return (
        Winter("2021-22", spring_festival(2022), hours_of(first_start), hours_of("2022-02-10T00"), "train"),
        Winter("2022-23", spring_festival(2023), hours_of("2023-01-04T00"), hours_of("2023-01-30T00"), "train"),
        Winter("2023-24", spring_festival(2024), hours_of("2024-01-30T00"), hours_of("2024-02-05T00"), "holdout"),
    )


WORLDS: dict[str, WorldSpec] = {
    "demo": WorldSpec(
        "demo", "wxrisk demo world: central China, the 2024 freezing-rain event", CENTRAL_CHINA,
        episodes.winter_world, (108.0, 22.0, 122.0, 36.0, 0.25),
        SizeSpec(("G4",), (30.18, 30.68), (113.5, 29.75, 114.75, 31.0, 0.25), _tiny_winters("2022-01-25T00"),
                 ("2024-02-01T18",))),
    "guizhou": WorldSpec(
        "guizhou", "wxrisk second world: the Guizhou plateau's freezing fog and drizzle", guizhou.GEOGRAPHY,
        guizhou.winter_world, (103.75, 24.5, 109.75, 29.0, 0.25),
        SizeSpec(("G75",), (26.40, 26.85), (106.25, 26.0, 107.5, 27.25, 0.25), _tiny_winters("2022-01-18T00"),
                 ("2024-02-01T18",))),
}


def world_spec(world: str) -> WorldSpec:
    if world not in WORLDS:
        raise WxriskError(f"scenario world {world!r}: expected one of {', '.join(sorted(WORLDS))}")
    return WORLDS[world]


def size_spec(size: str, world: str = "demo") -> SizeSpec:
    """The whole world (`demo`) or a ~55 km stretch of road for flow tests (`tiny`)."""
    spec = world_spec(world)
    if size == "demo":
        return SizeSpec(None, None, spec.full_grid, history_winters(), BOARD_ISSUES)
    if size == "tiny":
        return spec.tiny
    raise WxriskError(f"scenario size {size!r}: expected 'demo' or 'tiny'")


def _datetime(hours: int) -> datetime:
    return datetime(2000, 1, 1) + timedelta(hours=int(hours))


def world_hazards(out: Path, seed: int, size: str, write_analysis: bool = False,
                  roles: tuple[str, ...] = ("train", "holdout"), world: str = "demo"
                  ) -> Iterator[tuple[Winter, RoadPieces, PieceWeather, HazardResult]]:
    """Write the world's roads into `out`, then per history window (of the given roles) its segments, the
    analysis weather at them and the hazard (and, with `write_analysis`, the window's analysis file
    `analysis_<label>.nc`)."""
    spec, world_def = size_spec(size, world), world_spec(world)
    features = build_network(seed, spec.refs, spec.lat_range, world_def.geography)
    pieces = segment_pieces(write_roads_geojson(features, out / "roads.geojson", world_def.title))
    grid = make_grid(*spec.grid, geography=world_def.geography)
    sampler = GridSampler.for_points(grid, pieces.lon, pieces.lat)
    for w in (w for w in spec.winters if w.role in roles):
        hours = np.arange(w.start_h, w.end_h, dtype=np.int64)
        path = out / f"analysis_{w.label}.nc" if write_analysis else None
        weather = _analysis_weather(world_def.winter_world(seed, w.festival.year), grid, hours, sampler, path,
                                    world_def.title)
        yield w, pieces, weather, hazard_rates(pieces, weather, hours, w.festival)


def window_incidents(seed: int, winter: Winter, pieces: RoadPieces, result: HazardResult) -> list[dict]:
    """The incidents drawn from a window's hazard (rows of incidents.csv), the same whoever asks."""
    hours = np.arange(winter.start_h, winter.end_h, dtype=np.int64)
    return draw_incidents(substream(seed, f"incidents/{winter.label}"), winter.label, pieces, hours, result)


def generate(out_dir: str | Path, seed: int = 2024, size: str = "demo", world: str = "demo") -> ScenarioFiles:
    """Write a scenario world into `out_dir` in the formats the importers read; same world, seed and size, same bytes."""
    spec, world_def = size_spec(size, world), world_spec(world)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows, truth = [], None
    for w, pieces, _weather, result in world_hazards(out, seed, size, write_analysis=True, world=world):
        truth = truth or TruthWriter(out / "truth.parquet", pieces.segment_id)
        hours = np.arange(w.start_h, w.end_h, dtype=np.int64)
        truth.add(hours, result.expected, result.expected_ice)
        rows += window_incidents(seed, w, pieces, result)
    incidents = write_incidents_csv(rows, out / "incidents.csv")
    holdout_world = world_def.winter_world(seed, HOLDOUT_YEAR)
    grid = make_grid(*spec.grid, geography=world_def.geography)
    forecasts = []
    for issue in spec.forecast_issues:
        issued_h = hours_of(issue)
        name = f"forecast_{_datetime(issued_h):%Y%m%d%H}.nc"
        path = _write_forecast(holdout_world, grid, issued_h, seed, out / name, world_def.title)
        forecasts.append((path, _datetime(issued_h)))
    holdout = next(w for w in spec.winters if w.role == "holdout")
    return ScenarioFiles(
        roads=out / "roads.geojson", incidents=incidents, analysis=[out / f"analysis_{w.label}.nc" for w in spec.winters],
        forecasts=forecasts, teams=write_teams_csv(out / "teams.csv", world_def.geography.teams), truth=truth.close(),
        now=BOARD_NOW_UTC,
        train_until=holdout.start, holdout_winter=(holdout.start, holdout.end),
    )


def _analysis_weather(world: World, grid: Grid, hours: np.ndarray, sampler: GridSampler, path: Path | None,
                      title: str) -> PieceWeather:
    """The analysis at the segments, hour by hour; written to `path` (NetCDF) unless it is None."""
    packed_parts, ptype_parts, weather_parts = [], [], []
    for first in range(0, len(hours), CHUNK_HOURS):
        fields = compute_fields(world, grid, hours[first:first + CHUNK_HOURS])
        weather_parts.append(sampler.sample(fields))
        if path is not None:
            packed_parts.append(pack(fields))
            ptype_parts.append(fields["ptype"])
    if path is not None:
        packed = {name: np.concatenate([p[name] for p in packed_parts]) for name in packed_parts[0]}
        write_netcdf(path, packed, np.concatenate(ptype_parts), grid, hours, "analysis", title=title)
    return concat_weather(weather_parts)


def _write_forecast(world: World, grid: Grid, issued_h: int, seed: int, path: Path, title: str) -> Path:
    hours = np.arange(issued_h + 1, issued_h + FORECAST_HOURS + 1, dtype=np.int64)
    error = draw_forecast_error(world, substream(seed, f"forecast/{issued_h}"))
    fields = compute_fields(world, grid, hours, issued_h=issued_h, error=error)
    return write_netcdf(path, pack(fields), fields["ptype"], grid, hours, "forecast", issued_h, title=title)


def write_teams_csv(path: Path, teams: tuple[tuple[str, str, str, float, float, int], ...]) -> Path:
    """Expressway police bases at real cities along the corridors."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["team_id", "name", "province", "lon", "lat", "cars"])
        writer.writerows(teams)
    return path
