"""The hazard model: calendar, travel rush, rates, and the documentation that describes them."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from wxrisk.scenario.episodes import demo_winters, spring_festival
from wxrisk.scenario.hazard import (
    HAZARD,
    incident_rate_per_km_h,
    surface_state_multiplier,
    travel_rush_factor,
)
from wxrisk.scenario.history import PieceWeather, hazard_rates, lookback_sum
from wxrisk.scenario.roads import build_network, segment_pieces, write_roads_geojson

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
    w = next(w for w in demo_winters() if w.label == "2023-24")
    hours = np.arange(w.start_h, w.end_h, dtype=np.int64)
    rate, _ = hazard_rates(pieces, _fair(len(hours), len(pieces)), hours, w.festival)
    day = (hours - 1 + 8 - (np.datetime64(w.festival, "h") - np.datetime64("2000-01-01T00", "h")).astype(int)) // 24
    rush = rate[(day >= -10) & (day <= -3)].mean()
    before = rate[day < -15].mean()
    assert rush / before > 1.3


def test_rates_are_a_few_per_thousand_in_freezing_rain_and_far_fewer_when_dry():
    # DESIGN.md: incidents are a few per thousand segment-hours (in bad weather); far fewer otherwise.
    def rate(ptype: int, precip: float, road_c: float, dark: bool = False) -> float:
        a = np.array([[ptype]])
        factor, icy = surface_state_multiplier(a, np.array([[precip]]), np.array([[road_c]]),
                                               np.array([[road_c - 2]]), np.array([[0.0]]))
        return float(incident_rate_per_km_h(np.ones((1, 1)), factor, icy, np.array([0.0]), np.array([False]),
                                            np.array([False]), np.array([[dark]]), np.array([[20000.0]]))[0, 0])

    freezing = rate(3, 1.0, -2.0)
    assert 1e-3 <= freezing <= 1e-2
    assert rate(0, 0.0, 8.0) < 1e-4
    assert rate(3, 1.0, 2.0) == pytest.approx(rate(1, 1.0, 2.0))   # glaze needs a road at or below freezing
    assert rate(3, 1.0, -2.0, dark=True) > freezing > rate(5, 1.0, -2.0) > rate(1, 1.0, 5.0) > rate(0, 0.0, 8.0)
    assert rate(3, 3.0, -2.0) > freezing                              # more freezing rain never lowers risk


def test_bridges_grades_and_black_ice_raise_the_rate():
    ones = np.ones((1, 2))
    factor, icy = surface_state_multiplier(np.zeros((1, 2), dtype=int), 0 * ones, -1.0 * ones, -6.0 * ones,
                                           np.array([[0.0, 3.0]]))
    assert factor[0, 1] == HAZARD.black_ice_multiplier and icy[0, 1] and not icy[0, 0]
    base = dict(exposure=np.ones((1, 2)), surface_factor=np.full((1, 2), 10.0), icy=np.ones((1, 2), bool),
                dark=np.zeros((1, 2), bool), vis_m=np.full((1, 2), 20000.0))
    graded = incident_rate_per_km_h(grade_pct=np.array([0.0, 4.0]), is_bridge=np.array([False, False]),
                                    is_tunnel=np.array([False, False]), **base)[0]
    bridged = incident_rate_per_km_h(grade_pct=np.array([0.0, 0.0]), is_bridge=np.array([False, True]),
                                     is_tunnel=np.array([False, False]), **base)[0]
    tunnel = incident_rate_per_km_h(grade_pct=np.array([0.0, 0.0]), is_bridge=np.array([False, False]),
                                    is_tunnel=np.array([False, True]), **base)[0]
    assert graded[1] > graded[0] and bridged[1] > bridged[0] and tunnel[1] < tunnel[0]


def test_lookback_sum_uses_only_earlier_hours():
    values = np.arange(6, dtype=float)[:, None]
    assert lookback_sum(values, 2)[:, 0].tolist() == [0, 0, 1, 3, 5, 7]


def test_docs_state_every_hazard_constant_with_its_value():
    text = DOCS.read_text(encoding="utf-8")
    for f in dataclasses.fields(HAZARD):
        value = getattr(HAZARD, f.name)
        rows = [line for line in text.splitlines() if line.startswith(f"| `{f.name}` |")]
        assert len(rows) == 1, f"docs/demo-world.md has no table row for {f.name}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            row = rows[0].split("|")[2]
            numbers = {float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", row.replace(",", ""))}
            assert float(value) in numbers, f"docs/demo-world.md gives another value for {f.name}"
    for day, factor in HAZARD.rush_knots:
        assert factor == 1.0 or f"{day} → {factor:g}" in text, f"rush knot {day} days"
    for code, multiplier in HAZARD.phase_multiplier.items():
        assert re.search(rf"\|\s*{code}\s*\|[^|\n]*\|\s*{multiplier:g}\s*\|", text), f"ptype {code} multiplier"
