"""Road-weather physics on NumPy arrays: humidity, wet-bulb, precipitation phase, sun, road surface.

Every function is pure and vectorised; inputs broadcast against each other; NaN in, NaN out.
"""

from __future__ import annotations

import numpy as np

# Precipitation phase codes used by the feature table.
PHASE_NONE = 0
PHASE_RAIN = 1
PHASE_SNOW = 2
PHASE_FREEZING = 3  # freezing rain or freezing drizzle
PHASE_MIXED = 4  # rain/snow mix, ice pellets, sleet

# ECMWF `ptype` code -> phase code (ECMWF Parameter Database, paramId 260015).
PTYPE_TO_PHASE = {0: PHASE_NONE, 1: PHASE_RAIN, 3: PHASE_FREEZING, 5: PHASE_SNOW, 6: PHASE_SNOW,
                  7: PHASE_MIXED, 8: PHASE_MIXED, 12: PHASE_FREEZING}

_PTYPE_LOOKUP = np.full(max(PTYPE_TO_PHASE) + 2, np.nan, dtype=np.float32)  # last slot: unknown
_PTYPE_LOOKUP[list(PTYPE_TO_PHASE)] = list(PTYPE_TO_PHASE.values())

# Fraction of the precipitation water that falls as snow, per phase code.
SNOW_FRACTION = np.array([0.0, 0.0, 1.0, 0.0, 0.5], dtype=np.float32)

WET_HOUR_MM = 0.1  # an hour with at least this much precipitation is wet [mm]
JENNINGS_AIR_THRESHOLD_C = 1.0  # Northern-Hemisphere mean 50 % rain-snow air temperature [°C]
LAPSE_RATE_C_PER_M = 0.0065  # ICAO standard atmosphere [°C/m]
PSYCHROMETER_A = 6.53e-4  # psychrometer coefficient, ventilated wet bulb (WMO-No. 8) [1/K]
NIGHT_COOLING_CLEAR_CALM_C = 3.0  # road below air on a clear calm night [°C]
CALM_WIND_HALF_MS = 3.0  # wind that halves the night-time road cooling [m/s]
DAY_HEATING_OVERHEAD_C = 4.0  # road above air, clear sky, sun overhead [°C]
BRIDGE_COOLING_NIGHT_C = 1.5  # bridge deck below the road on the ground at night [°C]
BRIDGE_COOLING_DAY_C = 0.5  # the same by day [°C]


def _float(values) -> np.ndarray:
    """Values as a float array, keeping float32 input in float32 (half the memory traffic)."""
    array = np.asarray(values)
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def saturation_vapour_pressure_hpa(t_c):
    """Saturation vapour pressure over water [hPa] at temperature t_c [°C].

    Magnus form with the Alduchov & Eskridge (1996) coefficients (J. Appl. Meteor. 35, 601-609).
    """
    t_c = _float(t_c)
    return 6.1094 * np.exp(17.625 * t_c / (t_c + 243.04))


def relative_humidity_pct(t_c, td_c):
    """Relative humidity [%] from air temperature t_c and dew point td_c [°C], capped at 100."""
    rh = 100.0 * saturation_vapour_pressure_hpa(td_c) / saturation_vapour_pressure_hpa(t_c)
    return np.minimum(rh, 100.0)


def standard_pressure_hpa(elevation_m):
    """Air pressure [hPa] of the ICAO standard atmosphere at height elevation_m [m] (NaN -> sea level)."""
    z = np.nan_to_num(_float(elevation_m), nan=0.0)
    return 1013.25 * (1.0 - LAPSE_RATE_C_PER_M * z / 288.15) ** 5.25588


