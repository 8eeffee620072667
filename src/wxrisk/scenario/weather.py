"""The demo world's weather: analytic hourly fields from cold-air outbreaks and moving precipitation
systems, with a warm-layer rule for the precipitation phase, written as CF NetCDF (docs/weather-import.md).

All times are hours since EPOCH (UTC). Every field is a pure function of the world (its outbreaks
and systems), the grid and the hour, so analyses and forecasts share one physics; a forecast is the
same function of a perturbed world whose errors grow with lead time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.io import netcdf_file

from wxrisk.scenario.anchor import StationAnchor
from wxrisk.scenario.geography import CENTRAL_CHINA, Geography

EPOCH = np.datetime64("2000-01-01T00", "h")
KELVIN = 273.15


@dataclass(frozen=True)
class WeatherPhysics:
    """Constants of the demo weather [units in each comment]."""

    clim_t2m_knots: tuple[tuple[float, float], ...] = (   # (lat, Jan mean 2 m temperature at sea level [°C])
        (22.0, 14.5), (23.0, 13.5), (25.0, 10.0), (26.5, 7.0), (28.5, 5.0), (31.0, 3.8), (33.0, 2.0),
        (35.0, 0.0), (36.5, -1.0))
    clim_nose_knots: tuple[tuple[float, float], ...] = (  # (lat, warmest temperature aloft, 850-700 hPa [°C])
        (22.0, 11.0), (25.0, 8.0), (28.0, 4.5), (31.0, 2.0), (34.0, -2.0), (36.5, -4.0))
    coast_warming_k: float = 0.8            # east of coast_lon
    coast_lon: float = 120.0
    west_warming_k: float = 0.0             # west of the cold air's western edge (a plateau in the sun) [K]
    front_entry_lat: float = 36.5           # an outbreak's front enters here and moves south [deg]
    outbreak_weakening_knots: tuple[tuple[float, float], ...] = ((22.0, 0.45), (36.0, 1.0))  # (lat, share)
    cold_air_west_lon: float = -math.inf    # the cold air ends to the west here (a stationary front) [deg] ...
    cold_air_edge_deg: float = 0.4          # ... over this width (logistic) [deg]
    seasonal_warming_k_per_day: float = 0.07  # after 15 January
    lapse_rate_k_per_km: float = 6.5
    diurnal_half_range_cloudy_k: float = 1.0
    diurnal_half_range_clear_k: float = 5.0
    clear_night_skin_cooling_k: float = 2.5  # skin below air on a calm clear night
    sunny_skin_warming_k: float = 3.0        # skin above air at noon under a clear sky
    nanling_barrier_lat: float = 24.8        # cold air south of here is weakened
    nanling_barrier_factor: float = 0.6
    min_precip_mm_h: float = 0.05            # below this: no precipitation
    warm_nose_c: float = 1.0                 # a layer aloft warmer than this melts snow
    snow_max_t2m_c: float = 0.5              # without a warm layer: snow below, wet snow / mix / rain above
    wet_snow_max_t2m_c: float = 1.5
    mix_max_t2m_c: float = 2.5
    freezing_max_t2m_c: float = 0.0          # with a warm layer: freezing rain at or below this
    pellets_max_t2m_c: float = -4.0          # with a shallow warm layer (< pellets_max_nose_c): ice pellets
    pellets_max_nose_c: float = 3.0
    drizzle_max_mm_h: float = 0.3            # freezing precipitation lighter than this is freezing drizzle
    clear_night_spread_k: float = 2.0        # dew point spread under a clear night sky (+0.3 K) [K]
    clear_noon_extra_spread_k: float = 4.0   # ... plus this x the sine of the sun's elevation by day [K]
    fog_max_spread_k: float = 1.0            # fog: dew point spread below this, calm, dark, dry
    fog_max_wind_ms: float = 2.5
    hill_fog_min_m: float = math.inf         # ground above this in cloud and light precipitation is in fog [m]
    hill_fog_max_mm_h: float = 0.5


PHYSICS = WeatherPhysics()


@dataclass(frozen=True)
class Grid:
    """A regular lon/lat grid (ascending) over a world's terrain [m]."""

    lon: np.ndarray
    lat: np.ndarray
    geography: Geography = CENTRAL_CHINA

    @property
    def terrain_m(self) -> np.ndarray:
        return self.geography.terrain_elevation_m(self.lon[None, :], self.lat[:, None])


