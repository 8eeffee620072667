"""The scenario worlds' incident hazard: every constant in one place, documented in docs/demo-world.md.

The expected number of incidents on one kilometre of expressway in one hour has two parts:

    traffic part  = TRAFFIC_RATE x exposure x darkness x visibility x grade(dry) x bridge x wet road
                      x drivers' response (fewer, slower vehicles in frost, fewer still on ice/snow)
    ice/snow part = ICE_RATE x exposure x darkness x visibility x grade(icy) x bridge x drivers' response
                      x (ice x glaze cover + snow or slush x snow cover + frost x frost cover)

    exposure = AADT / AADT_REF x hour-of-day profile x travel-rush factor

The traffic part is there whatever the weather, makes most incidents and does not rise in frost
(real records: dry-road collisions dominate and fall a little when it freezes); the ice/snow part
follows the road surface (`surface.road_surface`, a budget with memory) and rises steeply when the
road freezes. Incidents are Poisson counts per segment-hour. Every incident reports the surface and
weather of its segment-hour, so an incident on an icy road says `ice` whichever part produced it.
Nothing else makes incidents happen in a scenario world: whatever a model learns beyond these
factors is noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wxrisk.scenario.surface import FROST, ICE, SLUSH, SNOW, WET, SurfaceState


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

    traffic_rate_per_km_h: float = 1.2e-3      # dry road, daylight, reference traffic [incidents/(km h)]
    ice_rate_per_km_h: float = 1.0e-4          # the ice/snow part's unit, x the surface multipliers [incidents/(km h)]
    aadt_ref: float = 40_000.0                  # reference traffic volume [vehicles/day]
    hour_profile: tuple[float, ...] = field(default_factory=_hour_profile)
    rush_window_days: tuple[int, int] = (-15, 25)  # travel rush: 15 days before to 25 days after Spring Festival
    rush_knots: tuple[tuple[int, float], ...] = field(default_factory=_rush_knots)
    darkness_multiplier: float = 1.3            # sun below the horizon
    wet_multiplier: float = 1.5                 # traffic part on a wet road (rain, a water film, slush)
    fog_vis_m: float = 200.0                    # dense fog threshold [m] ...
    fog_multiplier: float = 2.5                 # ... multiplies by this
    mist_vis_m: float = 1000.0                  # poor visibility threshold [m] ...
    mist_multiplier: float = 1.3                # ... multiplies by this
    bridge_multiplier: float = 1.2              # narrow deck, no hard shoulder [x]
    bridge_deck_cooling_k: float = 1.5          # deck colder than the roadway skin at night [K] (half by day)
    grade_per_pct_dry: float = 0.05             # (1 + this x grade%) on a dry or wet road
    grade_per_pct_icy: float = 0.35             # (1 + this x grade%) on ice or snow
    cold_caution_factor: float = 0.85           # air at or below 0 °C, road not icy: fewer, slower vehicles
    wintry_traffic_factor: float = 0.6          # icy road or snow/freezing rain falling: fewer vehicles still
    ice_multiplier: float = 30.0                # glaze or black ice, full cover [x ice_rate_per_km_h]
    snow_multiplier: float = 12.0               # snow on a frozen road, full cover [x ice_rate_per_km_h]
    slush_multiplier: float = 5.0               # melting snow [x ice_rate_per_km_h]
    frost_multiplier: float = 8.0               # hoar frost or rime, full cover [x ice_rate_per_km_h]
    ice_full_mm: float = 0.3                    # ice this thick covers the road [mm]
    snow_full_mm: float = 1.0                   # snow this deep (water equivalent) covers the road [mm]
    frost_full_mm: float = 0.03                 # frost this thick covers the road [mm]
    tunnel_shelter: bool = True                 # tunnels: lit, dry, no grade or weather factors
    unknown_surface_share: float = 0.04         # reports without a surface condition


HAZARD = HazardConstants()

WEATHERS = ("clear", "rain", "snow", "freezing_rain", "fog", "wind", "other")
ICE_WEATHERS = (2, 3)                            # snow, freezing_rain: the labels call these ice/snow


def travel_rush_factor(days_from_festival: np.ndarray, hazard: HazardConstants = HAZARD) -> np.ndarray:
    """Traffic relative to an ordinary winter day [x] by days from Spring Festival (fractional days allowed)."""
    days = np.asarray(days_from_festival, dtype=float)
    knots_day, knots_factor = zip(*hazard.rush_knots, strict=True)
    first, last = hazard.rush_window_days
    in_rush = (days >= first) & (days < last + 1)
    return np.where(in_rush, np.interp(days, knots_day, knots_factor), 1.0)


def traffic_exposure(aadt: np.ndarray, local_hour: np.ndarray, days_from_festival: np.ndarray,
                     hazard: HazardConstants = HAZARD) -> np.ndarray:
    """Traffic relative to the reference road at an ordinary hour [x], (hours, segments).

    aadt               : annual average daily traffic [vehicles/day], per segment
    local_hour         : local clock hour 0..23, per hour
    days_from_festival : days from Spring Festival (local dates), per hour
    """
    profile = np.asarray(hazard.hour_profile) / np.mean(hazard.hour_profile)
    profile = profile[np.asarray(local_hour, dtype=int)]
    per_hour = profile * travel_rush_factor(days_from_festival, hazard)
    return per_hour[:, None] * (np.asarray(aadt, dtype=float)[None, :] / hazard.aadt_ref)


def road_temperature_c(skin_temp_c: np.ndarray, is_bridge: np.ndarray, sun_up: np.ndarray,
                       hazard: HazardConstants = HAZARD) -> np.ndarray:
    """Road surface temperature [°C]: the grid's skin temperature, colder on bridge decks."""
    cooling = np.where(sun_up, 0.5, 1.0) * hazard.bridge_deck_cooling_k
    return skin_temp_c - np.where(np.asarray(is_bridge)[None, :], cooling, 0.0)


