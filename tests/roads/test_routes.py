"""Routes: features of one road number chained end to end, K-stakes continuous along the chain."""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import pytest

from wxrisk.config import Settings
from wxrisk.roads.importer import import_roads
from wxrisk.roads.routes import FeatureEnds, assign_routes
from wxrisk.store import connect

SETTINGS = Settings()
# length of one degree of latitude along a meridian on the haversine sphere (IUGG mean radius 6371.0088 km)
KM_PER_DEG = 6371.0088 * math.pi / 180
TWENTY_M_DEG = 0.020 / KM_PER_DEG


def meridian(fid: str, lat_from: float, lat_to: float, lon: float = 114.0, **props) -> dict:
    """A road feature drawn along a meridian from `lat_from` to `lat_to` (11 vertices)."""
    coords = [[lon, lat_from + (lat_to - lat_from) * k / 10] for k in range(11)]
    return {"type": "Feature", "id": fid, "properties": {"highway": "motorway", **props},
            "geometry": {"type": "LineString", "coordinates": coords}}


def g4_features() -> list[dict]:
    """Three connected G4 pieces drawn northwards but for the middle one, the third starting 20 m
    off the second's end, in another province; a G4 piece elsewhere and a road with no ref."""
    return [
        meridian("g4-a", 30.000, 30.009, ref="G4", admin="湖北"),
        meridian("g4-b", 30.027, 30.009, ref="G4", admin="湖北"),
        meridian("g4-c", 30.027 + TWENTY_M_DEG, 30.054, ref="G4", admin="湖南"),
        meridian("g4-z", 31.000, 31.0045, lon=115.0, ref="G4", admin="河南"),
        meridian("s1", 30.000, 30.009, lon=113.0),
    ]


def import_features(tmp_path: Path, features: list[dict]):
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    con = connect(tmp_path / "x.duckdb")
    import_roads(con, SETTINGS, path)
    return con


def stakes(con) -> dict[str, tuple]:
    rows = con.execute("SELECT segment_id, route_id, km_from, km_to FROM segments ORDER BY 1").fetchall()
    return {r[0]: r[1:] for r in rows}


def test_connected_pieces_form_one_route_with_continuous_k_stakes(tmp_path):
    by_segment = stakes(import_features(tmp_path, g4_features()))
    len_a, len_b = 0.009 * KM_PER_DEG, 0.018 * KM_PER_DEG  # 1.0008 km, 2.0016 km
    len_c = (0.027 - TWENTY_M_DEG) * KM_PER_DEG  # 2.98 km
    assert by_segment["g4-a-0000"] == ("G4#1", 0.0, pytest.approx(1.0))
    assert by_segment["g4-a-0001"] == ("G4#1", pytest.approx(1.0), pytest.approx(len_a))
    # g4-b is walked against its drawing: its first piece (north end) lies at the far end of it
    assert by_segment["g4-b-0000"] == ("G4#1", pytest.approx(len_a + len_b - 1.0), pytest.approx(len_a + len_b))
    assert by_segment["g4-b-0002"] == ("G4#1", pytest.approx(len_a), pytest.approx(len_a + len_b - 2.0))
    # the 20 m gap before g4-c is within the 50 m tolerance and does not count
    assert by_segment["g4-c-0000"] == ("G4#1", pytest.approx(len_a + len_b), pytest.approx(len_a + len_b + 1.0))
    assert by_segment["g4-c-0002"] == ("G4#1", pytest.approx(len_a + len_b + 2.0), pytest.approx(len_a + len_b + len_c))
    assert by_segment["g4-z-0000"] == ("G4#2", 0.0, pytest.approx(0.0045 * KM_PER_DEG))
    assert by_segment["s1-0000"][:2] == ("s1", 0.0)


def test_route_k_stakes_tile_each_route_from_k0(tmp_path):
    con = import_features(tmp_path, g4_features())
    (gaps, not_from_k0, routes) = con.execute("""
        WITH s AS (SELECT route_id, km_from, km_to,
                          lag(km_to) OVER (PARTITION BY route_id ORDER BY km_from) AS previous_km_to
                   FROM segments)
        SELECT count(*) FILTER (WHERE abs(km_from - previous_km_to) > 1e-6),
               count(*) FILTER (WHERE previous_km_to IS NULL AND km_from <> 0),
               count(DISTINCT route_id)
        FROM s""").fetchone()
    assert (gaps, not_from_k0, routes) == (0, 0, 3)


