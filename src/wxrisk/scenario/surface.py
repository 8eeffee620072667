"""The road surface of the scenario worlds: a water / ice / snow / frost budget with memory.

Each road segment keeps four reservoirs (water equivalent, mm), stepped hour by hour, in the
spirit of the road-weather models' surface reservoirs (METRo: Crevier & Delage 2001, J. Appl.
Meteor. 40, 2026-2037; the snow and ice store of FASST/SNTHERM-style budgets, much simplified):

1. Precipitation reaches the road (tunnels stay dry): rain (and half of a rain/snow mix) wets it;
   freezing rain or drizzle freezes on contact into glaze on a road at or below 0 °C (else wets
   it); snow, wet snow and ice pellets (and the other half of a mix) lie as snow.
2. Phase changes: on a road at or below 0 °C a share of the water film freezes each hour (black
   ice), and frost deposits when the dew point is above the road temperature (hoar frost) or in
   freezing fog (rime); on a road above 0 °C frost, then ice, then snow melt by degree-hours plus
   sunshine (a degree-hour melt factor, as in temperature-index snowmelt models: Hock 2003,
   J. Hydrol. 282, 104-115).
3. Removal: water drains and evaporates; snow, ice and frost are ploughed, salted and worn away
   by traffic (expressway winter maintenance) with an e-folding time.

The reported surface follows the reservoirs: snow (or slush on a road above `slush_above_c`)
where snow lies, else ice, else frost, else wet, else dry. Every constant is in
`SurfaceConstants` and in docs/demo-world.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SURFACES = ("dry", "wet", "frost", "ice", "snow", "slush")
DRY, WET, FROST, ICE, SNOW, SLUSH = range(len(SURFACES))
ICY_SURFACES = (FROST, ICE, SNOW, SLUSH)      # the surfaces the labels call ice/snow

RAIN, FREEZING_RAIN, SNOWFALL, WET_SNOW, MIX, PELLETS, FREEZING_DRIZZLE = 1, 3, 5, 6, 7, 8, 12


@dataclass(frozen=True)
class SurfaceConstants:
    """The road-surface budget's numbers [units in each comment]."""

    freeze_share_per_h: float = 0.6       # share of the water film that freezes in an hour on a road <= 0 °C
    frost_mm_per_k_h: float = 0.03        # hoar frost deposited per K of dew point above the road [mm/(K h)]
    rime_mm_per_h: float = 0.02           # rime deposited in freezing fog (visibility < fog_vis_m) [mm/h]
    rime_vis_m: float = 1000.0            # fog (no precipitation) in which rime deposits [m]
    melt_mm_per_k_h: float = 0.3          # melt per degree-hour above 0 °C [mm/(K h)]
    sun_melt_mm_h: float = 0.4            # extra melt at full sun (x sine of the sun's elevation) [mm/h]
    water_loss_per_h: float = 0.25        # share of the water film that drains and evaporates in an hour
    clearing_per_h: float = 0.3           # share of snow, ice and frost ploughed, salted or worn away in an hour
    wet_mm_min: float = 0.05              # a water film at least this thick reads "wet" [mm]
    ice_mm_min: float = 0.05              # glaze or black ice at least this thick reads "ice" [mm]
    frost_mm_min: float = 0.01            # frost at least this thick reads "frost" [mm]
    snow_mm_min: float = 0.3              # snow (water equivalent) at least this deep reads "snow" [mm]
    slush_above_c: float = 0.5            # snow on a road warmer than this reads "slush" [°C]


SURFACE = SurfaceConstants()


@dataclass
class SurfaceState:
    """Reservoirs [mm water equivalent] and the reported surface code, arrays (hours, segments)."""

    water_mm: np.ndarray
    ice_mm: np.ndarray
    frost_mm: np.ndarray
    snow_mm: np.ndarray
    code: np.ndarray      # index into SURFACES

    @property
    def icy(self) -> np.ndarray:
        return np.isin(self.code, ICY_SURFACES)