def weather_code(ptype: np.ndarray, vis_m: np.ndarray, wind_ms: np.ndarray) -> np.ndarray:
    """Reported weather (index into WEATHERS) from the precipitation type, visibility and wind."""
    return np.select(
        [np.isin(ptype, (3, 12)), np.isin(ptype, (5, 6, 7)), ptype == 1, ptype == 8, vis_m < 1000.0, wind_ms > 10.0],
        [3, 2, 1, 6, 4, 5], default=0).astype(np.int8)


def ice_cover_multiplier(state: SurfaceState, hazard: HazardConstants = HAZARD) -> np.ndarray:
    """The ice/snow part's surface factor [x ice_rate_per_km_h]: each layer's multiplier times its cover (0-1)."""
    snow = np.where(state.code == SLUSH, hazard.slush_multiplier, hazard.snow_multiplier)
    return (hazard.ice_multiplier * np.minimum(state.ice_mm / hazard.ice_full_mm, 1.0)
            + snow * np.minimum(state.snow_mm / hazard.snow_full_mm, 1.0) * np.isin(state.code, (SNOW, SLUSH))
            + hazard.frost_multiplier * np.minimum(state.frost_mm / hazard.frost_full_mm, 1.0))


def incident_rates_per_km_h(exposure: np.ndarray, state: SurfaceState, t2m_c: np.ndarray, weather: np.ndarray,
                            grade_pct: np.ndarray, is_bridge: np.ndarray, is_tunnel: np.ndarray, dark: np.ndarray,
                            vis_m: np.ndarray, hazard: HazardConstants = HAZARD) -> tuple[np.ndarray, np.ndarray]:
    """Expected incidents per km and hour [1/(km h)]: (traffic part, ice/snow part), arrays (hours, segments).

    grade_pct, is_bridge, is_tunnel : per segment; t2m_c, weather, dark, vis_m : (hours, segments)
    """
    grade = np.abs(np.asarray(grade_pct, dtype=float))[None, :]
    tunnel = np.asarray(is_tunnel, dtype=bool)[None, :] & hazard.tunnel_shelter
    wintry = state.icy | np.isin(weather, ICE_WEATHERS)
    response = np.where(wintry, hazard.wintry_traffic_factor, np.where(t2m_c <= 0.0, hazard.cold_caution_factor, 1.0))
    visibility = np.where(vis_m < hazard.fog_vis_m, hazard.fog_multiplier,
                          np.where(vis_m < hazard.mist_vis_m, hazard.mist_multiplier, 1.0))
    common = np.where(dark, hazard.darkness_multiplier, 1.0) * visibility * response
    wet = np.where(np.isin(state.code, (WET, SLUSH)), hazard.wet_multiplier, 1.0)
    traffic = np.where(tunnel, 1.0, common * wet * (1.0 + hazard.grade_per_pct_dry * grade))
    ice = np.where(tunnel, 0.0, common * (1.0 + hazard.grade_per_pct_icy * grade) * ice_cover_multiplier(state, hazard))
    scale = exposure * np.where(is_bridge, hazard.bridge_multiplier, 1.0)[None, :]
    return hazard.traffic_rate_per_km_h * scale * traffic, hazard.ice_rate_per_km_h * scale * ice


def ice_label_probability(state: SurfaceState, weather: np.ndarray, hazard: HazardConstants = HAZARD) -> np.ndarray:
    """Probability that an incident's report says ice/snow: surface frost/ice/snow/slush (unless the surface
    went unreported) or weather snow/freezing rain."""
    return np.where(np.isin(weather, ICE_WEATHERS), 1.0,
                    np.where(np.isin(state.code, (FROST, ICE, SNOW, SLUSH)), 1.0 - hazard.unknown_surface_share, 0.0))
