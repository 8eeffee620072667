"""OSM tag parsing and cutting lines into <= 1 km pieces."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wxrisk.roads.segmentation import cut_line
from wxrisk.roads.tags import (
    is_road,
    parse_elevation_m,
    parse_grade_pct,
    parse_hstore,
    parse_lanes,
    parse_maxspeed_kmh,
)
from wxrisk.vocab import EARTH_RADIUS_KM, haversine_km

KM_PER_DEG = EARTH_RADIUS_KM * math.pi / 180  # one degree of a great circle, 111.195 km


@pytest.mark.parametrize(("text", "kmh"), [
    ("120", 120.0),
    ("80 km/h", 80.0),
    ("30 mph", 48.3),   # 1 mile = 1.609344 km exactly (international yard and pound, 1959)
    ("70 mph", 112.7),
    ("20 knots", 37.0),  # 1 knot = 1.852 km/h exactly
    ("60;80", 60.0),
    ("none", None),
    ("signals", None),
    (None, None),
])
def test_maxspeed_is_read_in_kmh(text, kmh):
    assert parse_maxspeed_kmh(text) == kmh


def test_gdal_other_tags_are_unpacked_with_escapes():
    tags = parse_hstore('"lit"=>"yes","maxspeed"=>"30 mph","name:x"=>"say \\"hi\\"","note"=>NULL')
    assert tags == {"lit": "yes", "maxspeed": "30 mph", "name:x": 'say "hi"'}


@pytest.mark.parametrize(("highway", "road"), [
    ("motorway", True), ("trunk_link", True), ("tertiary", True), ("residential", True),
    ("cycleway", False), ("footway", False), ("path", False), ("steps", False), (None, False),
])
def test_only_motor_roads_are_roads(highway, road):
    assert is_road(highway) is road


def test_grade_elevation_and_lanes():
    assert parse_grade_pct("-8%") == 8.0
    assert parse_grade_pct("up") is None
    assert parse_grade_pct("45°") == pytest.approx(100.0)  # tan 45° = 1
    assert parse_elevation_m("1000 ft") == pytest.approx(304.8)  # 1 ft = 0.3048 m exactly
    assert parse_elevation_m("1520") == 1520.0
    assert parse_lanes("2;3") == 2
    assert parse_lanes("0") is None


def equator_line(length_km: float, n_vertices: int = 7) -> np.ndarray:
    lon = np.linspace(110.0, 110.0 + length_km / KM_PER_DEG, n_vertices)
    return np.column_stack([lon, np.zeros_like(lon)])


def test_a_3_5_km_line_gets_whole_km_stakes_and_a_remainder():
    pieces = cut_line(equator_line(3.5), max_km=1.0)
    assert [(round(p.km_from, 6), round(p.km_to, 6)) for p in pieces] == [
        (0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 3.5)]
    first = pieces[0]
    assert first.lat_mid == pytest.approx(0.0)
    assert first.lon_mid == pytest.approx(110.0 + 0.5 / KM_PER_DEG)
    assert haversine_km(*first.path[0], *first.path[-1]) == pytest.approx(1.0, abs=1e-9)


def test_curvature_of_a_right_angle_bend():
    # 0.5 km east then 0.5 km north: one 90° turn in 1 km
    d = 0.5 / KM_PER_DEG
    coords = np.array([[0.0, 0.0], [d, 0.0], [d, d]])
    (piece,) = cut_line(coords, max_km=1.0)
    assert piece.curvature_deg_per_km == pytest.approx(90.0, rel=1e-3)
    assert cut_line(equator_line(0.8), 1.0)[0].curvature_deg_per_km == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.tuples(st.floats(-0.02, 0.02), st.floats(-0.02, 0.02)), min_size=1, max_size=40),
    max_km=st.sampled_from([0.25, 0.5, 1.0]),
)
def test_pieces_cover_the_line_end_to_end_and_are_never_longer_than_max(steps, max_km):
    coords = np.vstack([[116.4, 39.9], np.array([116.4, 39.9]) + np.cumsum(steps, axis=0)])
    total_km = haversine_km(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1]).sum()
    if total_km == 0:
        return
    pieces = cut_line(coords, max_km)
    assert pieces[0].km_from == 0.0
    assert pieces[-1].km_to == pytest.approx(total_km)
    for before, after in zip(pieces, pieces[1:], strict=False):
        assert before.km_to == after.km_from
        np.testing.assert_allclose(before.path[-1], after.path[0])
    for piece in pieces:
        assert 0 < piece.km_to - piece.km_from <= max_km + 1e-6
        path_km = haversine_km(piece.path[:-1, 0], piece.path[:-1, 1], piece.path[1:, 0], piece.path[1:, 1]).sum()
        # lon/lat interpolated linearly within an edge: ~1e-5 of the length off the great circle
        assert path_km == pytest.approx(piece.km_to - piece.km_from, rel=1e-4)