def wet_bulb_c(t_c, td_c, pressure_hpa=1013.25, iterations: int = 4):
    """Psychrometric wet-bulb temperature [°C] from air temperature and dew point [°C] at pressure [hPa].

    Solves the psychrometer equation of WMO-No. 8, Guide to Instruments and Methods of
    Observation (2018), Part I, Annex 4.B: e(Td) = e_w(Tw) - A (1 + 0.000944 Tw) p (T - Tw),
    A = 6.53e-4 K^-1, e_w by Magnus, with Newton steps from Tw = T - (T - Td)/3 (four steps:
    within 1e-9 °C for T -40..45 °C, any dew point). The result is
    kept between the dew point and the air temperature.
    """
    t = _float(t_c)
    td = np.minimum(_float(td_c), t)
    p = _float(pressure_hpa)
    vapour_hpa = saturation_vapour_pressure_hpa(td)
    tw = t - (t - td) / 3.0
    for _ in range(iterations):
        e_w = saturation_vapour_pressure_hpa(tw)
        a = PSYCHROMETER_A * (1.0 + 0.000944 * tw)
        residual = e_w - a * p * (t - tw) - vapour_hpa
        slope = (e_w * (17.625 * 243.04) / (tw + 243.04) ** 2 + a * p
                 - PSYCHROMETER_A * 0.000944 * p * (t - tw))
        tw = tw - residual / slope
    return np.clip(tw, td, t)


def ding_wet_bulb_thresholds_c(rh_pct, elevation_m):
    """Wet-bulb thresholds (snow below t_min, rain above t_max, sleet between) [°C].

    Ding, B. et al. (2014): The dependence of precipitation types on surface elevation and
    meteorological conditions and its parameterization, J. Hydrology 513, 154-163, eqs. 3-6:
    T0 = -5.87 - 0.1042 Z + 0.0885 Z^2 + 16.06 RH - 9.614 RH^2 (Z [km], RH fraction),
    dT = 0.215 - 0.099 RH + 1.018 RH^2, dS = 2.374 - 1.634 RH,
    t_min = T0 - dS ln(exp(dT/dS) - 2 exp(-dT/dS)), t_max = 2 T0 - t_min when dT/dS > ln 2,
    else t_min = t_max = T0.
    """
    rh = _float(rh_pct) / 100.0
    z_km = np.nan_to_num(_float(elevation_m), nan=0.0) / 1000.0
    t0 = -5.87 - 0.1042 * z_km + 0.0885 * z_km**2 + 16.06 * rh - 9.614 * rh**2
    d_t = 0.215 - 0.099 * rh + 1.018 * rh**2
    d_s = 2.374 - 1.634 * rh
    ratio = d_t / d_s
    has_sleet = ratio > np.log(2.0)
    with np.errstate(invalid="ignore"):
        spread = d_s * np.log(np.where(has_sleet, np.exp(ratio) - 2.0 * np.exp(-ratio), 1.0))
    t_min = np.where(has_sleet, t0 - spread, t0)
    t_max = np.where(has_sleet, t0 + spread, t0)
    return t_min, t_max


def phase_from_ptype(ptype):
    """Phase code (PHASE_*) from ECMWF `ptype` codes; NaN where the code is missing or unknown."""
    codes = _float(ptype)
    known = np.isfinite(codes) & (codes >= 0) & (codes < len(_PTYPE_LOOKUP) - 1)
    return _PTYPE_LOOKUP[np.where(known, codes, len(_PTYPE_LOOKUP) - 1).astype(np.int64)]


def phase_from_wet_bulb(precip_mm, t2m_c, tw_c, rh_pct, elevation_m):
    """Diagnosed phase code from precipitation [mm], air and wet-bulb temperature [°C], RH [%], height [m].

    With humidity: Ding et al. (2014) wet-bulb thresholds (rain / sleet -> PHASE_MIXED / snow).
    Without humidity (NaN rh): the 1.0 °C air-temperature threshold of Jennings et al. (2018),
    Nat. Commun. 9, 1148. Freezing rain needs a warm layer aloft and cannot be diagnosed from
    the surface: it only comes from `ptype`. NaN where precipitation or temperature is missing.
    """
    precip = _float(precip_mm)
    t = _float(t2m_c)
    rh = _float(rh_pct)
    t_min, t_max = ding_wet_bulb_thresholds_c(rh, elevation_m)
    tw = _float(tw_c)
    by_wet_bulb = np.where(tw < t_min, PHASE_SNOW, np.where(tw > t_max, PHASE_RAIN, PHASE_MIXED))
    by_air = np.where(t <= JENNINGS_AIR_THRESHOLD_C, PHASE_SNOW, PHASE_RAIN)
    phase = np.where(np.isnan(rh), by_air, by_wet_bulb).astype(np.float32)
    phase = np.where(precip < WET_HOUR_MM, PHASE_NONE, phase)
    return np.where(np.isnan(precip) | np.isnan(t), np.nan, phase).astype(np.float32)