def make_grid(west: float, south: float, east: float, north: float, step_deg: float,
              geography: Geography = CENTRAL_CHINA) -> Grid:
    """The grid of cell centres from (west, south) to (east, north) inclusive [deg]."""
    lon = np.round(west + step_deg * np.arange(round((east - west) / step_deg) + 1), 4)
    lat = np.round(south + step_deg * np.arange(round((north - south) / step_deg) + 1), 4)
    return Grid(lon=lon, lat=lat, geography=geography)


@dataclass(frozen=True)
class Outbreak:
    """A cold-air outbreak: a surface cold anomaly that sweeps south and slowly recovers."""

    onset_h: float          # front at 36.5°N [hours since EPOCH]
    speed_deg_h: float      # southward speed of the front [deg lat/h]
    strength_k: float       # surface anomaly behind the front at 36°N [K]: negative (positive: a warm spell)
    decay_h: float          # e-folding recovery time [h]
    depth: float            # share of the anomaly felt aloft (shallow cold air: small)


@dataclass(frozen=True)
class System:
    """A moving precipitation band with warm, moist air aloft on its southern side."""

    start_h: float
    end_h: float
    lon0: float             # band centre at start_h [deg]
    lat0: float
    u_deg_h: float          # eastward motion [deg/h]
    v_deg_h: float          # northward motion [deg/h]
    peak_mm_h: float        # precipitation rate at the centre [mm/h]
    sigma_along_deg: float
    sigma_across_deg: float
    tilt_deg: float         # band axis angle from east, counter-clockwise
    warm_aloft_k: float     # warm advection aloft [K]
    texture: tuple[float, ...] = (0.0, 0.0, 0.0)  # phases of the rain-cell pattern [rad]


@dataclass(frozen=True)
class World:
    """What makes a winter's weather: cold-air outbreaks, precipitation systems, station anchors, and the
    physics of the region."""

    outbreaks: tuple[Outbreak, ...]
    systems: tuple[System, ...]
    anchors: tuple[StationAnchor, ...] = ()
    physics: WeatherPhysics = PHYSICS


@dataclass(frozen=True)
class ForecastError:
    """Errors of one forecast, per day of lead time; multiplied by lead/24 h at each valid hour."""

    system_timing_h: np.ndarray      # per system [h/day]
    system_shift_deg: np.ndarray     # per system, across the band [deg/day]
    system_log_amp: np.ndarray       # per system [1/day]
    outbreak_timing_h: np.ndarray    # per outbreak [h/day]
    outbreak_log_amp: np.ndarray     # per outbreak [1/day]
    t2m_wave: np.ndarray             # 3 waves x (kx, ky [rad/deg], phase [rad], amplitude [K/day])


def draw_forecast_error(world: World, rng: np.random.Generator) -> ForecastError:
    """Random errors for one forecast issue: timing, position and amplitude of systems, a temperature pattern."""
    n_sys, n_out = len(world.systems), len(world.outbreaks)
    waves = np.column_stack([rng.uniform(0.2, 0.6, 3), rng.uniform(0.2, 0.6, 3),
                             rng.uniform(0, 2 * np.pi, 3), rng.normal(0.0, 0.6, 3)])
    return ForecastError(
        system_timing_h=rng.normal(0.0, 2.5, n_sys), system_shift_deg=rng.normal(0.0, 0.2, n_sys),
        system_log_amp=rng.normal(0.0, 0.12, n_sys), outbreak_timing_h=rng.normal(0.0, 3.0, n_out),
        outbreak_log_amp=rng.normal(0.0, 0.04, n_out), t2m_wave=waves)


def hours_of(dt: np.datetime64 | str) -> int:
    """Hours since EPOCH of a UTC time."""
    return int((np.datetime64(dt, "h") - EPOCH).astype(int))


def datetimes_of(hours: np.ndarray) -> np.ndarray:
    """datetime64[ns] of hours since EPOCH."""
    return (EPOCH + np.asarray(hours).astype("timedelta64[h]")).astype("datetime64[ns]")


