"""Incidents of the demo world: Poisson draws of the hazard model at every ~1 km road piece and hour,
from the same weather fields that are written to the analysis files (the `generic` incident preset, docs/importers.md).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import shapely
from scipy import sparse

from wxrisk.scenario.hazard import (
    HAZARD,
    ICE_WEATHERS,
    WEATHERS,
    HazardConstants,
    ice_label_probability,
    incident_rates_per_km_h,
    road_temperature_c,
    traffic_exposure,
    weather_code,
)
from wxrisk.scenario.roads import RoadPieces
from wxrisk.scenario.surface import ICY_SURFACES, SURFACES, SurfaceState, road_surface
from wxrisk.scenario.weather import EPOCH, Grid, datetimes_of, solar_elevation_sin

LOCAL_OFFSET_H = 8          # Asia/Shanghai, no daylight saving
SEVERITIES = ("fatal", "serious", "slight", "damage_only")
SEVERITY_P_ICY = (0.02, 0.08, 0.30, 0.60)
SEVERITY_P_OTHER = (0.03, 0.10, 0.32, 0.55)


@dataclass
class PieceWeather:
    """Weather at the road pieces, arrays (hours, pieces), in canonical units."""

    t2m_c: np.ndarray
    d2m_c: np.ndarray
    skt_c: np.ndarray
    precip_mm: np.ndarray
    vis_m: np.ndarray
    wind_ms: np.ndarray
    ptype: np.ndarray


@dataclass(frozen=True)
class GridSampler:
    """Bilinear weights of points on a regular ascending grid (nearest cell for categories)."""

    weights: sparse.csr_matrix   # (cells, points): bilinear
    nearest_cell: np.ndarray     # (points,) flat index of the nearest cell

    @classmethod
    def for_points(cls, grid: Grid, lon: np.ndarray, lat: np.ndarray) -> GridSampler:
        nx, ny = len(grid.lon), len(grid.lat)
        gx = np.clip((lon - grid.lon[0]) / (grid.lon[1] - grid.lon[0]), 0, nx - 1.000001)
        gy = np.clip((lat - grid.lat[0]) / (grid.lat[1] - grid.lat[0]), 0, ny - 1.000001)
        ix, iy = np.floor(gx).astype(int), np.floor(gy).astype(int)
        fx, fy = gx - ix, gy - iy
        cells = np.concatenate([iy * nx + ix, iy * nx + ix + 1, (iy + 1) * nx + ix, (iy + 1) * nx + ix + 1])
        weights = np.concatenate([(1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx])
        points = np.tile(np.arange(len(lon)), 4)
        matrix = sparse.csr_matrix((weights, (cells, points)), shape=(nx * ny, len(lon)))
        nearest = (iy + np.round(fy).astype(int)) * nx + ix + np.round(fx).astype(int)
        return cls(weights=matrix, nearest_cell=nearest)

    def bilinear(self, field: np.ndarray) -> np.ndarray:
        """(t, y, x) -> (t, points)."""
        return np.asarray(field.reshape(len(field), -1) @ self.weights, dtype=np.float32)

    def nearest(self, field: np.ndarray) -> np.ndarray:
        return field.reshape(len(field), -1)[:, self.nearest_cell]

    def sample(self, fields: dict[str, np.ndarray]) -> PieceWeather:
        u, v = self.bilinear(fields["u10_ms"]), self.bilinear(fields["v10_ms"])
        return PieceWeather(
            t2m_c=self.bilinear(fields["t2m_c"]), d2m_c=self.bilinear(fields["d2m_c"]),
            skt_c=self.bilinear(fields["skt_c"]), precip_mm=self.bilinear(fields["precip_mm"]),
            vis_m=self.bilinear(fields["vis_m"]), wind_ms=np.hypot(u, v), ptype=self.nearest(fields["ptype"]))


def concat_weather(parts: list[PieceWeather]) -> PieceWeather:
    return PieceWeather(**{name: np.concatenate([getattr(p, name) for p in parts])
                           for name in PieceWeather.__dataclass_fields__})


def days_from_festival(hours: np.ndarray, festival: date) -> np.ndarray:
    """Days from Spring Festival (local midnight) to the start of each hour ending at `hours` [days]."""
    festival_h = (np.datetime64(festival, "h") - EPOCH).astype(int) - LOCAL_OFFSET_H
    return (np.asarray(hours) - 1 - festival_h) / 24.0


@dataclass
class HazardResult:
    """The hazard of a window, arrays (hours, segments): expected incidents and what the reports will say."""

    expected: np.ndarray         # expected incidents of any kind per segment-hour
    expected_ice: np.ndarray     # expected incidents the reports call ice/snow
    traffic: np.ndarray          # of `expected`, the traffic-driven part
    vehicle_km: np.ndarray       # traffic before the drivers' weather response [vehicle-km in the hour]
    surface: SurfaceState
    weather: np.ndarray          # reported weather code (index into WEATHERS)
    road_c: np.ndarray           # road surface temperature [°C]


def hazard_rates(pieces: RoadPieces, weather: PieceWeather, hours: np.ndarray, festival: date,
                 hazard: HazardConstants = HAZARD) -> HazardResult:
    """Expected incidents per segment-hour and the road state behind them, for consecutive `hours`."""
    sun_sin = solar_elevation_sin(hours, pieces.lon, pieces.lat)
    road_c = road_temperature_c(weather.skt_c, pieces.is_bridge, sun_sin > 0.0, hazard)
    sheltered = pieces.is_tunnel & hazard.tunnel_shelter
    state = road_surface(weather.ptype, weather.precip_mm, road_c, weather.d2m_c, weather.vis_m, sun_sin, sheltered)
    reported = weather_code(weather.ptype, weather.vis_m, weather.wind_ms)
    local_hour = (np.asarray(hours) - 1 + LOCAL_OFFSET_H) % 24
    exposure = traffic_exposure(pieces.aadt, local_hour, days_from_festival(hours, festival), hazard)
    traffic, ice = incident_rates_per_km_h(exposure, state, weather.t2m_c, reported, pieces.grade_pct, pieces.is_bridge,
                                           pieces.is_tunnel, sun_sin <= 0.0, weather.vis_m, hazard)
    expected = (traffic + ice) * pieces.length_km[None, :]
    vehicle_km = (exposure * (hazard.aadt_ref / 24.0) * pieces.length_km[None, :]).astype(np.float32)
    return HazardResult(expected=expected, expected_ice=expected * ice_label_probability(state, reported, hazard),
                        traffic=traffic * pieces.length_km[None, :], vehicle_km=vehicle_km, surface=state,
                        weather=reported, road_c=road_c)


def draw_incidents(rng: np.random.Generator, label: str, pieces: RoadPieces, hours: np.ndarray,
                   result: HazardResult, hazard: HazardConstants = HAZARD) -> list[dict]:
    """Incident rows in the generic preset, in time order, drawn from the hazard of a window; each reports
    the surface and weather of its segment-hour."""
    counts = rng.poisson(result.expected)
    t_idx, p_idx = np.nonzero(counts)
    repeats = counts[t_idx, p_idx]
    t_idx, p_idx = np.repeat(t_idx, repeats), np.repeat(p_idx, repeats)
    n = len(t_idx)
    minute = rng.integers(0, 60, n)
    along = rng.uniform(0.0, 1.0, n)
    icy = result.surface.icy[t_idx, p_idx] | np.isin(result.weather[t_idx, p_idx], ICE_WEATHERS)
    severity_other = rng.choice(len(SEVERITIES), n, p=SEVERITY_P_OTHER)
    severity_icy = rng.choice(len(SEVERITIES), n, p=SEVERITY_P_ICY)
    severity = np.where(icy, severity_icy, severity_other)
    vehicles = 1 + rng.poisson(np.where(icy, 1.4, 0.5))
    casualties = np.where(severity < 3, 1 + rng.poisson(np.where(severity == 0, 0.5, 0.3)), 0)
    unknown_surface = rng.uniform(size=n) < hazard.unknown_surface_share
    lon, lat = shapely.get_coordinates(shapely.line_interpolate_point(pieces.lines[p_idx], along, normalized=True)).T
    local = datetimes_of(hours[t_idx] - 1 + LOCAL_OFFSET_H).astype("datetime64[m]") + minute.astype("timedelta64[m]")
    surface = np.asarray(SURFACES)[result.surface.code[t_idx, p_idx]]
    weather_text = np.asarray(WEATHERS)[result.weather[t_idx, p_idx]]
    order = np.lexsort((lat, lon, local))
    return [{
        "incident_id": f"SYN-{label}-{k + 1:05d}",
        "occurred_at": f"{str(local[i])}:00+08:00",
        "lat": f"{lat[i]:.6f}", "lon": f"{lon[i]:.6f}", "road_ref": str(pieces.ref[p_idx[i]]),
        "severity": SEVERITIES[severity[i]],
        "surface": "unknown" if unknown_surface[i] else surface[i],
        "weather": weather_text[i], "vehicles": int(vehicles[i]), "casualties": int(casualties[i]),
        "synthetic": "true",
    } for k, i in enumerate(order)]


def reports_ice_or_snow(row: dict) -> bool:
    """Whether an incident row says ice or snow: an icy, frosty, snowy or slushy surface, or snow or freezing-rain
    weather (the ice/snow label, and `expected_ice_incidents` of the truth)."""
    return row["surface"] in ICY_SURFACE_NAMES or row["weather"] in ICE_WEATHER_NAMES


ICY_SURFACE_NAMES = frozenset(SURFACES[code] for code in ICY_SURFACES)
ICE_WEATHER_NAMES = frozenset(WEATHERS[code] for code in ICE_WEATHERS)

INCIDENT_COLUMNS = ("incident_id", "occurred_at", "lat", "lon", "road_ref", "severity", "surface", "weather",
                    "vehicles", "casualties", "synthetic")


def write_incidents_csv(rows: list[dict], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=INCIDENT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path