def precipitation_phase(ptype, precip_mm, t2m_c, tw_c, rh_pct, elevation_m):
    """Phase code per hour: from `ptype` where it reports a phase, else diagnosed (see above).

    A `ptype` of "none" during an hour with precipitation (ptype is instantaneous, precipitation
    accumulated over the hour) falls back to the diagnosis too.
    """
    reported = phase_from_ptype(ptype)
    precip = _float(precip_mm)
    diagnosed = phase_from_wet_bulb(precip, t2m_c, tw_c, rh_pct, elevation_m)
    use_reported = ~np.isnan(reported) & ~((reported == PHASE_NONE) & (precip >= WET_HOUR_MM))
    return np.where(use_reported, reported, diagnosed).astype(np.float32)


def solar_elevation_deg(times_utc, lat_deg, lon_deg):
    """Apparent solar elevation [°] (with refraction) at UTC times for places lat/lon [°].

    NOAA Global Monitoring Laboratory solar calculator algorithm (after Meeus, Astronomical
    Algorithms, 1991), https://gml.noaa.gov/grad/solcalc/calcdetails.html; accuracy about
    0.01° for years 1800-2100. `times_utc`: datetime64 array (naive UTC); broadcasts against
    lat/lon (e.g. times shape (H,), lat/lon shape (S, 1) -> (S, H)).
    """
    t = np.asarray(times_utc, dtype="datetime64[s]").astype(np.float64)
    julian_day = t / 86400.0 + 2440587.5
    jc = (julian_day - 2451545.0) / 36525.0
    mean_long = np.mod(280.46646 + jc * (36000.76983 + jc * 0.0003032), 360.0)
    mean_anom = np.radians(357.52911 + jc * (35999.05029 - 0.0001537 * jc))
    ecc = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc)
    centre = (np.sin(mean_anom) * (1.914602 - jc * (0.004817 + 0.000014 * jc))
              + np.sin(2 * mean_anom) * (0.019993 - 0.000101 * jc) + np.sin(3 * mean_anom) * 0.000289)
    omega = np.radians(125.04 - 1934.136 * jc)
    app_long = np.radians(mean_long + centre - 0.00569 - 0.00478 * np.sin(omega))
    mean_obliq = 23.0 + (26.0 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60.0) / 60.0
    obliq = np.radians(mean_obliq + 0.00256 * np.cos(omega))
    declination = np.arcsin(np.sin(obliq) * np.sin(app_long))
    y = np.tan(obliq / 2.0) ** 2
    l0 = np.radians(mean_long)
    eq_of_time_min = 4.0 * np.degrees(
        y * np.sin(2 * l0) - 2 * ecc * np.sin(mean_anom) + 4 * ecc * y * np.sin(mean_anom) * np.cos(2 * l0)
        - 0.5 * y * y * np.sin(4 * l0) - 1.25 * ecc * ecc * np.sin(2 * mean_anom))
    minutes_utc = np.mod(t, 86400.0) / 60.0
    true_solar_min = np.mod(minutes_utc + eq_of_time_min + 4.0 * np.asarray(lon_deg, dtype=np.float64), 1440.0)
    hour_angle = np.radians(true_solar_min / 4.0 - 180.0)
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    cos_zenith = np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(declination) * np.cos(hour_angle)
    elevation = np.degrees(np.arcsin(np.clip(cos_zenith, -1.0, 1.0)))
    return elevation + atmospheric_refraction_deg(elevation)


