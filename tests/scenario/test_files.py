"""The demo world's files: contract formats, determinism, points on the roads, timing (tiny size)."""

from __future__ import annotations

import csv
import hashlib
import json
import time
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import shapely
import xarray as xr

from wxrisk.config import WxriskError
from wxrisk.model.dataset import winter_name, winter_of
from wxrisk.scenario import ScenarioFiles, generate
from wxrisk.scenario.geography import CENTRAL_CHINA
from wxrisk.scenario.history import INCIDENT_COLUMNS
from wxrisk.scenario.roads import build_network, distance_km, segment_pieces, write_roads_geojson

TINY_TRAINING_WINDOWS = ((datetime(2022, 1, 25), datetime(2022, 2, 10)), (datetime(2023, 1, 4), datetime(2023, 1, 30)))


def _hashes(files: ScenarioFiles) -> dict[str, str]:
    paths = [files.roads, files.incidents, files.teams, files.truth, *files.analysis, *(p for p, _ in files.forecasts)]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[ScenarioFiles, float]:
    started = time.perf_counter()
    files = generate(tmp_path_factory.mktemp("tiny"), seed=2024, size="tiny")
    return files, time.perf_counter() - started


def test_same_seed_same_bytes_other_seed_other_bytes(tiny, tmp_path):
    files, _ = tiny
    again = generate(tmp_path / "again", seed=2024, size="tiny")
    other = generate(tmp_path / "other", seed=7, size="tiny")
    assert _hashes(again) == _hashes(files)
    changed = {name for name, digest in _hashes(other).items() if _hashes(files)[name] != digest}
    assert {"roads.geojson", "incidents.csv", "analysis_2022-23.nc", "truth.parquet"} <= changed


def test_tiny_is_fast_and_small(tiny):
    files, seconds = tiny
    assert seconds < 3.0, f"tiny generation took {seconds:.1f} s (issue 4: < 3 s)"
    roads = json.loads(files.roads.read_text(encoding="utf-8"))
    km = 0.0
    for feature in roads["features"]:
        lon, lat = np.array(feature["geometry"]["coordinates"]).T
        km += float(np.sum(distance_km(lon[:-1], lat[:-1], lon[1:], lat[1:])))
    assert 30 <= km <= 60, f"tiny road network is {km:.0f} km (issue 4: ~30-60 one-km segments)"


def test_roads_geojson_carries_the_osm_tags_and_synthetic_flag(tiny):
    files, _ = tiny
    roads = json.loads(files.roads.read_text(encoding="utf-8"))
    assert roads["type"] == "FeatureCollection" and roads["wxrisk:synthetic"] is True
    for feature in roads["features"]:
        props = feature["properties"]
        assert feature["geometry"]["type"] == "LineString"
        assert {"id", "ref", "name", "highway", "lanes", "maxspeed", "admin", "aadt", "ele"} <= props.keys()
        assert props["synthetic"] == "yes" and props["highway"] == "motorway"
        assert props["ref"] == "G4" and props["name"] == "京港澳高速" and props["admin"] == "湖北"
    bridges = [f["properties"]["bridge:name"] for f in roads["features"] if f["properties"].get("bridge") == "yes"]
    assert "军山长江大桥" in bridges   # the G4 crosses the Yangtze at Junshan, south-west of Wuhan


def test_demo_network_has_corridors_bridges_and_mountain_grades(tmp_path):
    features = build_network(2024)
    pieces = segment_pieces(write_roads_geojson(features, tmp_path / "roads.geojson"))
    props = [f["properties"] for f in features]
    assert {c.ref for c in CENTRAL_CHINA.corridors} == {p["ref"] for p in props}
    assert 2000 <= pieces.length_km.sum() <= 3500           # issue 4 budget: ~2,000-3,500 km
    yangtze = {p["bridge:name"] for p in props if "长江大桥" in p.get("bridge:name", "")}
    assert len(yangtze) >= 5
    nanling = [p for p in props if p["ref"] == "G4" and p["admin"] in ("湖南", "广东") and "incline" in p]
    steepest = max(abs(float(p["incline"].rstrip("%"))) for p in nanling)
    assert 3.0 <= steepest <= 5.0   # expressway design grades stay below 5 % (JTG D20-2017, table 8.3.1)
    assert any(p.get("tunnel") == "yes" and p["ref"] == "G42" for p in props)   # Dabie mountains
    provinces = {p["admin"] for p in props}
    assert {"河南", "湖北", "湖南", "广东", "江西", "安徽", "江苏"} == provinces


