"""Physical coherence of the demo weather, on the demo grid (fields computed directly, no files)."""

from __future__ import annotations

import numpy as np
import pytest

from wxrisk.scenario.episodes import HOLDOUT_YEAR, TRAINING_YEARS, spring_festival, winter_world
from wxrisk.scenario.roads import substream
from wxrisk.scenario.weather import (
    PHYSICS,
    compute_fields,
    draw_forecast_error,
    hours_of,
    make_grid,
    precipitation_type,
)

GRID = make_grid(108.0, 22.0, 122.0, 36.0, 0.25)


def _box(lat_min: float, lat_max: float, lon_min: float, lon_max: float) -> tuple[np.ndarray, np.ndarray]:
    lat = (GRID.lat >= lat_min) & (GRID.lat <= lat_max)
    lon = (GRID.lon >= lon_min) & (GRID.lon <= lon_max)
    return np.nonzero(lat)[0], np.nonzero(lon)[0]


def _hourly(start: str, end: str, step_h: int = 1) -> np.ndarray:
    return np.arange(hours_of(start), hours_of(end), step_h, dtype=np.int64)


@pytest.fixture(scope="module")
def event() -> dict[str, np.ndarray]:
    """1 to 7 February 2024 (after the cold air arrived, as at the Wuhan station), every 3 hours."""
    return compute_fields(winter_world(2024, HOLDOUT_YEAR), GRID, _hourly("2024-02-01T00", "2024-02-08T00", 3))


@pytest.fixture(scope="module")
def training_winter() -> dict[str, np.ndarray]:
    """The 2022-23 window around Spring Festival (22 January 2023), every 2 hours."""
    return compute_fields(winter_world(2024, 2023), GRID, _hourly("2022-12-29T16", "2023-02-12T16", 2))


@pytest.mark.parametrize("which", ["event", "training_winter"])
def test_phase_follows_temperature(which, request):
    # Warm-layer rule (Bourgouin 2000, Wea. Forecasting 15, 583-592; AMS Glossary "freezing rain"):
    # freezing rain/drizzle and ice pellets need surface air at or below 0 °C, snow needs it near or below
    # freezing; rain that stays liquid on the ground falls into air above 0 °C.
    f = request.getfixturevalue(which)
    t2m, ptype = f["t2m_c"], f["ptype"]
    assert (t2m[np.isin(ptype, (3, 8, 12))] <= 0.0).all()
    assert (t2m[ptype == 5] < PHYSICS.snow_max_t2m_c).all()
    assert (t2m[ptype == 1] > 0.0).all()
    assert (f["precip_mm"][ptype == 0] == 0).all() and (f["precip_mm"][ptype > 0] > 0).all()
    assert (f["snowfall_mm"] <= f["precip_mm"]).all() and (f["snowfall_mm"][~np.isin(ptype, (5, 6, 7))] == 0).all()
    assert {1, 3, 5} <= set(np.unique(ptype))


@pytest.mark.parametrize("which", ["event", "training_winter"])
def test_dew_point_never_exceeds_temperature(which, request):
    # The dew point is the temperature of saturation; air cannot hold more (WMO-No. 8, 2018, Vol. I, ch. 4).
    f = request.getfixturevalue(which)
    assert (f["d2m_c"] <= f["t2m_c"]).all()
    assert (f["t2m_c"] - f["d2m_c"])[f["precip_mm"] > 0].mean() < 1.0   # saturated in precipitation


def test_warm_layer_rule_examples():
    # Bourgouin (2000): melting layer aloft + subfreezing surface -> freezing rain; no melting layer -> snow
    t2m = np.array([-2.0, -2.0, 5.0, 0.2, -6.0, -2.0])
    nose = np.array([5.0, -3.0, 5.0, -3.0, 2.0, 5.0])
    rate = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.1])
    assert precipitation_type(t2m, nose, rate).tolist() == [3, 5, 1, 5, 8, 12]
    assert precipitation_type(t2m, nose, np.zeros(6)).tolist() == [0] * 6


def test_freezing_rain_band_over_hubei_hunan_anhui_with_snow_north_and_rain_south(event):
    # CMA, 2024-02: freezing rain and snow over Hubei, Hunan, Anhui, Henan, Jiangxi, strongest 1 - 7 Feb;
    # freezing rain in central Hubei/northern Hunan/southern Anhui, snow north of it, rain in the south.
    ptype = event["ptype"]
    band_y, band_x = _box(28.0, 31.5, 111.0, 118.0)           # Hubei, northern Hunan, southern Anhui
    north_y, north_x = _box(32.5, 35.0, 111.0, 118.0)         # Henan, northern Anhui
    south_y, south_x = _box(22.0, 24.5, 111.0, 117.0)         # Guangdong
    band = ptype[:, band_y][:, :, band_x]
    north = ptype[:, north_y][:, :, north_x]
    south = ptype[:, south_y][:, :, south_x]
    freezing_share_band = np.isin(band, (3, 12)).sum() / max((band > 0).sum(), 1)
    assert freezing_share_band > 0.4
    assert not np.isin(north, (1, 3, 12)).any() and np.isin(north, (5, 6)).any()
    assert not np.isin(south, (3, 5, 6, 7, 8, 12)).any()


