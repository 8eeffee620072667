"""The second scenario world, the Guizhou plateau: unlike the demo in region, terrain, roads and hazard mix."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest

from wxrisk.config import WxriskError
from wxrisk.scenario import generate, guizhou
from wxrisk.scenario.hazard import WEATHERS
from wxrisk.scenario.roads import build_network, segment_pieces, write_roads_geojson
from wxrisk.scenario.surface import SURFACES
from wxrisk.scenario.weather import compute_fields, hours_of, make_grid
from wxrisk.scenario.world import BOARD_NOW_UTC, world_hazards

GRID = make_grid(103.75, 24.5, 109.75, 29.0, 0.25, geography=guizhou.GEOGRAPHY)


def _cell(lon: float, lat: float) -> tuple[int, int]:
    return int(np.argmin(abs(GRID.lat - lat))), int(np.argmin(abs(GRID.lon - lon)))


@pytest.fixture(scope="module")
def ningdong_2024() -> dict[str, np.ndarray]:
    """1-6 February 2024 on the plateau, every 3 hours."""
    hours = np.arange(hours_of("2024-02-01T00"), hours_of("2024-02-06T00"), 3, dtype=np.int64)
    return compute_fields(guizhou.winter_world(2024, 2024), GRID, hours)


def test_guiyang_freezes_in_drizzle_while_valleys_thaw_and_the_west_beyond_the_front_is_dry(ningdong_2024):
    # 凝冻: shallow cold air dammed against the Yunnan plateau (the Kunming quasi-stationary front) under
    # warm air aloft gives freezing drizzle and fog on the plateau (Guiyang ~1,100 m), while low valleys
    # stay above freezing and Yunnan west of the front stays dry (CMA Guizhou climate summaries).
    f = ningdong_2024
    guiyang, yuping, yunnan = _cell(106.71, 26.58), _cell(108.91, 27.24), _cell(103.9, 25.6)
    ptype = f["ptype"][:, guiyang[0], guiyang[1]]
    assert np.isin(ptype, (3, 12)).mean() > 0.4 and (ptype == 12).sum() >= 8
    assert not np.isin(f["ptype"], (5, 6, 7)).any()                 # no snow: the warm layer aloft melts it
    assert f["t2m_c"][:, guiyang[0], guiyang[1]].mean() < 0.5
    assert f["t2m_c"][:, yuping[0], yuping[1]].min() > 0.0            # a valley at ~350 m
    assert (f["precip_mm"][:, yunnan[0], yunnan[1]] == 0).all()
    plateau = GRID.terrain_m >= 1000.0
    assert (f["vis_m"][:, plateau] < 200).mean() > 0.02              # hill fog on the plateau
    assert (f["vis_m"][:, ~plateau] < 200).mean() < (f["vis_m"][:, plateau] < 200).mean()


def test_the_roads_are_plateau_roads_with_grades_tunnels_and_high_bridges(tmp_path):
    features = build_network(2024, geography=guizhou.GEOGRAPHY)
    pieces = segment_pieces(write_roads_geojson(features, tmp_path / "roads.geojson"))
    props = [f["properties"] for f in features]
    assert {p["ref"] for p in props} == {"G60", "G75", "G56"}
    assert 1200 <= pieces.length_km.sum() <= 1700
    assert np.median([p["ele"] for p in props]) > 1000                 # Guiyang ~1,100 m, Bijie ~1,500 m
    assert sum(p.get("tunnel") == "yes" for p in props) >= 30
    assert sum(p.get("bridge") == "yes" for p in props) >= 50
    assert max(abs(float(p["incline"].rstrip("%"))) for p in props if "incline" in p) >= 3.0
    assert any("北盘江大桥" in p.get("bridge:name", "") for p in props)
    assert any("娄山" in p.get("tunnel:name", "") for p in props if p["ref"] == "G75")


@pytest.fixture(scope="module")
def mixes() -> dict[str, dict[str, float]]:
    """Share of each world's expected ice/snow incidents by reported weather and surface (tiny worlds)."""
    out = {}
    for world in ("demo", "guizhou"):
        totals: dict[str, float] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for _w, _pieces, weather, result in world_hazards(Path(tmp), 2024, "tiny", world=world):
                for k, name in enumerate(WEATHERS):
                    totals[name] = totals.get(name, 0.0) + float(result.expected_ice[result.weather == k].sum())
                for k, name in enumerate(SURFACES):
                    totals[f"surface:{name}"] = totals.get(f"surface:{name}", 0.0) + float(
                        result.expected_ice[result.surface.code == k].sum())
                totals["drizzle"] = totals.get("drizzle", 0.0) + float(result.expected_ice[weather.ptype == 12].sum())
                totals["all"] = totals.get("all", 0.0) + float(result.expected_ice.sum())
        out[world] = {k: v / totals["all"] for k, v in totals.items()}
    return out


def test_the_hazard_mix_differs_from_the_demo(mixes):
    demo, plateau = mixes["demo"], mixes["guizhou"]
    assert plateau["drizzle"] > 0.2 and plateau["drizzle"] > 3 * demo["drizzle"]
    assert plateau["snow"] == 0.0 and plateau["surface:snow"] < 0.01
    assert demo["surface:snow"] + demo["snow"] > 0.02


def test_tiny_guizhou_is_deterministic_and_small(tmp_path):
    first = generate(tmp_path / "a", seed=2024, size="tiny", world="guizhou")
    again = generate(tmp_path / "b", seed=2024, size="tiny", world="guizhou")
    for a, b in ((first.roads, again.roads), (first.incidents, again.incidents), (first.truth, again.truth),
                 (first.analysis[-1], again.analysis[-1])):
        assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    roads = json.loads(first.roads.read_text(encoding="utf-8"))
    assert roads["wxrisk:synthetic"] is True and "Guizhou" in roads["name"]
    assert {f["properties"]["ref"] for f in roads["features"]} == {"G75"}
    assert first.now == BOARD_NOW_UTC


def test_an_unknown_world_is_a_user_error(tmp_path):
    with pytest.raises(WxriskError, match="scenario world 'qinling'"):
        generate(tmp_path, size="tiny", world="qinling")