def precipitation_inputs(ptype: np.ndarray, precip_mm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Liquid, supercooled (freezing) and solid precipitation [mm] from the phase code and amount."""
    liquid = np.where(ptype == RAIN, precip_mm, np.where(ptype == MIX, precip_mm / 2, 0.0))
    freezing = np.where(np.isin(ptype, (FREEZING_RAIN, FREEZING_DRIZZLE)), precip_mm, 0.0)
    solid = np.where(np.isin(ptype, (SNOWFALL, WET_SNOW, PELLETS)), precip_mm,
                     np.where(ptype == MIX, precip_mm / 2, 0.0))
    return liquid, freezing, solid


def road_surface(ptype: np.ndarray, precip_mm: np.ndarray, road_c: np.ndarray, dew_point_c: np.ndarray,
                 vis_m: np.ndarray, sun_sin: np.ndarray, sheltered: np.ndarray,
                 constants: SurfaceConstants = SURFACE) -> SurfaceState:
    """Step the budget through the hours (axis 0) for every segment (axis 1), dry at the first hour.

    ptype: ECMWF precipitation type; precip_mm: in the hour; road_c, dew_point_c [°C]; vis_m [m];
    sun_sin: sine of the sun's elevation; sheltered: per segment (tunnels: no precipitation, no frost).
    """
    c = constants
    liquid, freezing, solid = precipitation_inputs(ptype, precip_mm)
    open_air = ~np.asarray(sheltered, dtype=bool)
    shape = np.shape(road_c)
    out = {name: np.zeros(shape, dtype=np.float32) for name in ("water", "ice", "frost", "snow")}
    water, ice, frost, snow = (np.zeros(shape[1]) for _ in range(4))
    for t in range(shape[0]):
        road = road_c[t]
        cold = road <= 0.0
        water = water + open_air * (liquid[t] + np.where(cold, 0.0, freezing[t]))
        ice = ice + open_air * np.where(cold, freezing[t], 0.0)
        snow = snow + open_air * solid[t]
        frozen = np.where(cold, c.freeze_share_per_h * water, 0.0)
        water, ice = water - frozen, ice + frozen
        freezing_fog = (vis_m[t] < c.rime_vis_m) & (liquid[t] + freezing[t] + solid[t] == 0)
        deposit = c.frost_mm_per_k_h * np.maximum(dew_point_c[t] - road, 0.0) + c.rime_mm_per_h * freezing_fog
        frost = frost + open_air * np.where(cold, deposit, 0.0)
        melt = np.where(cold, 0.0, c.melt_mm_per_k_h * np.maximum(road, 0.0) + c.sun_melt_mm_h * np.maximum(sun_sin[t], 0.0))
        melted = []
        for store in (frost, ice, snow):
            taken = np.minimum(store, melt)
            melt = melt - taken
            melted.append(taken)
        frost, ice, snow = frost - melted[0], ice - melted[1], snow - melted[2]
        water = (water + sum(melted)) * (1.0 - c.water_loss_per_h)
        frost, ice, snow = (store * (1.0 - c.clearing_per_h) for store in (frost, ice, snow))
        for name, store in (("water", water), ("ice", ice), ("frost", frost), ("snow", snow)):
            out[name][t] = store
    return SurfaceState(out["water"], out["ice"], out["frost"], out["snow"],
                        surface_code(out, road_c, (liquid + freezing > 0) & open_air[None, :], c))


def surface_code(stores: dict[str, np.ndarray], road_c: np.ndarray, raining: np.ndarray,
                 c: SurfaceConstants = SURFACE) -> np.ndarray:
    """The reported surface (index into SURFACES): snow/slush, else ice, else frost, else wet, else dry."""
    snowy = stores["snow"] >= c.snow_mm_min
    return np.select(
        [snowy & (road_c > c.slush_above_c), snowy, stores["ice"] >= c.ice_mm_min, stores["frost"] >= c.frost_mm_min,
         (stores["water"] >= c.wet_mm_min) | raining],
        [SLUSH, SNOW, ICE, FROST, WET], default=DRY).astype(np.int8)