def test_freezing_rain_comes_when_described(event):
    # Before the event (the week of 20 January 2024) the band area has no freezing rain; during it, it does.
    before = compute_fields(winter_world(2024, HOLDOUT_YEAR), GRID, _hourly("2024-01-18T00", "2024-01-25T00", 3))
    y, x = _box(28.0, 31.5, 111.0, 118.0)
    during_share = np.isin(event["ptype"][:, y][:, :, x], (3, 12)).mean()
    before_share = np.isin(before["ptype"][:, y][:, :, x], (3, 12)).mean()
    assert during_share > 0.15 and before_share < 0.02


def test_diurnal_cycle_and_clear_nights_colder_at_the_surface(training_winter):
    f = training_winter
    hours = _hourly("2022-12-29T16", "2023-02-12T16", 2)
    utc_hour = hours % 24
    y, x = _box(22.5, 24.0, 112.0, 115.0)   # Guangdong: mostly clear in this window
    t2m = f["t2m_c"][:, y][:, :, x].mean(axis=(1, 2))
    # local solar time ~ UTC + 7.5 h: afternoon (06-08 UTC) warmer than before dawn (20-22 UTC)
    assert t2m[np.isin(utc_hour, (6, 8))].mean() - t2m[np.isin(utc_hour, (20, 22))].mean() > 3.0
    night = np.isin(utc_hour, (18, 20))[:, None, None]
    spread = f["skt_c"] - f["t2m_c"]
    clear_night = night & (f["cloud"] < 0.3)
    overcast_night = night & (f["cloud"] > 0.9)
    # nocturnal radiative cooling makes the ground colder than the air under clear skies (Oke 1987, ch. 2)
    assert spread[clear_night].mean() < -1.0
    assert abs(spread[overcast_night].mean()) < spread[clear_night].mean() * -0.5


def test_cold_air_outbreaks_reach_the_north_harder():
    f = compute_fields(winter_world(2024, HOLDOUT_YEAR), GRID, _hourly("2024-02-02T00", "2024-02-03T00"))
    zhengzhou = f["t2m_c"][:, np.argmin(abs(GRID.lat - 34.75)), np.argmin(abs(GRID.lon - 113.75))].mean()
    guangzhou = f["t2m_c"][:, np.argmin(abs(GRID.lat - 23.0)), np.argmin(abs(GRID.lon - 113.25))].mean()
    assert zhengzhou < -3.0 < 5.0 < guangzhou


def test_forecast_errors_grow_with_lead_time():
    # ECMWF 2 m temperature errors grow from ~1 K on day 1 to ~2 K on day 3-4 (ECMWF, Evaluation of
    # ECMWF forecasts, Tech. Memo. 911, 2023): the demo's forecasts differ from what happens, more so later.
    world = winter_world(2024, HOLDOUT_YEAR)
    issued = hours_of("2024-02-01T00")
    hours = np.arange(issued + 1, issued + 97, dtype=np.int64)
    forecast = compute_fields(world, GRID, hours, issued_h=issued,
                              error=draw_forecast_error(world, substream(2024, f"forecast/{issued}")))
    truth = compute_fields(world, GRID, hours)
    rmse = [float(np.sqrt(((forecast["t2m_c"][a:b] - truth["t2m_c"][a:b]) ** 2).mean()))
            for a, b in ((0, 12), (24, 36), (60, 72))]
    assert rmse[0] < rmse[1] < rmse[2] and rmse[0] < 0.6 and 1.0 < rmse[2] < 3.0
    phase_match = [(forecast["ptype"][a:b] == truth["ptype"][a:b]).mean() for a, b in ((0, 12), (60, 72))]
    assert phase_match[0] > phase_match[1]


def test_every_training_winter_has_an_icing_episode():
    y, x = _box(28.0, 31.5, 111.0, 118.0)
    for year in TRAINING_YEARS:
        festival = spring_festival(year)
        start = np.datetime64(festival) - np.timedelta64(24, "D")
        hours = np.arange(hours_of(start), hours_of(start) + 45 * 24, 3, dtype=np.int64)
        ptype = compute_fields(winter_world(2024, year), GRID, hours)["ptype"][:, y][:, :, x]
        assert np.isin(ptype, (3, 12)).any(axis=(1, 2)).sum() >= 4, year