def atmospheric_refraction_deg(elevation_deg):
    """Approximate atmospheric refraction [°] at geometric solar elevation [°] (NOAA calculator)."""
    h = np.asarray(elevation_deg, dtype=np.float64)
    arcsec = np.zeros(h.shape)
    high = (h > 5.0) & (h <= 85.0)
    low = (h > -0.575) & (h <= 5.0)
    below = h <= -0.575
    tan_high = np.tan(np.radians(h[high]))
    arcsec[high] = 58.1 / tan_high - 0.07 / tan_high**3 + 0.000086 / tan_high**5
    h_low = h[low]
    arcsec[low] = 1735.0 + h_low * (-518.2 + h_low * (103.4 + h_low * (-12.79 + h_low * 0.711)))
    arcsec[below] = -20.772 / np.tan(np.radians(np.maximum(h[below], -89.0)))
    return arcsec / 3600.0


def road_surface_temp_c(t2m_c, skt_c, solar_elev_deg, wind_ms, cloud_frac, bridge, elevation_excess_m):
    """Estimated road-surface temperature [°C].

    Start from the skin temperature skt_c [°C] where given; otherwise from the air temperature
    t2m_c [°C] plus night-time radiative cooling (NIGHT_COOLING_CLEAR_CALM_C on a clear calm
    night, halved by CALM_WIND_HALF_MS of wind [m/s], none under full cloud) or daytime solar
    heating (DAY_HEATING_OVERHEAD_C x sin(solar elevation) x (1 - cloud)). Unknown cloud
    [fraction 0..1] or wind takes the colder case (clear at night, no heating by day, calm).
    Then bridges [bool] are colder (decks lose heat from both sides) and every metre the
    segment stands above its weather cell's mean height (elevation_excess_m [m]) cools by the
    standard lapse rate.
    """
    t2m = _float(t2m_c)
    skt = _float(skt_c)
    elev = _float(solar_elev_deg)
    wind = np.nan_to_num(_float(wind_ms), nan=0.0)
    cloud = _float(cloud_frac)
    night = elev <= 0.0
    cooling = NIGHT_COOLING_CLEAR_CALM_C * (1.0 - np.nan_to_num(cloud, nan=0.0)) / (1.0 + wind / CALM_WIND_HALF_MS)
    heating = DAY_HEATING_OVERHEAD_C * np.sin(np.radians(np.maximum(elev, 0.0))) * (1.0 - np.nan_to_num(cloud, nan=1.0))
    from_air = t2m + np.where(night, -cooling, heating)
    surface = np.where(np.isnan(skt), from_air, skt)
    bridge_cooling = np.where(night, BRIDGE_COOLING_NIGHT_C, BRIDGE_COOLING_DAY_C) * _float(bridge)
    lapse = LAPSE_RATE_C_PER_M * np.nan_to_num(_float(elevation_excess_m), nan=0.0)
    return surface - bridge_cooling - lapse


def black_ice_flag(road_temp_c, precip_mm_6h, rh_pct, d2m_c):
    """1 where the road is at or below 0 °C and wet or near saturation, else 0; NaN if unknown.

    Wet: precipitation in the last 6 h [mm] at least WET_HOUR_MM. Near saturation: relative
    humidity [%] at least 95, or the road at or below the dew point d2m_c [°C] (hoar frost).
    Unknown inputs count only when they could change the answer (three-valued logic).
    """
    road = _float(road_temp_c)
    evidence = [_float(precip_mm_6h) >= WET_HOUR_MM,
                _float(rh_pct) >= 95.0,
                road <= _float(d2m_c)]
    unknown = [np.isnan(_float(x)) for x in (precip_mm_6h, rh_pct, d2m_c)]
    any_wet = np.logical_or.reduce(evidence)
    all_known = ~np.logical_or.reduce(unknown)
    frozen = road <= 0.0
    flag = np.where(frozen & any_wet, 1.0, np.where(~frozen | all_known, 0.0, np.nan))
    return np.where(np.isnan(road), np.nan, flag).astype(np.float32)


