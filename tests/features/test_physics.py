"""Road-weather physics against published reference values (sources cited per test)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wxrisk.features import physics


def test_saturation_vapour_pressure_matches_tables():
    # CRC Handbook of Chemistry and Physics, "Vapor pressure of water from 0 to 370 °C":
    # 0.61121 kPa at 0 °C, 2.3392 kPa at 20 °C; Sonntag (1990), Z. Meteorol. 40, 340: over
    # supercooled water 2.865 hPa at -10 °C.
    e_s = physics.saturation_vapour_pressure_hpa(np.array([0.0, 20.0, -10.0]))
    np.testing.assert_allclose(e_s, [6.112, 23.39, 2.865], rtol=0.004)


def test_relative_humidity_from_dew_point():
    # Lawrence (2005), BAMS 86, 225-233, eqs. 7-8 (Magnus, Alduchov & Eskridge coefficients):
    # T 20 °C with Td 9.26 °C is RH 50 %.
    assert physics.relative_humidity_pct(20.0, 9.26) == pytest.approx(50.0, abs=0.2)
    assert physics.relative_humidity_pct(-3.0, -3.0) == pytest.approx(100.0)


def test_standard_atmosphere_pressure():
    # ICAO Standard Atmosphere (Doc 7488) tables: 898.76 hPa at 1000 m, 701.12 hPa at 3000 m,
    # 540.48 hPa at 5000 m (geometric heights; the formula uses geopotential, 0.3 hPa apart at 5 km).
    p = physics.standard_pressure_hpa(np.array([0.0, 1000.0, 3000.0, 5000.0]))
    np.testing.assert_allclose(p, [1013.25, 898.76, 701.12, 540.48], atol=0.5)


def _psychrometric_wet_bulb_c(t_c: float, td_c: float, p_hpa: float = 1013.25) -> float:
    """Tw solving the psychrometer equation of WMO-No. 8 (2018), Annex 4.B, by bisection:
    e = e_w(Tw) - 6.53e-4 (1 + 0.000944 Tw) p (T - Tw), e_w(t) = 6.112 exp(17.62 t / (243.12 + t))."""
    def e_w(t: float) -> float:
        return 6.112 * math.exp(17.62 * t / (243.12 + t))

    lo, hi = td_c, t_c
    for _ in range(60):
        tw = (lo + hi) / 2
        residual = e_w(tw) - 6.53e-4 * (1 + 0.000944 * tw) * p_hpa * (t_c - tw) - e_w(td_c)
        lo, hi = (tw, hi) if residual < 0 else (lo, tw)
    return (lo + hi) / 2


def _stull_2011_c(t_c, rh_pct):
    """Stull (2011), J. Appl. Meteor. Climatol. 50, 2267-2269, eq. 1 (sea level, RH 5-99 %)."""
    t, rh = np.asarray(t_c, dtype=float), np.asarray(rh_pct, dtype=float)
    return (t * np.arctan(0.151977 * np.sqrt(rh + 8.313659)) + np.arctan(t + rh) - np.arctan(rh - 1.676331)
            + 0.00391838 * rh**1.5 * np.arctan(0.023101 * rh) - 4.686035)


@pytest.mark.parametrize(("t_c", "td_c", "p_hpa"), [(20.0, 9.26, 1013.25), (1.0, -0.5, 1013.25),
                                                     (-5.0, -7.5, 1013.25), (0.5, -3.0, 701.12)])
def test_wet_bulb_solves_the_wmo_psychrometer_equation(t_c, td_c, p_hpa):
    tw = float(physics.wet_bulb_c(t_c, td_c, p_hpa))
    assert tw == pytest.approx(_psychrometric_wet_bulb_c(t_c, td_c, p_hpa), abs=0.03)


def test_wet_bulb_within_stull_2011_error_band():
    # Stull (2011) gives Tw = 13.7 °C for T 20 °C, RH 50 %, and states his fit's error against
    # the psychrometric solution as -1 .. +0.65 °C over T -20..50 °C, RH 5..99 % at sea level,
    # "except for situations having both low values of humidity and temperature".
    t, rh = np.meshgrid(np.arange(-20.0, 41.0, 5.0), np.arange(10.0, 100.0, 10.0))
    gamma = np.log(rh / 100) + 17.625 * t / (243.04 + t)
    td = 243.04 * gamma / (17.625 - gamma)
    valid = (rh >= 50) | (t >= 0)
    error = (_stull_2011_c(t, rh) - physics.wet_bulb_c(t, td))[valid]
    assert error.min() >= -1.0 and error.max() <= 0.7
    assert float(physics.wet_bulb_c(20.0, 9.26)) == pytest.approx(13.7, abs=0.2)


def test_wet_bulb_stays_between_dew_point_and_air_temperature():
    t = np.array([-15.0, -2.0, 0.5, 3.0])
    td = np.array([-15.0, -2.1, -5.0, -12.0])
    tw = physics.wet_bulb_c(t, td)
    assert np.all((tw <= t) & (tw >= td))
    assert tw[0] == pytest.approx(-15.0, abs=1e-6)  # saturated air: Tw = T
    # thinner air at altitude: a smaller psychrometer term brings Tw closer to the dew point
    assert float(physics.wet_bulb_c(0.5, -3.0, 701.12)) < float(physics.wet_bulb_c(0.5, -3.0, 1013.25))


def test_ding_2014_thresholds_from_the_published_equations():
    # Ding et al. (2014), J. Hydrology 513, eqs. 3-6 at RH = 100 %, Z = 0 km:
    # T0 = -5.87 + 16.06 - 9.614 = 0.576 °C; dT = 1.134; dS = 0.740;
    # t_min = T0 - dS ln(e^(dT/dS) - 2 e^(-dT/dS)) = -0.485 °C; t_max = 2 T0 - t_min = 1.637 °C.
    t_min, t_max = physics.ding_wet_bulb_thresholds_c(100.0, 0.0)
    assert float(t_min) == pytest.approx(-0.485, abs=0.005)
    assert float(t_max) == pytest.approx(1.637, abs=0.005)


def test_ding_thresholds_rise_in_drier_air():
    # Ding et al. (2014), fig. 7: the 50 % snow threshold rises as relative humidity falls
    # (evaporative cooling keeps snow frozen in warmer, drier air).
    t_min_dry, _ = physics.ding_wet_bulb_thresholds_c(60.0, 0.0)
    t_min_wet, _ = physics.ding_wet_bulb_thresholds_c(95.0, 0.0)
    assert float(t_min_dry) > float(t_min_wet)


def test_phase_from_ptype_maps_ecmwf_codes():
    # ECMWF parameter 260015 (ptype): 1 rain, 3 freezing rain, 5 snow, 6 wet snow, 7 mix, 8 pellets, 12 fzdz.
    phase = physics.phase_from_ptype(np.array([0, 1, 3, 5, 6, 7, 8, 12, 99, np.nan]))
    expected = [0, 1, 3, 2, 2, 4, 4, 3, np.nan, np.nan]
    np.testing.assert_array_equal(phase, np.array(expected, dtype=np.float32))


def test_phase_diagnosed_from_wet_bulb_and_air_temperature():
    precip = np.array([1.0, 1.0, 1.0, 0.0, 1.0, 1.0])
    t2m = np.array([-3.0, 6.0, 0.8, -3.0, 0.5, 2.0])
    rh = np.array([90.0, 90.0, 100.0, 90.0, np.nan, np.nan])
    td = np.array([-4.5, 4.5, 0.8, -4.5, np.nan, np.nan])
    phase = physics.phase_from_wet_bulb(precip, t2m, physics.wet_bulb_c(t2m, td), rh, 0.0)
    # snow well below, rain well above, sleet between Ding's thresholds (Tw 0.8 at RH 100 %),
    # no precipitation -> none; without humidity Jennings et al. (2018) 1.0 °C air threshold.
    np.testing.assert_array_equal(phase, [2, 1, 4, 0, 2, 1])


def test_ptype_wins_over_diagnosis_except_when_it_says_none_during_precipitation():
    ptype = np.array([3, np.nan, 0])
    t2m, td = np.array([5.0, -5.0, -5.0]), np.array([3.5, -6.4, -6.4])
    rh = physics.relative_humidity_pct(t2m, td)
    phase = physics.precipitation_phase(ptype, np.array([2.0, 2.0, 2.0]), t2m, physics.wet_bulb_c(t2m, td), rh, 0.0)
    np.testing.assert_array_equal(phase, [physics.PHASE_FREEZING, physics.PHASE_SNOW, physics.PHASE_SNOW])


def test_solar_elevation_matches_reda_andreas_spa_example():
    # Reda & Andreas (2004), NREL/TP-560-34302, worked example: Golden CO (39.742476 N, 105.1786 W),
    # 2003-10-17 12:30:30 local (UTC-7): topocentric zenith 50.11162° -> elevation 39.88838°
    # (refraction at 820 hPa; the NOAA algorithm uses standard air, about 0.004° more).
    t = np.array(["2003-10-17T19:30:30"], dtype="datetime64[s]")
    elevation = physics.solar_elevation_deg(t, 39.742476, -105.1786)
    assert float(elevation[0]) == pytest.approx(39.888, abs=0.02)


def test_solar_noon_elevation_at_beijing_on_the_june_solstice():
    # Astronomical Almanac: declination 23.44° at the June solstice (2024-06-20 20:51 UTC); noon
    # elevation at Beijing (39.9042 N, 116.4074 E) = 90 - 39.9042 + 23.44 = 73.53°.
    minutes = np.arange("2024-06-21T02:00", "2024-06-21T06:00", dtype="datetime64[m]")
    elevation = physics.solar_elevation_deg(minutes, 39.9042, 116.4074)
    assert float(elevation.max()) == pytest.approx(73.53, abs=0.05)
    midnight_local = physics.solar_elevation_deg(np.array(["2024-06-21T16:00"], dtype="datetime64[m]"),
                                                 39.9042, 116.4074)
    assert float(midnight_local[0]) < -20.0


def test_refraction_at_45_degrees():
    # Meeus, Astronomical Algorithms (1991), ch. 16: refraction at 45° apparent altitude is about 58".
    assert float(physics.atmospheric_refraction_deg(45.0)) * 3600 == pytest.approx(58.0, abs=1.0)


def test_road_surface_uses_skin_temperature_when_given():
    road = physics.road_surface_temp_c(2.0, -1.0, 30.0, 0.0, np.nan, False, 0.0)
    assert float(road) == pytest.approx(-1.0)


def test_road_surface_cools_on_clear_calm_nights_less_with_wind_or_cloud():
    clear_calm = physics.road_surface_temp_c(1.0, np.nan, -20.0, 0.0, 0.0, False, 0.0)
    windy = physics.road_surface_temp_c(1.0, np.nan, -20.0, 6.0, 0.0, False, 0.0)
    overcast = physics.road_surface_temp_c(1.0, np.nan, -20.0, 0.0, 1.0, False, 0.0)
    assert float(clear_calm) == pytest.approx(1.0 - physics.NIGHT_COOLING_CLEAR_CALM_C)
    assert float(clear_calm) < float(windy) < float(overcast) == pytest.approx(1.0)


def test_road_surface_colder_on_bridges_and_higher_up():
    ground = physics.road_surface_temp_c(1.0, np.nan, -20.0, 2.0, 0.5, False, 0.0)
    bridge = physics.road_surface_temp_c(1.0, np.nan, -20.0, 2.0, 0.5, True, 0.0)
    uphill = physics.road_surface_temp_c(1.0, np.nan, -20.0, 2.0, 0.5, False, 400.0)
    assert float(ground - bridge) == pytest.approx(physics.BRIDGE_COOLING_NIGHT_C)
    # ICAO standard atmosphere: 6.5 °C per km.
    assert float(ground - uphill) == pytest.approx(2.6)


def test_black_ice_three_valued_logic():
    road = np.array([-1.0, -1.0, -1.0, 2.0, -1.0, np.nan])
    precip_6h = np.array([0.5, 0.0, 0.0, 5.0, np.nan, 1.0])
    rh = np.array([60.0, 97.0, 60.0, 99.0, np.nan, 99.0])
    d2m = np.array([-9.0, -9.0, -9.0, 1.0, np.nan, 0.0])
    flag = physics.black_ice_flag(road, precip_6h, rh, d2m)
    np.testing.assert_array_equal(flag, [1.0, 1.0, 0.0, 0.0, np.nan, np.nan])


# --- road-surface budget -------------------------------------------------------------------------

def _surface(liquid, snow, road, dew=None, wind=3.0, traffic=0.0, hours_before=60):
    """The budget for one segment whose hours are given in order, with `hours_before` dry warm hours first."""
    pad = np.zeros(hours_before)
    liquid = np.concatenate([pad, liquid])[None, :].astype(np.float32)
    snow = np.concatenate([pad, snow])[None, :].astype(np.float32)
    road = np.concatenate([pad + 5.0, road])[None, :].astype(np.float32)
    dew = (road - 3.0) if dew is None else np.concatenate([pad, dew])[None, :].astype(np.float32)
    shape = road.shape
    return physics.surface_state_mm(liquid, snow, road, dew, np.full(shape, wind, np.float32),
                                    np.full(shape, traffic, np.float32), 1013.25, np.datetime64("2024-01-01T00"),
                                    hours_before)


def test_rain_on_a_road_that_then_freezes_is_ice_until_the_road_thaws():
    n = 30
    rain = np.zeros(n)
    rain[2:4] = 1.0                                         # 2 mm of rain on a +2 °C road
    road = np.r_[np.full(8, 2.0), np.full(12, -2.0), np.full(10, 3.0)]
    water, ice, snow = _surface(rain, np.zeros(n), road, dew=road - 0.5)
    assert water[0, 3] == pytest.approx(physics.WATER_HOLD_MM)  # the rest ran off (METRo MEA)
    assert ice[0, 8] > 0.05 and water[0, 8] == 0                # it froze when the road went below 0 °C
    assert ice[0, 19] > 0.05                                    # still there 12 h later: memory, no rain since
    assert ice[0, 25] == 0 and snow.max() == 0                  # melted at +3 °C


def test_snow_lies_on_a_frozen_road_melts_on_a_warm_one_and_traffic_packs_it_into_ice():
    n = 20
    fall = np.r_[np.zeros(2), np.full(4, 1.0), np.zeros(14)]
    frozen = np.full(n, -3.0)
    _, ice, snow = _surface(np.zeros(n), fall, frozen)
    assert snow[0, 10] == pytest.approx(4.0, rel=0.05) and ice[0, 10] == pytest.approx(0.0, abs=0.05)
    _, ice_busy, snow_busy = _surface(np.zeros(n), fall, frozen, traffic=2000.0)
    assert snow_busy[0, 10] < 0.1 and ice_busy[0, 10] > 1.5     # packed into ice by 2,000 vehicles an hour (and worn)
    _, _, snow_warm = _surface(np.zeros(n), fall, np.full(n, 2.0))
    assert snow_warm.max() == 0                                 # melts on contact above CONTACT_BAND_K


def test_hoar_frost_forms_on_a_road_below_the_dew_point_and_dries_off_above_it():
    n = 24
    road = np.r_[np.full(12, -4.0), np.full(12, 6.0)]
    dew = np.r_[np.full(12, -2.0), np.full(12, -2.0)]
    water, ice, _ = _surface(np.zeros(n), np.zeros(n), road, dew=dew, wind=2.0)
    assert 0.01 < ice[0, 11] < 0.5                              # a thin deposit over a night
    assert ice[0, 23] == 0 and water[0, 23] < water[0, 13]      # melted, then drying


def test_contact_melt_follows_metro():
    # Crevier & Delage (2001), VERGLAS: none on a frozen road, 0.25 sin(pi T/FZ) + 0.75 below FZ, all above
    np.testing.assert_allclose(physics.contact_melt_fraction(np.array([-1.0, 0.0, 0.25, 0.5, 1.0, 3.0])),
                               [0.0, 0.0, 0.25 * np.sin(np.pi / 4) + 0.75, 1.0, 1.0, 1.0])


def test_surface_state_of_an_hour_depends_on_its_own_past_only():
    rng = np.random.default_rng(3)
    shape = (4, 300)
    liquid = np.where(rng.random(shape) < 0.2, rng.gamma(1.0, 1.0, shape), 0.0).astype(np.float32)
    snow = np.where(rng.random(shape) < 0.1, rng.gamma(1.0, 1.0, shape), 0.0).astype(np.float32)
    road = rng.normal(0.0, 3.0, shape).astype(np.float32)
    args = (road - 1.0, np.full(shape, 2.0, np.float32), np.full(shape, 800.0, np.float32), 1000.0)
    first = np.datetime64("2024-01-01T05")
    whole = physics.surface_state_mm(liquid, snow, road, *args, first, 48)
    for later in (1, 7, 100):
        part = physics.surface_state_mm(liquid[:, later:], snow[:, later:], road[:, later:],
                                        *(a[:, later:] if np.ndim(a) else a for a in args),
                                        first + np.timedelta64(later, "h"), 48)
        for a, b in zip(whole, part, strict=True):
            np.testing.assert_array_equal(a[:, later:], b)


def test_surface_state_is_unknown_where_precipitation_is():
    n = 20
    rain = np.zeros(n)
    rain[3] = np.nan
    water, ice, snow = _surface(rain, np.zeros(n), np.full(n, 1.0))
    assert np.isnan(water[0, 3]) and np.isnan(ice[0, 10]) and np.isnan(snow[0, 19])
    with pytest.raises(ValueError, match="needs 47 hours"):
        physics.surface_state_mm(*(np.zeros((1, 60), np.float32),) * 6, 1013.0, np.datetime64("2024-01-01T00"), 10)
