"""Real OpenStreetMap bridges on the demo's G3 and G42 in Anhui (ODbL), through the real roads importer."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from wxrisk.config import Settings
from wxrisk.roads.importer import import_roads
from wxrisk.scenario.osm_bridges import ATTRIBUTION, OSM_BRIDGES_FILE, select_bridges, shipped_bridges
from wxrisk.scenario.roads import build_network, write_roads_geojson
from wxrisk.store import connect

FULL_EXPORT = Path(os.environ.get("WXRISK_OSM_BRIDGES",
                                  "/work/shared/data/real/china/anhui_bridges_osm_20240322.geojson"))
SHIPPED = Path(__file__).resolve().parents[2] / "src" / "wxrisk" / "scenario" / "data" / OSM_BRIDGES_FILE


@pytest.fixture(scope="module")
def features() -> list[dict]:
    return build_network(2024, refs=("G3", "G42"))


def test_the_shipped_subset_says_its_licence_and_holds_only_g3_g42_bridges():
    collection = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert collection["license"] == "ODbL-1.0" and "OpenStreetMap contributors" in collection["attribution"]
    refs = {token for f in shipped_bridges() for token in f["properties"]["ref"].split(";")}
    assert {"G3", "G42"} <= refs
    assert all(f["properties"]["@id"].startswith("way/") for f in shipped_bridges())


def test_every_shipped_bridge_is_a_bridge_feature_in_anhui_with_attribution(features):
    ids_on_roads = {}
    for feature in features:
        props = feature["properties"]
        if "osm_id" in props:
            assert props["bridge"] == "yes" and props["admin"] == "安徽" and props["ref"] in ("G3", "G42")
            assert props["attribution"] == ATTRIBUTION
            ids_on_roads.update(dict.fromkeys(props["osm_id"].split(";"), props["ref"]))
    assert set(ids_on_roads) == {f["properties"]["@id"] for f in shipped_bridges()}
    assert sum(ref == "G3" for ref in ids_on_roads.values()) >= 100
    assert sum(ref == "G42" for ref in ids_on_roads.values()) >= 100


def test_osm_bridges_become_bridge_segments_after_a_real_import(features, tmp_path):
    roads = write_roads_geojson(features, tmp_path / "roads.geojson")
    settings = Settings(db_path=tmp_path / "wxrisk.duckdb", data_dir=tmp_path)
    with connect(settings.db_path) as con:
        import_roads(con, settings, roads)
        bridged = con.execute("SELECT count(*), sum(length_km) FROM segments "
                              "WHERE bridge AND province = '安徽' AND road_ref IN ('G3', 'G42')").fetchone()
    osm_features = [f for f in features if "osm_id" in f["properties"]]
    assert bridged[0] >= len(osm_features) >= 80
    assert 15.0 < bridged[1] < 60.0       # about a hundred real bridges of 50 m to 2.8 km


@pytest.mark.skipif(not FULL_EXPORT.is_file(), reason=f"the full OSM export is not at {FULL_EXPORT}")
def test_the_shipped_subset_is_what_the_selection_gives_on_the_full_export():
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert select_bridges(FULL_EXPORT)["features"] == shipped["features"]
