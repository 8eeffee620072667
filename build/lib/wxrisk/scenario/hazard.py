"""The demo world's incident hazard model: every constant in one place, documented in docs/demo-world.md.

The expected number of incidents on one kilometre of expressway in one hour is

    rate [1/(km h)] = BASE_RATE_PER_KM_H
                      x traffic exposure   (AADT / AADT_REF x hour-of-day profile x travel-rush factor)
                      x road surface state  (phase multiplier, or black ice / frost, from skin temperature)
                      x grade x bridge x darkness x fog

and incidents are drawn as Poisson counts per kilometre-hour. Nothing else makes incidents happen
in the demo world: whatever the model learns beyond these factors is noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _phase_multiplier() -> dict[int, float]:
    # ECMWF ptype code -> multiplier when the road surface is at or below 0 °C for frozen/freezing phases
    return {0: 1.0, 1: 2.0, 3: 400.0, 5: 120.0, 6: 60.0, 7: 30.0, 8: 120.0, 12: 200.0}


def _hour_profile() -> tuple[float, ...]:
    # traffic by local hour 0..23 relative to the day's mean (normalised to mean 1 where used)
    return (0.35, 0.25, 0.2, 0.2, 0.25, 0.4, 0.7, 1.1, 1.4, 1.45, 1.4, 1.35,
            1.3, 1.35, 1.4, 1.45, 1.5, 1.5, 1.35, 1.15, 0.95, 0.8, 0.6, 0.45)


def _rush_knots() -> tuple[tuple[int, float], ...]:
    # (days from Spring Festival, traffic factor); linear between knots, 1.0 outside the rush window
    return ((-16, 1.0), (-15, 1.15), (-10, 1.35), (-3, 1.55), (-1, 1.1), (0, 0.85),
            (2, 1.2), (5, 1.6), (7, 1.65), (9, 1.35), (15, 1.2), (25, 1.1), (26, 1.0))


@dataclass(frozen=True)
class HazardConstants:
    """The hazard model's numbers [units in each comment]."""

    base_rate_per_km_h: float = 1.0e-5        # dry road, daylight, reference traffic [incidents/(km h)]
    aadt_ref: float = 40_000.0                 # reference traffic volume [vehicles/day]
    phase_multiplier: dict[int, float] = field(default_factory=_phase_multiplier)
    rate_exponent: float = 0.5                 # precipitation multiplier scales as (rate / 1 mm/h)^exponent
    rate_factor_range: tuple[float, float] = (0.5, 2.0)  # clip of that intensity factor [x]
    warm_surface_c: float = 0.5                # freezing/frozen phases on a road warmer than this act as rain/slush [°C]
    slush_fraction: float = 0.35               # share of the snow multiplier left on a road above warm_surface_c
    black_ice_multiplier: float = 100.0         # no precipitation, road <= 0 °C, wet from precipitation in the last hours
    black_ice_lookback_h: int = 12             # how far back precipitation wets the road [h]
    black_ice_wet_mm: float = 0.5              # precipitation in the lookback that wets the road [mm]
    frost_multiplier: float = 10.0             # road <= 0 °C and dew point within frost_spread_k of it
    frost_spread_k: float = 1.0                # road temperature minus dew point for frost deposition [K]
    bridge_multiplier: float = 1.3             # any weather: narrow deck, no hard shoulder [x]
    bridge_deck_cooling_k: float = 1.5         # deck colder than the roadway skin at night [K] (0.5 K by day)
    grade_per_pct_dry: float = 0.05            # (1 + this x grade%) on a dry or wet road
    grade_per_pct_icy: float = 0.35            # (1 + this x grade%) on ice or snow
    darkness_multiplier: float = 1.4           # sun below the horizon
    fog_vis_m: float = 200.0                   # dense fog threshold [m]
    fog_multiplier: float = 3.0
    mist_vis_m: float = 1000.0                 # poor visibility threshold [m]
    mist_multiplier: float = 1.5
    tunnel_shelter: bool = True                # tunnels get no weather, grade or darkness factors
    hour_profile: tuple[float, ...] = field(default_factory=_hour_profile)
    rush_window_days: tuple[int, int] = (-15, 25)  # travel rush: 15 days before to 25 days after Spring Festival
    rush_knots: tuple[tuple[int, float], ...] = field(default_factory=_rush_knots)


HAZARD = HazardConstants()

FREEZING_PTYPES = (3, 8, 12)   # freezing rain, ice pellets, freezing drizzle
SNOW_PTYPES = (5, 6, 7)        # snow, wet snow, rain/snow mix


def travel_rush_factor(days_from_festival: np.ndarray, hazard: HazardConstants = HAZARD) -> np.ndarray:
    """Traffic relative to an ordinary winter day [x] by days from Spring Festival (fractional days allowed)."""
    days = np.asarray(days_from_festival, dtype=float)
    knots_day, knots_factor = zip(*hazard.rush_knots, strict=True)
    first, last = hazard.rush_window_days
    in_rush = (days >= first) & (days < last + 1)
    return np.where(in_rush, np.interp(days, knots_day, knots_factor), 1.0)