# Road-surface budget (water, ice, snow on the road, mm water equivalent).
SURFACE_MEMORY_H = 42  # the budget runs from a bare road at least this many hours before the hour [h]
SURFACE_RESTART_EVERY_H = 6  # ... starting at a 00, 06, 12 or 18 UTC hour, so 42-47 h of memory [h]
WATER_HOLD_MM = 0.2  # water a road holds before it runs off (METRo MEA(1)) [mm]
CONTACT_BAND_K = 1.0  # snow landing on a road this much above 0 °C melts whole (METRo FZ) [K]
MELT_MM_PER_K_H = 0.5  # ice and snow melted per degree of road above 0 °C and hour [mm/(K h)]
BULK_TRANSFER = 1.5e-3  # bulk transfer coefficient for vapour, near-neutral, 10 m wind [1]
AIR_DENSITY_KG_M3 = 1.25  # air near 0 °C [kg/m³]
MIN_TRANSFER_WIND_MS = 1.0  # free convection floor on the transfer wind [m/s]
SPLASH_VPH = 2000.0  # traffic that splashes 63 % of the road's water off in an hour [veh/h]
PACK_VPH = 2000.0  # traffic that packs 63 % of the lying snow into ice in an hour [veh/h]
ICE_WEAR_VPH = 20000.0  # traffic that wears 63 % of the ice off in an hour [veh/h]


def specific_humidity_kg_kg(vapour_hpa, pressure_hpa):
    """Specific humidity [kg/kg] from vapour pressure and air pressure [hPa]."""
    e = _float(vapour_hpa)
    return 0.622 * e / (_float(pressure_hpa) - 0.378 * e)


def contact_melt_fraction(road_c):
    """Share of snow that melts on landing, by road-surface temperature [°C] (METRo `VERGLAS`).

    0 on a road at or below 0 °C, 1 at or above CONTACT_BAND_K, 0.25 sin(π T/FZ) + 0.75
    between (Crevier & Delage 2001, J. Appl. Meteor. 40, 2026-2037).
    """
    t = _float(road_c)
    fraction = np.array(t >= CONTACT_BAND_K, dtype=t.dtype)
    fraction[np.isnan(t)] = np.nan
    in_band = (t > 0.0) & (t < CONTACT_BAND_K)  # the sine only there: float64 sines are slow
    fraction[in_band] = 0.25 * np.sin(np.pi * t[in_band] / CONTACT_BAND_K) + 0.75
    return fraction


def vapour_flux_mm_h(road_c, dew_point_c, wind_ms, pressure_hpa):
    """Condensation (+) or evaporation (-) on the road surface [mm/h].

    Bulk formula rho C_E U (q_air - q_sat(T_road)) as in METRo's `RODCON` (Crevier & Delage
    2001): dew or hoar frost when the road is colder than the dew point, drying otherwise.
    Unknown dew point: no exchange (0); unknown wind: MIN_TRANSFER_WIND_MS.
    """
    q_air = specific_humidity_kg_kg(saturation_vapour_pressure_hpa(dew_point_c), pressure_hpa)
    q_road = specific_humidity_kg_kg(saturation_vapour_pressure_hpa(road_c), pressure_hpa)
    wind = np.maximum(np.nan_to_num(_float(wind_ms), nan=0.0), MIN_TRANSFER_WIND_MS)
    flux = AIR_DENSITY_KG_M3 * BULK_TRANSFER * wind * (q_air - q_road) * 3600.0
    return np.nan_to_num(flux, nan=0.0)


SURFACE_FORCINGS = ("liquid_mm", "snow_melt_mm", "snow_lying_mm", "frozen", "thawed", "deposit_water_mm", "deposit_ice_mm",
                    "drying_mm", "melt_mm", "pack_share", "wear_keep", "splash_keep")