def solar_elevation_sin(hours: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Sine of the sun's elevation, shaped (t, *broadcast(lon, lat)), from the day of year and local solar
    time (Cooper's declination); lon, lat [deg]."""
    times = datetimes_of(hours)
    doy = (times.astype("datetime64[D]") - times.astype("datetime64[Y]")).astype(int) + 1
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    extra = (slice(None),) + (None,) * lon.ndim
    decl = (np.radians(23.44) * np.sin(2 * np.pi * (284 + doy) / 365.0))[extra]
    solar_hour = (np.asarray(hours) % 24)[extra] + lon[None] / 15.0
    phi = np.radians(lat)[None]
    return np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(np.radians(15.0 * (solar_hour - 12.0)))


def diurnal_shape(solar_hour: np.ndarray) -> np.ndarray:
    """-1 at 07 local solar time, +1 at 15, cosine-shaped warming (8 h) and cooling (16 h)."""
    h = np.mod(solar_hour, 24.0)
    warming = (h >= 7.0) & (h < 15.0)
    return np.where(warming, -np.cos(np.pi * (h - 7.0) / 8.0), np.cos(np.pi * np.mod(h - 15.0, 24.0) / 16.0))


def outbreak_anomaly_k(world: World, hours: np.ndarray, lat: np.ndarray, lead_days: np.ndarray,
                       error: ForecastError | None, physics: WeatherPhysics = PHYSICS) -> tuple[np.ndarray, np.ndarray]:
    """Surface cold anomaly and its aloft share [K], shaped (t, y)."""
    knots_lat, knots_share = zip(*physics.outbreak_weakening_knots, strict=True)
    weaken = np.interp(lat, knots_lat, knots_share)
    weaken = weaken * np.where(lat < physics.nanling_barrier_lat, physics.nanling_barrier_factor, 1.0)
    surface = np.zeros((len(hours), len(lat)))
    aloft = np.zeros_like(surface)
    for i, ob in enumerate(world.outbreaks):
        timing = 0.0 if error is None else error.outbreak_timing_h[i] * lead_days
        amp = np.ones(len(hours)) if error is None else np.exp(error.outbreak_log_amp[i] * lead_days)
        t = (np.asarray(hours, dtype=float) - timing)[:, None]
        since = t - (ob.onset_h + (physics.front_entry_lat - lat[None, :]) / ob.speed_deg_h)
        onset = 0.5 * (1.0 + np.tanh(since / 12.0))          # logistic over ~6 h, no overflow
        shape = onset * np.exp(-np.maximum(since, 0.0) / ob.decay_h)
        contribution = ob.strength_k * amp[:, None] * weaken[None, :] * shape
        surface += contribution
        aloft += ob.depth * contribution
    return surface, aloft


def system_fields(world: World, hours: np.ndarray, grid: Grid, lead_days: np.ndarray,
                  error: ForecastError | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precipitation rate [mm/h], cloud cover [0-1] and warm advection aloft [K], each (t, y, x)."""
    shape = (len(hours), len(grid.lat), len(grid.lon))
    rate = np.zeros(shape)
    cover = np.zeros(shape)
    warm = np.zeros(shape)
    lon2, lat2 = grid.lon[None, None, :], grid.lat[None, :, None]
    for i, s in enumerate(world.systems):
        timing = 0.0 if error is None else error.system_timing_h[i] * lead_days
        t = np.asarray(hours, dtype=float) - timing
        active = (t > s.start_h - 1) & (t < s.end_h + 1)
        if not active.any():
            continue
        ta = t[active]
        frac = np.clip((ta - s.start_h) / (s.end_h - s.start_h), 0.0, 1.0)
        envelope = np.sqrt(np.sin(np.pi * frac))[:, None, None]
        clon = (s.lon0 + s.u_deg_h * (ta - s.start_h))[:, None, None]
        clat = (s.lat0 + s.v_deg_h * (ta - s.start_h))[:, None, None]
        shift = 0.0 if error is None else (error.system_shift_deg[i] * lead_days[active])[:, None, None]
        amp = 1.0 if error is None else np.exp(error.system_log_amp[i] * lead_days[active])[:, None, None]
        dx = (lon2 - clon) * math.cos(math.radians(s.lat0))
        dy = lat2 - clat
        tilt = math.radians(s.tilt_deg)
        along = dx * math.cos(tilt) + dy * math.sin(tilt)
        across = -dx * math.sin(tilt) + dy * math.cos(tilt) - shift
        core = np.exp(-0.5 * ((along / s.sigma_along_deg) ** 2 + (across / s.sigma_across_deg) ** 2))
        cells = 1.0 + 0.35 * (np.sin(2.1 * (lon2 - clon) + 1.3 * lat2 + s.texture[0])
                              + np.sin(-1.4 * lon2 + 2.6 * (lat2 - clat) + s.texture[1])) \
            + 0.2 * np.sin(0.9 * lon2 - 3.1 * lat2 + 0.35 * ta[:, None, None] + s.texture[2])
        rate[active] += s.peak_mm_h * amp * envelope * core * np.clip(cells, 0.3, None)
        wide = np.exp(-0.5 * ((along / (1.6 * s.sigma_along_deg)) ** 2 + (across / (1.8 * s.sigma_across_deg)) ** 2))
        cover[active] += envelope * wide
        south = np.exp(-0.5 * ((along / (1.3 * s.sigma_along_deg)) ** 2
                               + ((across + 0.8) / (1.5 * s.sigma_across_deg)) ** 2))
        warm[active] += s.warm_aloft_k * envelope * south
    cloud = np.clip(0.15 + (1.0 - np.exp(-2.5 * cover)), 0.0, 1.0)
    return rate, cloud, warm


def precipitation_type(t2m_c: np.ndarray, nose_c: np.ndarray, rate_mm_h: np.ndarray,
                       physics: WeatherPhysics = PHYSICS) -> np.ndarray:
    """ECMWF ptype code from the warm-layer rule.

    No warm layer aloft (nose <= warm_nose_c): snow, wet snow, rain/snow mix or rain by 2 m temperature.
    A warm layer: snow melts; it refreezes on contact when the surface air is at or below 0 °C
    (freezing rain, freezing drizzle when light, ice pellets when the warm layer is shallow and the
    cold layer deep), else rain.
    """
    warm_layer = nose_c > physics.warm_nose_c
    no_warm = np.select(
        [t2m_c < physics.snow_max_t2m_c, t2m_c < physics.wet_snow_max_t2m_c, t2m_c < physics.mix_max_t2m_c],
        [5, 6, 7], default=1)
    freezing = np.where(rate_mm_h < physics.drizzle_max_mm_h, 12, 3)
    pellets = (t2m_c < physics.pellets_max_t2m_c) & (nose_c < physics.pellets_max_nose_c)
    with_warm = np.where(t2m_c <= physics.freezing_max_t2m_c, np.where(pellets, 8, freezing), 1)
    code = np.where(warm_layer, with_warm, no_warm)
    return np.where(rate_mm_h >= physics.min_precip_mm_h, code, 0).astype(np.int8)


def cold_air_share(lon: np.ndarray, physics: WeatherPhysics) -> np.ndarray:
    """Share of an outbreak's cold felt at each longitude [0-1]: 1 east of the cold air's western edge."""
    if not math.isfinite(physics.cold_air_west_lon):
        return np.ones(len(lon))
    return 0.5 * (1.0 + np.tanh((np.asarray(lon) - physics.cold_air_west_lon) / (2.0 * physics.cold_air_edge_deg)))


def _climate_t2m_c(grid: Grid, hours: np.ndarray, physics: WeatherPhysics) -> np.ndarray:
    lat_knots, t_knots = zip(*physics.clim_t2m_knots, strict=True)
    by_lon = (np.where(grid.lon >= physics.coast_lon, physics.coast_warming_k, 0.0)
              + physics.west_warming_k * (1.0 - cold_air_share(grid.lon, physics)))
    sea_level = np.interp(grid.lat, lat_knots, t_knots)[:, None] + by_lon[None, :]
    base = sea_level - physics.lapse_rate_k_per_km * grid.terrain_m / 1000.0
    times = datetimes_of(hours)
    jan15 = (times.astype("datetime64[Y]") + np.timedelta64(14, "D")).astype("datetime64[h]")
    days = (times.astype("datetime64[h]") - jan15).astype(float) / 24.0
    days = np.where(days > 180, days - 365, days)          # December belongs to the coming January
    return base[None, :, :] + physics.seasonal_warming_k_per_day * np.clip(days, -45.0, 60.0)[:, None, None]


def _t2m_error_k(grid: Grid, lead_days: np.ndarray, error: ForecastError) -> np.ndarray:
    pattern = np.zeros((len(grid.lat), len(grid.lon)))
    for kx, ky, phase, amp in error.t2m_wave:
        pattern += amp * np.sin(kx * grid.lon[None, :] + ky * grid.lat[:, None] + phase)
    return (0.3 + lead_days)[:, None, None] * pattern[None, :, :]


def compute_fields(world: World, grid: Grid, hours: np.ndarray, issued_h: int | None = None,
                   error: ForecastError | None = None) -> dict[str, np.ndarray]:
    """All fields (t, y, x) for the valid hours: analysis when `error` is None, else a forecast issued at `issued_h`.

    Returns t2m_c, d2m_c, skt_c, nose_c [°C], precip_mm and snowfall_mm (water equivalent, in the hour
    ending at the time), ptype (code), u10_ms, v10_ms [m/s], vis_m [m], cloud [0-1]. Temperatures are rounded to 0.01 K, the stored precision,
    before the phase is derived, so the stored phase agrees with the stored temperatures.
    """
    physics = world.physics
    hours = np.asarray(hours, dtype=np.int64)
    lead_days = np.zeros(len(hours)) if issued_h is None else (hours - issued_h) / 24.0
    by_lat, aloft_by_lat = outbreak_anomaly_k(world, hours, grid.lat, lead_days, error, physics)
    reach = cold_air_share(grid.lon, physics)[None, None, :]
    anomaly, anomaly_aloft = by_lat[:, :, None] * reach, aloft_by_lat[:, :, None] * reach
    rate, cloud, warm = system_fields(world, hours, grid, lead_days, error)
    rate, cloud = rate * reach, 0.15 + (cloud - 0.15) * reach     # beyond a stationary front: dry and sunny
    sin_elev = solar_elevation_sin(hours, grid.lon[None, :], grid.lat[:, None])
    solar_hour = (hours % 24)[:, None, None] + grid.lon[None, None, :] / 15.0
    clear = 1.0 - cloud
    half_range = physics.diurnal_half_range_cloudy_k + (physics.diurnal_half_range_clear_k
                                                        - physics.diurnal_half_range_cloudy_k) * clear
    shape = diurnal_shape(solar_hour)
    t2m = _climate_t2m_c(grid, hours, physics) + anomaly + half_range * shape
    for anchor in world.anchors:
        offset, amplitude, factor = anchor.at_hours(hours)
        weight = anchor.weight(grid.lon, grid.lat)[None, :, :]
        t2m = t2m + weight * (offset[:, None, None] + amplitude[:, None, None] * shape)
        rate = rate * (1.0 + weight * (factor[:, None, None] - 1.0))
    if error is not None:
        t2m = t2m + _t2m_error_k(grid, lead_days, error)
    t2m = np.round(t2m, 2)
    nose_lat, nose_t = zip(*physics.clim_nose_knots, strict=True)
    nose = np.interp(grid.lat, nose_lat, nose_t)[None, :, None] + anomaly_aloft + warm
    precip = np.where(rate >= physics.min_precip_mm_h, np.round(np.minimum(rate, 30.0), 3), 0.0)
    ptype = precipitation_type(t2m, nose, precip, physics)
    wet = precip > 0
    snowfall = np.where(np.isin(ptype, (5, 6)), precip, np.where(ptype == 7, np.round(precip / 2, 3), 0.0))
    u10, v10 = surface_wind_ms(grid, anomaly, cloud)
    wind = np.hypot(u10, v10)
    spread = dew_point_spread_k(cloud, sin_elev, anomaly, wet, physics)
    night = np.clip(0.5 - 5.0 * sin_elev, 0.0, 1.0)
    return {
        "t2m_c": t2m, "d2m_c": np.round(t2m - spread, 2), "skt_c": skin_temperature_c(t2m, cloud, sin_elev, wind, wet,
                                                                                      physics),
        "nose_c": nose, "precip_mm": precip, "snowfall_mm": snowfall, "ptype": ptype,
        "u10_ms": u10, "v10_ms": v10,
        "vis_m": visibility_m(ptype, precip, cloud, spread, wind, night, grid.terrain_m[None, :, :], physics),
        "cloud": cloud,
    }


def surface_wind_ms(grid: Grid, anomaly_k: np.ndarray, cloud: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """10 m wind components [m/s]: northerlies behind outbreaks, easterlies under the bands."""
    v10 = -1.2 + 0.25 * anomaly_k - 1.5 * cloud + 0.3 * np.sin(grid.lon[None, None, :] * 1.7)
    u10 = 1.0 - 2.5 * (cloud - 0.15) + 0.4 * np.cos(grid.lat[None, :, None] * 2.3)
    return np.round(u10, 2), np.round(v10, 2)


def dew_point_spread_k(cloud: np.ndarray, sin_elev: np.ndarray, anomaly_k: np.ndarray, wet: np.ndarray,
                       physics: WeatherPhysics = PHYSICS) -> np.ndarray:
    """Temperature minus dew point [K], >= 0.3: small in precipitation and on clear nights (the air cools
    towards saturation), large in sunny, dry cold air."""
    clear_spread = physics.clear_night_spread_k + physics.clear_noon_extra_spread_k * np.maximum(sin_elev, 0.0)
    spread = 0.3 + (1.0 - cloud) * clear_spread + 0.15 * np.maximum(-anomaly_k, 0.0)
    return np.round(np.where(wet, np.minimum(spread, 0.6), spread), 2)


def skin_temperature_c(t2m_c: np.ndarray, cloud: np.ndarray, sin_elev: np.ndarray, wind_ms: np.ndarray,
                       wet: np.ndarray, physics: WeatherPhysics = PHYSICS) -> np.ndarray:
    """Ground skin temperature [°C]: warmer than the air under a clear sun, colder on clear calm nights."""
    night = np.clip(0.5 - 5.0 * sin_elev, 0.0, 1.0)
    calm = 1.0 - np.clip(wind_ms / 10.0, 0.0, 0.6)
    skt = t2m_c + (1.0 - cloud) * (physics.sunny_skin_warming_k * np.maximum(sin_elev, 0.0)
                                   - physics.clear_night_skin_cooling_k * night * calm) - 0.3 * wet
    return np.round(skt, 2)


def visibility_m(ptype: np.ndarray, precip_mm: np.ndarray, cloud: np.ndarray, spread_k: np.ndarray,
                 wind_ms: np.ndarray, night: np.ndarray, terrain_m: np.ndarray,
                 physics: WeatherPhysics = PHYSICS) -> np.ndarray:
    """Visibility [m]: cut by precipitation (snow most), by fog on calm, dark, nearly saturated dry hours,
    and by hill fog where high ground is in the cloud base in light precipitation."""
    extinction = np.select([ptype == 1, np.isin(ptype, (5, 6, 7)), ptype > 0], [0.35, 1.2, 0.5], 0.0)
    vis = (20000.0 - 8000.0 * cloud) / (1.0 + extinction * precip_mm)
    fog = (precip_mm == 0) & (spread_k < physics.fog_max_spread_k) & (wind_ms < physics.fog_max_wind_ms) & (night > 0.5)
    vis = np.where(fog, 150.0 + 600.0 * spread_k, vis)
    hill_fog = (terrain_m >= physics.hill_fog_min_m) & (cloud > 0.8) & (precip_mm < physics.hill_fog_max_mm_h)
    vis = np.where(hill_fog, np.minimum(vis, 120.0 + 1500.0 * (1.0 - cloud) + 300.0 * precip_mm), vis)
    return np.round(np.clip(vis, 50.0, 30000.0))


# name in the file: (field, standard_name, units, long_name, scale_factor, add_offset, counts per canonical unit)
NETCDF_VARIABLES: dict[str, tuple[str, str, str, str, float, float, float]] = {
    "t2m": ("t2m_c", "air_temperature", "K", "2 metre temperature", 0.01, KELVIN, 100.0),
    "d2m": ("d2m_c", "dew_point_temperature", "K", "2 metre dewpoint temperature", 0.01, KELVIN, 100.0),
    "skt": ("skt_c", "surface_temperature", "K", "skin temperature", 0.01, KELVIN, 100.0),
    "tp": ("precip_mm", "precipitation_amount", "m", "total precipitation over the hour ending at time",
           1e-6, 0.0, 1000.0),
    "sf": ("snowfall_mm", "lwe_thickness_of_snowfall_amount", "m", "snowfall water equivalent over the hour",
           1e-6, 0.0, 1000.0),
    "u10": ("u10_ms", "eastward_wind", "m s-1", "10 metre U wind component", 0.01, 0.0, 100.0),
    "v10": ("v10_ms", "northward_wind", "m s-1", "10 metre V wind component", 0.01, 0.0, 100.0),
    "vis": ("vis_m", "visibility_in_air", "m", "visibility", 1.0, 0.0, 1.0),
}
PTYPE_MEANINGS = "none rain freezing_rain snow wet_snow rain_snow_mix ice_pellets freezing_drizzle"
PTYPE_VALUES = np.array([0, 1, 3, 5, 6, 7, 8, 12], dtype=np.int8)
FILL_INT16 = -32767


def pack(fields: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Fields in canonical units (°C, mm, m/s, m) to the stored int16 counts, keyed by file variable name."""
    return {name: np.round(fields[spec[0]] * spec[6]).astype(np.int16) for name, spec in NETCDF_VARIABLES.items()}


def write_netcdf(path: Path, packed: dict[str, np.ndarray], ptype: np.ndarray, grid: Grid, hours: np.ndarray,
                 kind: str, issued_h: int | None = None, title: str = "wxrisk demo world") -> Path:
    """Write a CF NetCDF3 (64-bit offset) file with scipy, as xarray's `engine="scipy"` does, from packed
    int16 fields (t, y, x); readers unpack with scale_factor/add_offset. No timestamps are written, so the
    same data gives the same bytes."""
    with netcdf_file(path, "w", version=2) as nc:
        nc.Conventions = "CF-1.8"
        nc.title = f"{title}, synthetic {kind}"
        nc.source = "wxrisk.scenario (synthetic; not observations)"
        nc.synthetic = np.int32(1)
        nc.kind = kind
        if issued_h is not None:
            nc.issued_at = iso_utc(issued_h)
        for dim, size in (("time", len(hours)), ("latitude", len(grid.lat)), ("longitude", len(grid.lon))):
            nc.createDimension(dim, size)
        _variable(nc, "time", "i", ("time",), np.asarray(hours, dtype=np.int32), standard_name="time",
                  units="hours since 2000-01-01 00:00:00", calendar="proleptic_gregorian")
        _variable(nc, "latitude", "f", ("latitude",), grid.lat.astype(np.float32), standard_name="latitude",
                  units="degrees_north")
        _variable(nc, "longitude", "f", ("longitude",), grid.lon.astype(np.float32), standard_name="longitude",
                  units="degrees_east")
        dims = ("time", "latitude", "longitude")
        for name, (_field, standard_name, units, long_name, scale, offset, _counts) in NETCDF_VARIABLES.items():
            _variable(nc, name, "h", dims, packed[name], standard_name=standard_name, units=units,
                      long_name=long_name, scale_factor=scale, add_offset=offset, _FillValue=np.int16(FILL_INT16))
        _variable(nc, "ptype", "b", dims, ptype.astype(np.int8), long_name="precipitation type (ECMWF code table 4.201)",
                  units="1", flag_values=PTYPE_VALUES, flag_meanings=PTYPE_MEANINGS)
    return path


def _variable(nc: netcdf_file, name: str, typecode: str, dims: tuple[str, ...], data: np.ndarray, **attrs) -> None:
    var = nc.createVariable(name, typecode, dims)
    var[:] = data
    for key, value in attrs.items():
        setattr(var, key, value)


def iso_utc(hours: int) -> str:
    """ISO 8601 UTC text of hours since EPOCH, e.g. 2024-02-01T00:00:00Z."""
    return str(EPOCH + np.timedelta64(int(hours), "h")) + ":00:00Z"
