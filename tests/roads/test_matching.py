"""Matching points to the nearest segment within a tolerance, same road number preferred."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from wxrisk.config import Settings
from wxrisk.roads.importer import import_roads
from wxrisk.roads.matching import match_to_segments, normalise_ref
from wxrisk.store import connect

M_PER_DEG = 6371008.8 * math.pi / 180  # IUGG mean radius: 111,195 m per degree of latitude


def feature(fid, ref, coords):
    return {"type": "Feature", "properties": {"id": fid, "highway": "motorway", "ref": ref},
            "geometry": {"type": "LineString", "coordinates": coords}}


@pytest.fixture
def two_roads(tmp_path):
    """G4 along 30°N from 114.00°E to 114.05°E; S7 parallel, 40 m north of it."""
    s7_lat = 30.0 + 40 / M_PER_DEG
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature("g4", "G4", [[114.0, 30.0], [114.05, 30.0]]),
        feature("s7", "S7", [[114.0, s7_lat], [114.05, s7_lat]]),
    ]}), encoding="utf-8")
    con = connect(tmp_path / "x.duckdb")
    import_roads(con, Settings(), path)
    return con


def test_nearest_segment_within_tolerance_and_its_distance(two_roads):
    lat_60m_south = 30.0 - 60 / M_PER_DEG
    lat_far = 30.0 - 500 / M_PER_DEG
    ids, distance_m = match_to_segments(two_roads, [114.0048, 114.0148, 114.02], [lat_60m_south, 30.0, lat_far])
    assert list(ids) == ["g4-0000", "g4-0001", None]
    assert distance_m[0] == pytest.approx(60.0, abs=0.5)
    assert distance_m[1] == pytest.approx(0.0, abs=0.5)
    assert np.isnan(distance_m[2])


def test_same_road_number_wins_over_a_nearer_other_road(two_roads):
    lat_30m_north = 30.0 + 30 / M_PER_DEG  # 30 m from G4, 10 m from S7
    ids, distance_m = match_to_segments(two_roads, [114.01, 114.01, 114.01], [lat_30m_north] * 3,
                                        road_ref=["g 4", None, "X9"])
    assert list(ids) == ["g4-0000", "s7-0000", "s7-0000"]
    assert distance_m == pytest.approx([30.0, 10.0, 10.0], abs=0.5)


def test_east_west_distances_use_the_local_scale_of_longitude(two_roads):
    # 100 m east of G4's end at 30°N is 100 / (111,195 * cos 30°) degrees of longitude
    lon = 114.05 + 100 / (M_PER_DEG * math.cos(math.radians(30.0)))
    ids, distance_m = match_to_segments(two_roads, [lon, lon], [30.0, 30.0], tolerance_m=150.0)
    assert ids[0].startswith("g4-")
    assert distance_m[0] == pytest.approx(100.0, abs=0.5)
    assert match_to_segments(two_roads, [lon], [30.0], tolerance_m=90.0)[0][0] is None


def test_no_segments_or_no_coordinates_means_unmatched(tmp_path, two_roads):
    empty = connect(tmp_path / "empty.duckdb")
    ids, distance_m = match_to_segments(empty, [114.0], [30.0])
    assert ids.tolist() == [None] and np.isnan(distance_m).all()
    ids, _ = match_to_segments(two_roads, [np.nan], [30.0])
    assert ids.tolist() == [None]


def test_road_numbers_are_compared_normalised():
    assert normalise_ref("A61;A64") == {"A61", "A64"}
    assert normalise_ref(" a1 (m) ") == {"A1(M)"}
    assert normalise_ref(None) == frozenset()
