"""The roads importer on the real Leeds OSM extract and on small hand-made files."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import osmium
import pytest
from osmium.osm.mutable import Node, Way

from wxrisk.config import Settings, WxriskError
from wxrisk.roads.importer import import_roads
from wxrisk.store import connect

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
LEEDS_ROADS = REAL / "leeds-roads.geojson"
SETTINGS = Settings()


def table(con, sql: str, params=()):
    return con.execute(sql, list(params)).fetchall()


def write_geojson(path: Path, features: list[dict], **members) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", **members, "features": features}), encoding="utf-8")
    return path


def line_feature(fid, coords, **props) -> dict:
    return {"type": "Feature", "properties": {"osm_id": fid, "highway": "motorway", **props},
            "geometry": {"type": "LineString", "coordinates": coords}}


@pytest.fixture(scope="module")
def leeds(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("leeds") / "x.duckdb")
    result = import_roads(con, SETTINGS, LEEDS_ROADS)
    yield con, result
    con.close()


def test_leeds_roads_have_no_cycleways_and_speeds_in_kmh(leeds):
    con, result = leeds
    # NOTICE.md: 1,538 LineStrings; counted from the file: 417 of them are highway=cycleway
    assert result.rows_read == 1538
    assert result.details["excluded"] == {"cycleway": 417}
    assert result.rows_kept == 1538 - 417
    assert table(con, "SELECT count(*) FROM segments WHERE highway = 'cycleway'") == [(0,)]
    speeds = dict(table(con, "SELECT maxspeed_kmh, count(*) FROM segments GROUP BY 1"))
    # the file's speeds are 20/30/40/50/70 mph (5 mph on one way); 1 mph = 1.609344 km/h
    assert {48.3, 64.4, 80.5, 112.7} <= set(speeds)
    assert 30.0 not in speeds and 40.0 not in speeds
    assert max(s for s in speeds if s is not None) == 112.7


def test_leeds_segments_are_at_most_1_km_with_k_stakes(leeds):
    con, _ = leeds
    (max_km, bad_length, features) = table(con, """
        SELECT max(length_km), count(*) FILTER (WHERE abs(km_to - km_from - length_km) > 1e-6),
               count(DISTINCT feature_id)
        FROM segments""")[0]
    assert max_km <= 1.0 + 1e-6
    assert bad_length == 0
    assert features == 1121
    # K-stakes run along each route (chained features of one ref) from K0 with neither gap nor overlap
    (gaps, not_from_k0, features_with_ref, routes_with_ref) = table(con, """
        WITH s AS (SELECT route_id, road_ref, feature_id, km_from,
                          lag(km_to) OVER (PARTITION BY route_id ORDER BY km_from) AS previous_km_to FROM segments)
        SELECT count(*) FILTER (WHERE abs(km_from - previous_km_to) > 1e-6),
               count(*) FILTER (WHERE previous_km_to IS NULL AND km_from <> 0),
               count(DISTINCT feature_id) FILTER (WHERE road_ref IS NOT NULL),
               count(DISTINCT route_id) FILTER (WHERE road_ref IS NOT NULL)
        FROM s""")[0]
    assert (gaps, not_from_k0) == (0, 0)
    assert routes_with_ref < features_with_ref / 2  # OSM splits a road at every junction: chains join them
    # A61 Wakefield Road (osm 3999930) keeps its ref and name, 2 lanes, 40 mph
    row = table(con, "SELECT road_ref, name, lanes, maxspeed_kmh, path_json FROM segments "
                     "WHERE segment_id = '3999930-0000'")[0]
    assert row[:4] == ("A61", "Wakefield Road", 2, 64.4)
    assert json.loads(row[4])[0] == [-1.5068815, 53.7618359]


def test_same_input_same_ids_and_same_file_twice_changes_nothing(leeds, tmp_path):
    con, first = leeds
    ids = table(con, "SELECT segment_id FROM segments ORDER BY 1")
    again = import_roads(con, SETTINGS, LEEDS_ROADS)
    assert again.status == "unchanged"
    assert table(con, "SELECT count(*) FROM import_ledger WHERE kind = 'roads'") == [(1,)]
    other = connect(tmp_path / "other.duckdb")
    import_roads(other, SETTINGS, LEEDS_ROADS)
    assert table(other, "SELECT segment_id FROM segments ORDER BY 1") == ids
    other.close()


def test_a_modified_file_with_the_same_name_replaces_the_old_segments(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    folder_a, folder_b = tmp_path / "a", tmp_path / "b"
    folder_a.mkdir()
    folder_b.mkdir()
    old = write_geojson(folder_a / "net.geojson", [line_feature("1", [[110.0, 30.0], [110.03, 30.0]]),
                                                   line_feature("2", [[111.0, 30.0], [111.001, 30.0]])])
    new = write_geojson(folder_b / "net.geojson", [line_feature("1", [[110.0, 30.0], [110.02, 30.0]])])
    assert import_roads(con, SETTINGS, old).status == "imported"
    assert table(con, "SELECT count(*) FROM segments") == [(4,)]  # 0.03° at 30°N: 2.89 km -> 3 pieces, + 1
    result = import_roads(con, SETTINGS, new)
    assert result.status == "replaced"
    assert table(con, "SELECT segment_id FROM segments ORDER BY 1") == [("1-0000",), ("1-0001",)]


def test_a_truncated_geojson_fails_in_one_line_and_writes_nothing(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    cut = tmp_path / "leeds-roads.geojson"
    cut.write_bytes(LEEDS_ROADS.read_bytes()[:400_000])
    with pytest.raises(WxriskError) as error:
        import_roads(con, SETTINGS, cut)
    message = str(error.value)
    assert "\n" not in message and message.startswith(str(cut)) and "truncated" in message
    assert table(con, "SELECT (SELECT count(*) FROM segments) + (SELECT count(*) FROM import_ledger)") == [(0,)]


@pytest.mark.parametrize(("content", "reason"), [
    ('{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
    ('{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:27700"}}, '
     '"features": []}', "not WGS84"),
])
def test_files_that_are_not_roads_in_wgs84_are_refused(tmp_path, content, reason):
    path = tmp_path / "x.geojson"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(WxriskError, match=reason):
        import_roads(connect(tmp_path / "x.duckdb"), SETTINGS, path)


def test_unreadable_features_are_quarantined_with_number_and_reason(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    path = write_geojson(tmp_path / "bad.geojson", [
        line_feature("1", [[110.0, 30.0], [110.01, 30.0]]),
        line_feature("2", [[110.0, 30.0]]),
        line_feature("3", [[500000.0, 3300000.0], [500100.0, 3300000.0]]),
        {"type": "Feature", "properties": {"highway": "trunk"},
         "geometry": {"type": "Point", "coordinates": [110, 30]}},
        line_feature("1", [[112.0, 30.0], [112.01, 30.0]]),
        line_feature("6", [["a", 30.0], [110.01, 30.0]]),
        {"type": "Feature", "properties": {"waterway": "river"},
         "geometry": {"type": "LineString", "coordinates": [[110, 30], [111, 30]]}},
    ])
    result = import_roads(con, SETTINGS, path)
    assert (result.rows_read, result.rows_kept, result.rows_quarantined) == (7, 1, 5)
    assert result.details["excluded"] == {"waterway": 1}
    reasons = table(con, "SELECT row_number, reason FROM quarantine ORDER BY row_number")
    assert reasons == [
        (2, "line needs at least 2 [lon, lat] positions"),
        (3, "coordinates out of WGS84 lon/lat range (projected CRS?)"),
        (4, "geometry type Point is not a LineString or MultiLineString"),
        (5, "duplicate feature id 1 (first at feature 1)"),
        (6, "coordinates are not numbers"),
    ]


def test_attributes_synthetic_flag_and_multilinestring_k_stakes(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    feature = {"type": "Feature", "id": "G4-north", "properties": {
        "highway": "motorway", "ref": "G4", "admin": "湖北省", "aadt": "52,000", "ele": "120", "incline": "-4%",
        "bridge": "yes", "maxspeed": "120", "lanes": "3", "oneway": "yes"},
        "geometry": {"type": "MultiLineString", "coordinates": [
            [[114.0, 30.0], [114.0, 30.0135]], [[114.0, 30.0135], [114.0, 30.0180]]]}}
    path = write_geojson(tmp_path / "g4.geojson", [feature], **{"wxrisk:synthetic": True})
    import_roads(con, SETTINGS, path)
    rows = con.execute("SELECT segment_id, km_from, km_to, road_ref, province, aadt, elevation_m, grade_pct, "
                       "bridge, maxspeed_kmh, lanes, oneway, synthetic FROM segments ORDER BY 1").fetchall()
    km_per_deg = 6371.0088 * math.pi / 180
    first_part_km = 0.0135 * km_per_deg  # 1.501 km
    assert [r[0] for r in rows] == ["G4-north-0000", "G4-north-0001", "G4-north-0002"]
    assert rows[1][1:3] == pytest.approx((1.0, first_part_km))
    assert rows[2][1:3] == pytest.approx((first_part_km, 0.0180 * km_per_deg))
    assert rows[0][3:] == ("G4", "湖北省", 52000.0, 120.0, 4.0, True, 120.0, 3, True, True)


def osm_extract(path: Path) -> Path:
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id, (lon, lat) in enumerate([(116.30, 39.90), (116.31, 39.90), (116.32, 39.91)], start=1):
            writer.add_node(Node(id=node_id, location=(lon, lat), tags={}))
        writer.add_way(Way(id=100, nodes=[1, 2, 3], tags={"highway": "motorway", "ref": "G1", "maxspeed": "100"}))
        writer.add_way(Way(id=101, nodes=[1, 2], tags={"highway": "cycleway"}))
        writer.add_way(Way(id=102, nodes=[2, 99], tags={"highway": "trunk"}))
    return path


def test_osm_pbf_extracts_are_read(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    result = import_roads(con, SETTINGS, osm_extract(tmp_path / "beijing.osm.pbf"))
    assert (result.rows_read, result.rows_kept, result.rows_quarantined) == (3, 1, 1)
    assert table(con, "SELECT reason FROM quarantine") == [("way references nodes missing from the extract",)]
    assert table(con, "SELECT DISTINCT feature_id, road_ref, maxspeed_kmh FROM segments") == [("100", "G1", 100.0)]
    # 0.01° of longitude at 39.9°N is 0.853 km, then 0.01°/0.01° diagonal: 1.3 km more -> 3 pieces
    assert table(con, "SELECT count(*) FROM segments") == [(3,)]


def test_a_truncated_pbf_fails_in_one_line(tmp_path):
    data = osm_extract(tmp_path / "full.osm.pbf").read_bytes()
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(data[: len(data) // 2])
    con = connect(tmp_path / "x.duckdb")
    with pytest.raises(WxriskError, match="truncated or corrupt"):
        import_roads(con, SETTINGS, cut)
    assert table(con, "SELECT count(*) FROM import_ledger") == [(0,)]


def test_a_second_file_with_the_same_feature_ids_quarantines_them(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    import_roads(con, SETTINGS, write_geojson(tmp_path / "a.geojson", [line_feature("7", [[110, 30], [110.001, 30]])]))
    result = import_roads(con, SETTINGS, write_geojson(
        tmp_path / "b.geojson", [line_feature("7", [[110, 31], [110.001, 31]]),
                                 line_feature("8", [[110, 32], [110.001, 32]])]))
    assert (result.rows_kept, result.rows_quarantined) == (1, 1)
    assert table(con, "SELECT reason FROM quarantine") == [("feature id 7 already imported from roads:a.geojson",)]
    assert table(con, "SELECT segment_id, source FROM segments ORDER BY 1") == [
        ("7-0000", "roads:a.geojson"), ("8-0000", "roads:b.geojson")]


def test_a_demo_sized_network_imports_in_seconds(tmp_path):
    # ~3,000 km of motorway as 300 LineStrings of 10 km with a vertex every ~100 m
    features = []
    for i in range(300):
        lat = 25.0 + i * 0.05
        lons = [100.0 + k * 0.001 for k in range(int(10 / (0.001 * 111.195 * math.cos(math.radians(lat)))) + 1)]
        features.append(line_feature(f"G{i}", [[lon, lat] for lon in lons], ref=f"G{i}"))
    path = write_geojson(tmp_path / "demo.geojson", features)
    con = connect(tmp_path / "x.duckdb")
    started = time.perf_counter()
    result = import_roads(con, SETTINGS, path)
    seconds = time.perf_counter() - started
    assert result.details["km"] == pytest.approx(3000, rel=0.01)
    assert result.details["segments"] == 3000
    assert seconds < 20, f"3,000 km took {seconds:.1f} s"