def test_incidents_are_generic_preset_rows_on_the_road_lines(tiny):
    files, _ = tiny
    with files.incidents.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == INCIDENT_COLUMNS
        rows = list(reader)
    assert len(rows) >= 10
    assert len({r["incident_id"] for r in rows}) == len(rows)
    roads = json.loads(files.roads.read_text(encoding="utf-8"))
    lines = shapely.MultiLineString([f["geometry"]["coordinates"] for f in roads["features"]])
    for row in rows:
        occurred = datetime.fromisoformat(row["occurred_at"])
        assert occurred.utcoffset() == timedelta(hours=8)
        assert row["synthetic"] == "true" and row["road_ref"] == "G4"
        assert row["severity"] in {"fatal", "serious", "slight", "damage_only"}
        assert row["surface"] in {"dry", "wet", "snow", "ice", "frost", "slush", "unknown"}
        point = shapely.Point(float(row["lon"]), float(row["lat"]))
        assert lines.distance(point) * 111_000 < 1.0   # on the line; the importer matches within 100 m
        utc = occurred.replace(tzinfo=None) - timedelta(hours=8)
        assert any(start <= utc < end for start, end in (files.holdout_winter, *TINY_TRAINING_WINDOWS))


def test_tiny_has_incidents_in_every_period_the_trainer_cuts(tiny):
    # The flow tests train on the tiny world: two winters before the holdout, so the trainer's
    # rolling origin (wxrisk.model.folds) trains on the first winter and predicts the second.
    # Each winter needs incidents, with a margin, or training fails.
    files, _ = tiny
    with files.incidents.open(encoding="utf-8", newline="") as fh:
        occurred = [datetime.fromisoformat(r["occurred_at"]).replace(tzinfo=None) - timedelta(hours=8)
                    for r in csv.DictReader(fh)]
    events = pd.Series(sorted(t.replace(minute=0) + timedelta(hours=1) for t in occurred if t < files.train_until))
    winters = winter_of(events)
    assert sorted(set(winters)) == [2022, 2023]
    for winter in (2022, 2023):
        assert (winters == winter).sum() >= 10, winter_name(winter)


def test_weather_files_are_cf_with_units_and_flags(tiny):
    files, _ = tiny
    expected = {"t2m": ("air_temperature", "K"), "d2m": ("dew_point_temperature", "K"),
                "skt": ("surface_temperature", "K"), "tp": ("precipitation_amount", "m"),
                "sf": ("lwe_thickness_of_snowfall_amount", "m"),
                "u10": ("eastward_wind", "m s-1"), "v10": ("northward_wind", "m s-1"),
                "vis": ("visibility_in_air", "m")}
    for path in files.analysis:
        with xr.open_dataset(path) as ds:
            assert ds.attrs["synthetic"] == 1 and ds.attrs["kind"] == "analysis"
            assert ds["t2m"].dims == ("time", "latitude", "longitude")
            for name, (standard_name, units) in expected.items():
                assert (ds[name].attrs["standard_name"], ds[name].attrs["units"]) == (standard_name, units)
            assert set(np.unique(ds["ptype"].values)) <= {0, 1, 3, 5, 6, 7, 8, 12}
            assert np.allclose(np.diff(ds["latitude"].values), 0.25)
            assert float(ds["t2m"].min()) > 230.0 and float(ds["t2m"].max()) < 310.0   # Kelvin
            assert (ds["d2m"].values <= ds["t2m"].values).all()
            assert float(ds["tp"].max()) < 0.05   # metres in an hour
            assert (ds["sf"].values <= ds["tp"].values).all()


def test_forecast_covers_72_hours_from_the_board_start(tiny):
    files, _ = tiny
    assert files.now == datetime(2024, 2, 1, 21)      # 2024-02-02 05:00 Asia/Shanghai
    path, issued = max((f for f in files.forecasts if f[1] <= files.now), key=lambda f: f[1])
    with xr.open_dataset(path) as ds:
        assert ds.attrs["kind"] == "forecast"
        assert datetime.fromisoformat(ds.attrs["issued_at"]).replace(tzinfo=None) == issued
        valid = ds["time"].values
    assert valid.min() <= np.datetime64(files.now) and valid.max() >= np.datetime64(files.now + timedelta(hours=71))
    assert files.train_until <= files.holdout_winter[0]


def test_teams_are_police_bases_at_cities(tiny):
    files, _ = tiny
    with files.teams.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["team_id", "name", "province", "lon", "lat", "cars"]
    assert len(rows) == len(CENTRAL_CHINA.teams)
    wuhan = next(r for r in rows if r["team_id"] == "HB-WH")
    assert abs(float(wuhan["lon"]) - 114.3) < 0.1 and abs(float(wuhan["lat"]) - 30.6) < 0.1  # Wuhan, 114.3 E 30.6 N


def test_unknown_size_is_a_user_error(tmp_path):
    with pytest.raises(WxriskError, match="scenario size"):
        generate(tmp_path, size="huge")