def test_routes_do_not_depend_on_feature_order(tmp_path):
    features = g4_features()
    shuffled = features[:]
    random.Random(7).shuffle(shuffled)
    assert [f["id"] for f in shuffled] != [f["id"] for f in features]
    assert stakes(import_features(tmp_path / "b", shuffled)) == stakes(import_features(tmp_path / "a", features))


def ends(fid: str, start, end, ref: str | None = "G4", oneway: bool = False, length_km: float = 1.0) -> FeatureEnds:
    return FeatureEnds(fid, ref, oneway, start, end, length_km)


def test_k0_is_where_most_of_the_route_is_drawn_from():
    # "up" (1 km) is drawn northwards, "down" (3 km) southwards from the top: K0 is at the top
    routes = assign_routes([ends("up", (114.0, 30.0), (114.0, 30.01), length_km=1.0),
                            ends("down", (114.0, 30.04), (114.0, 30.01), length_km=3.0)])
    placed = routes.set_index("feature_id")
    assert placed.loc["down", ["offset_km", "reversed"]].tolist() == [0.0, False]
    assert placed.loc["up", ["offset_km", "reversed"]].tolist() == [3.0, True]


def test_a_branch_of_three_pieces_starts_new_routes():
    # three pieces of G4 meet at (114, 30): a junction, not a chain
    routes = assign_routes([ends("a", (113.99, 30.0), (114.0, 30.0)), ends("b", (114.0, 30.0), (114.01, 30.0)),
                            ends("c", (114.0, 30.0), (114.0, 30.01))])
    assert sorted(routes["route_id"]) == ["G4#1", "G4#2", "G4#3"]
    assert routes["offset_km"].tolist() == [0.0, 0.0, 0.0]


def test_a_ring_is_one_route_and_the_walk_ends():
    routes = assign_routes([ends("a", (114.0, 30.0), (114.01, 30.0), length_km=2.0),
                            ends("b", (114.01, 30.0), (114.0, 30.0), length_km=3.0)])
    assert routes.set_index("feature_id")["offset_km"].to_dict() == {"a": 0.0, "b": 2.0}
    assert set(routes["route_id"]) == {"G4#1"}


def test_opposite_one_way_carriageways_are_not_chained():
    # northbound ends where southbound starts (head to head is impossible for a one-way pair)
    routes = assign_routes([ends("north", (114.0, 30.0), (114.0, 30.01), oneway=True),
                            ends("south", (114.0, 30.02), (114.0, 30.01), oneway=True)])
    assert routes["route_id"].nunique() == 2


def test_other_road_numbers_and_roads_without_ref_are_never_chained():
    routes = assign_routes([ends("a", (114.0, 30.0), (114.0, 30.01)), ends("b", (114.0, 30.01), (114.0, 30.02), "G70"),
                            ends("c", (114.0, 30.02), (114.0, 30.03), None)])
    assert routes.set_index("feature_id")["route_id"].to_dict() == {"a": "G4#1", "b": "G70#1", "c": "c"}


def test_a_large_network_chains_in_seconds():
    # 46,000 pieces: 100 roads of 460 pieces of ~1 km, every other piece drawn backwards
    # (184,000, the national benchmark's size, took ~4 s on the shared 2-core machine)
    step = 0.009
    features = []
    for road in range(100):
        lon = 100.0 + road * 0.05
        for k in range(460):
            a, b = (lon, 20.0 + k * step), (lon, 20.0 + (k + 1) * step)
            features.append(ends(f"{road}-{k:03d}", *((a, b) if k % 2 == 0 else (b, a)), ref=f"G{road}"))
    started = time.perf_counter()
    routes = assign_routes(features)
    seconds = time.perf_counter() - started
    assert routes["route_id"].nunique() == 100
    assert routes["offset_km"].max() == 459.0
    assert routes["reversed"].sum() == 100 * 230
    assert seconds < 10, f"46,000 pieces took {seconds:.1f} s"