def surface_forcing(liquid_mm, snow_mm, road_c, flux_mm, traffic_vph) -> dict[str, np.ndarray]:
    """What drives the budget in each hour: every part of `surface_step` that does not depend on
    the state, computed once per hour (float32; `frozen` and `thawed` are 1 or 0).

    liquid_mm, snow_mm : precipitation in the hour [mm w.e.]; road_c : road surface [°C];
    flux_mm : condensation (+) / evaporation (-) in the hour [mm] (`vapour_flux_mm_h`);
    traffic_vph : vehicles in the hour [veh/h]. Missing values count as 0 here.
    """
    traffic = np.nan_to_num(_float(traffic_vph), nan=0.0)
    road = np.nan_to_num(_float(road_c), nan=0.0)
    shape = np.broadcast_shapes(*(np.shape(v) for v in (liquid_mm, snow_mm, road, flux_mm, traffic)))

    def hourly(values) -> np.ndarray:
        return np.nan_to_num(np.broadcast_to(np.asarray(values, dtype=np.float32), shape), nan=0.0)

    contact, road, snow, flux = hourly(contact_melt_fraction(road)), hourly(road), hourly(snow_mm), hourly(flux_mm)
    frozen = (road <= 0.0).astype(np.float32)  # 1 or 0: masks as products (finite values only)
    thawed = 1.0 - frozen
    deposit = np.maximum(flux, 0.0)
    return {"liquid_mm": hourly(liquid_mm), "snow_melt_mm": snow * contact, "snow_lying_mm": snow * (1.0 - contact),
            "frozen": frozen, "thawed": thawed, "deposit_water_mm": deposit * thawed, "deposit_ice_mm": deposit * frozen,
            "drying_mm": np.maximum(-flux, 0.0),
            "melt_mm": MELT_MM_PER_K_H * np.maximum(road, 0.0), "pack_share": hourly(-np.expm1(-traffic / PACK_VPH)),
            "wear_keep": hourly(np.exp(-traffic / ICE_WEAR_VPH)), "splash_keep": hourly(np.exp(-traffic / SPLASH_VPH))}


def surface_step(state, hour: dict[str, np.ndarray], scratch) -> None:
    """One hour of the road-surface budget: (water, ice, snow) [mm w.e.] -> the same an hour later,
    in place (`scratch`: two arrays shaped like the state).

    `hour` holds the SURFACE_FORCINGS of that hour (`surface_forcing`).
    1. Precipitation lands: liquid as water, snow as snow except the share that melts on
       contact (`contact_melt_fraction`).
    2. Condensation adds water (road above 0 °C) or hoar frost (ice); evaporation dries the
       water first, then sublimates ice.
    3. On a road at or below 0 °C all water freezes within the hour (RoadSurf `IceStorage`);
       above it, snow then ice melt at MELT_MM_PER_K_H per degree (temperature-index melt,
       Hock 2003, J. Hydrology 282, 104-115; upper end of its range for dark pavement).
    4. Traffic splashes water off, packs snow into ice and wears ice (RoadSurf's traffic wear,
       Kangas et al. 2015, Meteorol. Appl. 22, 544-553; Karsisto 2024, GMD 17, 4837-4853).
    5. Water above WATER_HOLD_MM runs off (METRo).
    """
    water, ice, snow = state
    taken, more = scratch
    water += hour["liquid_mm"]
    water += hour["snow_melt_mm"]
    snow += hour["snow_lying_mm"]
    water += hour["deposit_water_mm"]
    ice += hour["deposit_ice_mm"]
    np.minimum(water, hour["drying_mm"], out=taken)  # dried water, then sublimated ice
    water -= taken
    np.subtract(hour["drying_mm"], taken, out=more)
    ice -= np.minimum(ice, more, out=more)
    ice += np.multiply(water, hour["frozen"], out=more)  # the water freezes on a frozen road
    water *= hour["thawed"]
    np.minimum(snow, hour["melt_mm"], out=taken)  # snow melt, then ice melt
    np.subtract(hour["melt_mm"], taken, out=more)
    np.minimum(ice, more, out=more)
    snow -= taken
    ice -= more
    water += taken
    water += more
    np.multiply(snow, hour["pack_share"], out=taken)  # packed into ice
    snow -= taken
    ice += taken
    ice *= hour["wear_keep"]
    water *= hour["splash_keep"]
    np.minimum(water, WATER_HOLD_MM, out=water)