def traffic_exposure(aadt: np.ndarray, local_hour: np.ndarray, days_from_festival: np.ndarray,
                     hazard: HazardConstants = HAZARD) -> np.ndarray:
    """Traffic relative to the reference road at an ordinary hour [x].

    aadt               : annual average daily traffic [vehicles/day], per road piece
    local_hour         : local clock hour 0..23, per hour
    days_from_festival : days from Spring Festival (local dates), per hour
    """
    profile = np.asarray(hazard.hour_profile) / np.mean(hazard.hour_profile)
    profile = profile[np.asarray(local_hour, dtype=int)]
    per_hour = profile * travel_rush_factor(days_from_festival, hazard)
    return per_hour[:, None] * (np.asarray(aadt, dtype=float)[None, :] / hazard.aadt_ref)


def surface_state_multiplier(ptype: np.ndarray, precip_mm: np.ndarray, road_temp_c: np.ndarray,
                             dew_point_c: np.ndarray, wet_mm_lookback: np.ndarray,
                             hazard: HazardConstants = HAZARD) -> tuple[np.ndarray, np.ndarray]:
    """The weather's multiplier on the rate [x] and whether the road is icy or snowy (bool).

    ptype           : ECMWF precipitation type code
    precip_mm       : precipitation in the hour [mm]
    road_temp_c     : road (deck) surface temperature [°C]
    dew_point_c     : 2 m dew point [°C]
    wet_mm_lookback : precipitation over the last `black_ice_lookback_h` hours [mm]
    """
    codes = np.array(sorted(hazard.phase_multiplier))
    table = np.zeros(codes.max() + 1)
    table[codes] = [hazard.phase_multiplier[c] for c in codes]
    ptype = np.asarray(ptype, dtype=int)
    lo, hi = hazard.rate_factor_range
    intensity = np.clip(np.maximum(precip_mm, 1e-6) ** hazard.rate_exponent, lo, hi)
    warm_road = road_temp_c > hazard.warm_surface_c
    freezing = np.isin(ptype, FREEZING_PTYPES)
    snowy = np.isin(ptype, SNOW_PTYPES)
    phase = table[ptype]
    phase = np.where(freezing & warm_road, table[1], phase)
    phase = np.where(snowy & warm_road, np.maximum(table[1], phase * hazard.slush_fraction), phase)
    precip_factor = np.where(ptype > 0, phase * intensity, 1.0)
    dry_now = ptype == 0
    road_frozen = road_temp_c <= 0.0
    black_ice = dry_now & road_frozen & (wet_mm_lookback >= hazard.black_ice_wet_mm)
    frost = dry_now & road_frozen & ~black_ice & (road_temp_c - dew_point_c <= hazard.frost_spread_k)
    factor = np.where(black_ice, hazard.black_ice_multiplier, np.where(frost, hazard.frost_multiplier, precip_factor))
    icy = ((freezing | snowy) & ~warm_road) | black_ice | frost
    return factor, icy


def road_temperature_c(skin_temp_c: np.ndarray, is_bridge: np.ndarray, sun_up: np.ndarray,
                       hazard: HazardConstants = HAZARD) -> np.ndarray:
    """Road surface temperature [°C]: the grid's skin temperature, colder on bridge decks."""
    cooling = np.where(sun_up, 0.5, 1.0) * hazard.bridge_deck_cooling_k
    return skin_temp_c - np.where(is_bridge[None, :], cooling, 0.0)


def incident_rate_per_km_h(exposure: np.ndarray, surface_factor: np.ndarray, icy: np.ndarray,
                           grade_pct: np.ndarray, is_bridge: np.ndarray, is_tunnel: np.ndarray,
                           dark: np.ndarray, vis_m: np.ndarray, hazard: HazardConstants = HAZARD) -> np.ndarray:
    """Expected incidents per km and hour [1/(km h)], arrays shaped (hours, road pieces).

    grade_pct, is_bridge, is_tunnel : per road piece; dark : per (hour, piece) or broadcastable
    """
    grade = np.abs(np.asarray(grade_pct, dtype=float))[None, :]
    grade_factor = np.where(icy, 1.0 + hazard.grade_per_pct_icy * grade, 1.0 + hazard.grade_per_pct_dry * grade)
    visibility = np.where(vis_m < hazard.fog_vis_m, hazard.fog_multiplier,
                          np.where(vis_m < hazard.mist_vis_m, hazard.mist_multiplier, 1.0))
    weather = surface_factor * grade_factor * np.where(dark, hazard.darkness_multiplier, 1.0) * visibility
    if hazard.tunnel_shelter:
        weather = np.where(is_tunnel[None, :], 1.0, weather)
    bridge = np.where(is_bridge, hazard.bridge_multiplier, 1.0)[None, :]
    return hazard.base_rate_per_km_h * exposure * weather * bridge
