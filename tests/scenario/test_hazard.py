"""The hazard model: calendar, travel rush, rates, and the documentation that describes them."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from wxrisk.scenario.episodes import history_winters, spring_festival
from wxrisk.scenario.hazard import (
    HAZARD,
    WEATHERS,
    ice_label_probability,
    incident_rates_per_km_h,
    travel_rush_factor,
)
from wxrisk.scenario.history import PieceWeather, hazard_rates
from wxrisk.scenario.roads import build_network, segment_pieces, write_roads_geojson
from wxrisk.scenario.surface import SURFACE, SURFACES, SurfaceState, road_surface

DOCS = Path(__file__).resolve().parents[2] / "docs" / "demo-world.md"


def test_spring_festival_dates_from_the_lunar_calendar():
    # Lunar New Year dates (Hong Kong Observatory, Gregorian-Lunar calendar conversion tables)
    assert spring_festival(2021) == date(2021, 2, 12)
    assert spring_festival(2022) == date(2022, 2, 1)
    assert spring_festival(2023) == date(2023, 1, 22)
    assert spring_festival(2024) == date(2024, 2, 10)


def test_travel_rush_window_and_peaks():
    # The 2024 chunyun ran 26 January - 5 March: 15 days before to 25 days after Spring Festival
    # (Ministry of Transport, 2024 Spring Festival travel notice).
    days = np.arange(-30, 40)
    factor = travel_rush_factor(days)
    inside = (days >= -15) & (days <= 25)
    assert (factor[~inside] == 1.0).all() and (factor[inside] > 0.8).all()
    assert factor[days == 0][0] < 1.0                      # the festival day itself is quiet on the roads
    assert days[np.argmax(np.where(days < 0, factor, 0))] in range(-5, -1)   # outbound peak before the eve
    assert days[np.argmax(np.where(days > 0, factor, 0))] in range(5, 9)     # return peak after the holiday


def _fair(n_hours: int, n_pieces: int) -> PieceWeather:
    ones = np.ones((n_hours, n_pieces), dtype=np.float32)
    return PieceWeather(t2m_c=8 * ones, d2m_c=2 * ones, skt_c=8 * ones, precip_mm=0 * ones, vis_m=20000 * ones,
                        wind_ms=3 * ones, ptype=np.zeros((n_hours, n_pieces), dtype=np.int8))


def test_travel_rush_surges_traffic_and_incidents_in_fair_weather(tmp_path):
    roads = write_roads_geojson(build_network(2024, refs=("G4",), lat_range=(30.18, 30.68)), tmp_path / "roads.geojson")
    pieces = segment_pieces(roads)
    w = next(w for w in history_winters() if w.label == "2023-24")
    hours = np.arange(w.start_h, w.end_h, dtype=np.int64)
    rate = hazard_rates(pieces, _fair(len(hours), len(pieces)), hours, w.festival).expected
    day = (hours - 1 + 8 - (np.datetime64(w.festival, "h") - np.datetime64("2000-01-01T00", "h")).astype(int)) // 24
    rush = rate[(day >= -10) & (day <= -3)].mean()
    before = rate[day < -15].mean()
    assert rush / before > 1.3


def _surface(ptype, precip, road_c, dew_c=None, vis_m=None, sheltered=False):
    """The budget for one segment through a series of hours."""
    column = lambda v: np.asarray(v, dtype=float)[:, None]  # noqa: E731
    n = len(ptype)
    dew = column(dew_c) if dew_c is not None else column(road_c) - 3.0
    return road_surface(np.asarray(ptype)[:, None], column(precip), column(road_c), dew,
                        column(vis_m if vis_m is not None else [20000.0] * n), np.zeros((n, 1)), np.array([sheltered]))


def test_glaze_forms_in_freezing_rain_on_a_frozen_road_and_stays_until_it_melts_or_is_cleared():
    # Freezing rain freezes on contact with a surface at or below 0 °C (AMS Glossary, "freezing rain").
    state = _surface([3, 3, 3, 0, 0, 0, 0, 0], [1.0, 1.0, 1.0, 0, 0, 0, 0, 0], [-2] * 6 + [3, 3])
    surfaces = [SURFACES[c] for c in state.code[:, 0]]
    assert surfaces[:6] == ["ice"] * 6          # memory: still icy three hours after the rain stopped
    assert surfaces[-1] in ("wet", "dry")       # melted on a road above freezing
    warm = _surface([3, 3], [1.0, 1.0], [2.0, 2.0])
    assert [SURFACES[c] for c in warm.code[:, 0]] == ["wet", "wet"]   # no glaze on a warm road


def test_a_wet_road_that_freezes_turns_to_black_ice_and_snow_turns_to_slush_on_a_warm_road():
    black_ice = _surface([1, 1, 0, 0], [1.0, 1.0, 0, 0], [2.0, 1.0, -1.0, -2.0])
    assert [SURFACES[c] for c in black_ice.code[:, 0]] == ["wet", "wet", "ice", "ice"]
    snow = _surface([5, 5, 0, 0], [1.5, 1.5, 0, 0], [-1.0, -1.0, 1.0, 1.0])
    assert [SURFACES[c] for c in snow.code[:, 0]][:3] == ["snow", "snow", "slush"]


def test_frost_forms_when_the_dew_point_is_above_a_frozen_road_and_tunnels_stay_dry():
    frost = _surface([0] * 4, [0] * 4, [-3.0] * 4, dew_c=[-1.0] * 4)
    assert SURFACES[frost.code[-1, 0]] == "frost"
    rime = _surface([0] * 4, [0] * 4, [-3.0] * 4, dew_c=[-6.0] * 4, vis_m=[150.0] * 4)
    assert SURFACES[rime.code[-1, 0]] == "frost"                      # rime in freezing fog
    tunnel = _surface([3, 5, 1], [1.0, 1.0, 1.0], [-2.0, -2.0, 2.0], sheltered=True)
    assert [SURFACES[c] for c in tunnel.code[:, 0]] == ["dry"] * 3


def _rates(surface: str, t2m_c: float = 5.0, weather: int = 0, grade: float = 0.0, bridge: bool = False,
           tunnel: bool = False) -> tuple[float, float]:
    """(traffic part, ice part) [1/(km h)] at reference traffic, by day, for a road in a given state."""
    code = SURFACES.index(surface)
    full = {"ice": (0.0, 1.0, 0.0, 0.0), "snow": (0.0, 0.0, 0.0, 2.0), "slush": (0.0, 0.0, 0.0, 2.0),
            "frost": (0.0, 0.0, 0.1, 0.0), "wet": (1.0, 0.0, 0.0, 0.0), "dry": (0.0, 0.0, 0.0, 0.0)}[surface]
    state = SurfaceState(*(np.full((1, 1), v) for v in full), code=np.full((1, 1), code, dtype=np.int8))
    traffic, ice = incident_rates_per_km_h(np.ones((1, 1)), state, np.full((1, 1), t2m_c), np.full((1, 1), weather),
                                           np.array([grade]), np.array([bridge]), np.array([tunnel]),
                                           np.zeros((1, 1), bool), np.full((1, 1), 20000.0))
    return float(traffic[0, 0]), float(ice[0, 0])


def test_the_traffic_part_does_not_rise_in_frost_while_the_ice_part_rises_steeply():
    # Real records (Leeds STATS19 2019-2023, issue 14): collisions overall do not rise in frost (less traffic,
    # slower driving); ice/snow collisions rise steeply when roads freeze.
    mild = sum(_rates("dry", t2m_c=6.0))
    frosty_dry = sum(_rates("dry", t2m_c=-3.0))
    assert frosty_dry < mild
    traffic_on_ice, ice_on_ice = _rates("ice", t2m_c=-3.0)
    assert traffic_on_ice < _rates("dry", t2m_c=6.0)[0]          # fewer vehicles on ice
    assert ice_on_ice > traffic_on_ice                            # on glaze the ice/snow part makes most incidents
    assert 1e-3 <= traffic_on_ice + ice_on_ice <= 1e-2            # DESIGN.md: a few per thousand km-hours on ice
    per_vehicle = [sum(_rates(s)) / (HAZARD.wintry_traffic_factor if s in ("ice", "snow", "slush") else 1.0)
                   for s in ("ice", "snow", "slush", "wet", "dry")]
    assert per_vehicle == sorted(per_vehicle, reverse=True) and len(set(per_vehicle)) == 5
    assert _rates("dry")[1] == 0.0 and _rates("wet")[1] == 0.0


def test_weather_raises_all_incidents_per_vehicle_km_as_much_as_published_not_tenfold():
    # Per vehicle-km (the drivers' response is fewer and slower vehicles), snow raises the crash rate by 84 %
    # (Qiu & Nixon 2008, Transp. Res. Rec. 2055, 139-146, meta-analysis) and glaze more; rain by 71 %.
    dry = sum(_rates("dry"))
    per_vehicle = {s: sum(_rates(s, t2m_c=-3.0)) / HAZARD.wintry_traffic_factor / dry for s in ("snow", "ice")}
    assert 1.5 <= per_vehicle["snow"] <= 3.0
    assert per_vehicle["snow"] < per_vehicle["ice"] <= 5.0
    assert 1.3 <= sum(_rates("wet")) / dry <= 2.0


def test_the_traffic_rate_is_a_plausible_expressway_rate_per_vehicle_km():
    # docs/demo-world.md, "The base rate": police-recorded incidents of all severities, tens to about a hundred
    # per 100 million vehicle-km on motorways.
    vehicle_km_per_km_h = HAZARD.aadt_ref / 24.0
    per_100m_vehicle_km = 1e8 * HAZARD.traffic_rate_per_km_h / vehicle_km_per_km_h
    assert 30 <= per_100m_vehicle_km <= 150


def test_bridges_and_grades_raise_the_rate_and_tunnels_are_sheltered():
    assert sum(_rates("ice", grade=4.0)) > sum(_rates("ice")) and sum(_rates("ice", bridge=True)) > sum(_rates("ice"))
    assert _rates("ice", tunnel=True)[1] == 0.0
    steep_icy = sum(_rates("ice", grade=4.0)) / sum(_rates("ice"))
    steep_dry = sum(_rates("dry", grade=4.0)) / sum(_rates("dry"))
    assert steep_icy > steep_dry > 1.0


def test_reports_say_ice_or_snow_when_the_surface_or_the_weather_does():
    code = np.array([[SURFACES.index(s) for s in ("dry", "ice", "wet", "frost")]], dtype=np.int8)
    state = SurfaceState(*(np.zeros((1, 4)) for _ in range(4)), code=code)
    weather = np.array([[0, 0, WEATHERS.index("snow"), 0]])
    p = ice_label_probability(state, weather)[0]
    assert p[0] == 0.0 and p[2] == 1.0
    assert p[1] == p[3] == pytest.approx(1.0 - HAZARD.unknown_surface_share)


def test_docs_state_every_hazard_and_surface_constant_with_its_value():
    text = DOCS.read_text(encoding="utf-8")
    for constants in (HAZARD, SURFACE):
        for f in dataclasses.fields(constants):
            value = getattr(constants, f.name)
            rows = [line for line in text.splitlines() if line.startswith(f"| `{f.name}` |")]
            assert len(rows) == 1, f"docs/demo-world.md has no table row for {f.name}"
            if isinstance(value, int | float) and not isinstance(value, bool):
                row = rows[0].split("|")[2]
                numbers = {float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", row.replace(",", ""))}
                assert float(value) in numbers, f"docs/demo-world.md gives another value for {f.name}"
    for day, factor in HAZARD.rush_knots:
        assert factor == 1.0 or f"{day} → {factor:g}" in text, f"rush knot {day} days"