def surface_state_mm(liquid_mm, snow_mm, road_c, dew_point_c, wind_ms, traffic_vph, pressure_hpa,
                     first_hour: np.datetime64, from_hour: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Water, ice and snow on the road at the end of each hour [mm w.e.], (segments, hours) arrays.

    Inputs are (segments, hours) arrays of the hours ending at `first_hour`, `first_hour` + 1 h,
    ...: liquid and solid precipitation [mm], road-surface temperature and dew point [°C], wind
    [m/s], traffic [veh/h]; pressure [hPa] broadcasts. The state of an hour is `surface_step`
    run from a bare road at the last 00/06/12/18 UTC hour at least SURFACE_MEMORY_H hours
    before it (42-47 h of memory), so it depends on that hour's own past only: any window or
    chunking of the hours gives the same values. Returned for the hours from `from_hour` on,
    which needs from_hour >= SURFACE_MEMORY_H + SURFACE_RESTART_EVERY_H - 1. NaN where
    precipitation or road temperature is missing in any hour of the run.
    """
    n_segments, n_hours = np.shape(road_c)
    if from_hour < SURFACE_MEMORY_H + SURFACE_RESTART_EVERY_H - 1:
        raise ValueError(f"surface_state_mm: needs {SURFACE_MEMORY_H + SURFACE_RESTART_EVERY_H - 1} "
                         f"hours before the first one returned, got {from_hour}")
    every = SURFACE_RESTART_EVERY_H
    hour0 = int(np.datetime64(first_hour, "h").astype(np.int64))  # hours since 1970 of column 0
    first_out = hour0 + from_hour
    first_restart = (first_out - SURFACE_MEMORY_H) // every * every
    last_restart = (hour0 + n_hours - 1 - SURFACE_MEMORY_H) // every * every
    n_runs = (last_restart - first_restart) // every + 1
    steps = SURFACE_MEMORY_H + every - 1
    pad = last_restart + steps + 1 - hour0 - n_hours + every  # whole blocks for the last run
    first_column = first_restart - hour0 + 1  # the input hour of the first step of the first run
    n_blocks = (n_hours + max(pad, 0) - first_column) // every

    def by_run(values: np.ndarray) -> np.ndarray:
        """(every, blocks, segments) copy: [k % every, g + k // every] is step k + 1 of run g, so
        that one step of every run is one contiguous (runs, segments) slice (zero past the last
        hour: runs that reach beyond it are never returned)."""
        values = np.broadcast_to(values, (n_segments, n_hours))
        runs = np.zeros((every, n_blocks, n_segments), dtype=values.dtype)
        hours = values[:, first_column:first_column + n_blocks * every]
        full, rest = divmod(hours.shape[1], every)
        by_hour = runs.transpose(2, 1, 0)
        by_hour[:, :full] = hours[:, :full * every].reshape(n_segments, full, every)
        if rest:
            by_hour[:, full, :rest] = hours[:, full * every:]
        return runs

    flux = vapour_flux_mm_h(road_c, dew_point_c, wind_ms, pressure_hpa)
    forcing = surface_forcing(*(by_run(v) for v in (liquid_mm, snow_mm, road_c, flux, traffic_vph)))
    unknown = by_run(np.isnan(liquid_mm) | np.isnan(snow_mm) | np.isnan(road_c))
    state = tuple(np.zeros((n_runs, n_segments), dtype=np.float32) for _ in range(3))
    scratch = tuple(np.empty((n_runs, n_segments), dtype=np.float32) for _ in range(2))
    missing = np.zeros((n_runs, n_segments), dtype=bool)
    out = tuple(np.full((n_segments, n_hours - from_hour), np.nan, dtype=np.float32) for _ in range(3))
    for step in range(1, steps + 1):
        within, block = (step - 1) % every, (step - 1) // every
        taken = np.s_[within, block:block + n_runs]
        missing |= unknown[taken]
        surface_step(state, {k: v[taken] for k, v in forcing.items()}, scratch)
        if step >= SURFACE_MEMORY_H:
            hours_out = first_restart + step + np.arange(n_runs) * every - first_out
            inside = (hours_out >= 0) & (hours_out < n_hours - from_hour)
            for target, values in zip(out, state, strict=True):
                target[:, hours_out[inside]] = np.where(missing, np.nan, values)[inside].T
    return out
