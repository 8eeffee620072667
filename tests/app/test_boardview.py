"""The board's non-UI helpers: words, time, map data and layers, verification, status, action log,
and the snapshot queries on a board published with the real `publish_run`."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, shape

from wxrisk.boardview import access, actions, snapshot, status, verify
from wxrisk.boardview.geo import cities, graticule, province_outlines
from wxrisk.boardview.i18n import STRINGS, condition_label, k_stake, ptype_label, t
from wxrisk.boardview.layers import board_deck, segment_rows, view_for
from wxrisk.boardview.status import data_warnings, read_champion, replay_text
from wxrisk.config import WxriskError
from wxrisk.levels import TIER_RANK, TIER_RGBA, WARNING_RGBA
from wxrisk.store import connect
from wxrisk.store.publish import current_board_path_or_none, open_board


def test_every_string_has_both_languages():
    assert all(set(words) == {"zh", "en"} and all(words.values()) for words in STRINGS.values())
    assert t("page_board", "zh") == "风险一张图" and t("page_board", "en") == "Board"


@pytest.mark.parametrize(("km", "stake"), [(1492.3, "K1492+300"), (0.0, "K0+000"), (12.0456, "K12+046")])
def test_k_stake_notation(km, stake):
    assert k_stake(km) == stake


def test_ptype_words_follow_ecmwf_codes():
    # ECMWF precipitation type table (param 260015): 3 freezing rain, 5 snow, 12 freezing drizzle
    assert ptype_label(3) == "冻雨" and ptype_label(5, "en") == "snow" and ptype_label(12, "en") == "freezing drizzle"
    assert ptype_label(None) == ""


def test_condition_words_cover_the_board_conditions():
    assert condition_label("freezing_rain") == "冻雨" and condition_label("cross_province", "en") == "provincial border"
    assert condition_label("unheard_of") == "unheard_of"


@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2026, 2, 10, 12), 0),            # before the window: first hour
    (datetime(2026, 2, 11, 1, 59), 9),         # inside: the hour containing now
    (datetime(2026, 2, 20), 71),               # after, no fallback: last hour
])
def test_default_hour_is_clamped_to_the_window(now, expected):
    assert snapshot.default_hour_index(datetime(2026, 2, 10, 16), 72, now) == expected


def test_default_hour_after_the_window_uses_the_given_fallback():
    assert snapshot.default_hour_index(datetime(2026, 2, 10, 16), 72, datetime(2026, 3, 1), 30) == 30


def test_to_local_shows_beijing_time():
    # Asia/Shanghai is UTC+8 all year (no daylight saving since 1991)
    assert snapshot.to_local(datetime(2026, 2, 10, 16), "Asia/Shanghai") == datetime(2026, 2, 11, 0)
    series = snapshot.to_local(pd.Series([datetime(2026, 2, 10, 23, 30)]), "Asia/Shanghai")
    assert series.iloc[0] == pd.Timestamp("2026-02-11 07:30")


def test_province_outlines_put_wuhan_in_hubei_and_changsha_in_hunan():
    by_name = {f["properties"]["name_zh"]: shape(f["geometry"]) for f in province_outlines()["features"]}
    towns = {c["name_zh"]: Point(c["lon"], c["lat"]) for c in cities()}
    assert by_name["湖北"].contains(towns["武汉"]) and by_name["湖南"].contains(towns["长沙"])
    assert not by_name["湖北"].contains(towns["长沙"])
    assert all(105 <= c["lon"] <= 125 and 20 <= c["lat"] <= 40 for c in cities())


def test_graticule_lines_every_five_degrees():
    lines = graticule(105, 20, 125, 40)
    assert sorted(line["label"] for line in lines if line["label"].endswith("E")) == [
        "105°E", "110°E", "115°E", "120°E", "125°E"]


def _segments() -> pd.DataFrame:
    return pd.DataFrame({"path": [[[113.9, 29.8], [113.89, 29.79]]] * 2, "road_ref": ["G4", "G4"],
                         "km_from": [1499.0, 1500.0], "km_to": [1500.0, 1501.0], "tier": ["red", None],
                         "risk": [0.09, None],
                         "top_drivers": ["冻雨", None], "top_drivers_en": ["freezing rain", None],
                         "lon": [113.9, 113.89], "lat": [29.8, 29.79]})


def test_deck_draws_no_internet_tiles_by_default():
    deck = json.loads(board_deck(_segments(), pd.DataFrame(), "zh").to_json())
    # Streamlit's frontend adds CARTO tiles unless mapStyle is pydeck's sentinel (map_provider=None)
    assert deck["mapStyle"] == "__MAP_STYLE__" and deck.get("mapProvider") is None
    layers = {layer["id"]: layer for layer in deck["layers"]}
    assert {"provinces", "city-names", "segments"} <= set(layers)
    assert layers["segments"]["widthUnits"] == "pixels"  # a literal, not a JavaScript expression
    segment_colors = [row["color"] for row in layers["segments"]["data"]]
    assert TIER_RGBA["red"] in segment_colors
    assert "warnings" not in layers  # no warning in force: no halo


def test_the_map_draws_runs_of_one_tier_not_every_segment():
    km = [0.0, 1.0, 2.0, 3.0, 5.0]  # a gap between K4 and K5
    segments = pd.DataFrame({"chain": "G4#1", "road_ref": "G4", "km_from": km, "km_to": [k + 1 for k in km],
                             "path": [[[113.0 + k / 100, 30.0], [113.0 + (k + 1) / 100, 30.0]] for k in km],
                             "tier": ["red", "red", "red", "none", "red"], "risk": [0.02, 0.05, 0.03, 0.001, 0.02],
                             "top_drivers": ["甲", "乙", "丙", None, "丁"], "top_drivers_en": "x"})
    rows = segment_rows(segments, "zh").sort_values("title")
    assert rows["title"].tolist() == ["G4 K0+000–K3+000", "G4 K3+000–K4+000", "G4 K5+000–K6+000"]
    first = rows.iloc[0]
    assert first["path"] == [[113.0, 30.0], [113.01, 30.0], [113.02, 30.0], [113.03, 30.0]]  # joined, no repeats
    assert first["drivers"] == "乙" and first["detail"] == "红色 · 5.00%"  # the riskiest segment speaks for the run


def test_the_warnings_are_a_halo_under_the_tiers_and_can_be_hidden():
    segments = _segments().assign(icing_warning=["none", "orange"], visibility_warning=["red", "none"])
    layers = json.loads(board_deck(segments, pd.DataFrame(), "zh").to_json())["layers"]
    ids = [layer["id"] for layer in layers]
    assert ids.index("warnings") < ids.index("segments")  # drawn first, so under the road's tier colour
    halo = {row["title"]: row for row in layers[ids.index("warnings")]["data"]}
    first, second = halo["G4 K1499+000–K1500+000"], halo["G4 K1500+000–K1501+000"]
    assert first["color"] == WARNING_RGBA["red"] and "能见度管控" in first["detail"]
    assert second["detail"] == "道路结冰橙色预警"  # a warning where the tier is none: still shown
    hidden = json.loads(board_deck(segments, pd.DataFrame(), "zh", warnings=False).to_json())["layers"]
    assert "warnings" not in [layer["id"] for layer in hidden]


def test_deck_with_online_tiles_names_a_base_map():
    deck = json.loads(board_deck(_segments(), pd.DataFrame(), "en", online_tiles=True).to_json())
    assert "carto" in deck["mapStyle"]


def test_view_fits_a_40_km_road_with_regional_context():
    view = view_for(pd.Series([113.72, 114.02]), pd.Series([29.60, 29.93]))
    assert 113.8 < view.longitude < 113.95 and 6.5 < view.zoom < 8.5


def test_recall_at_k_counts_incidents_on_the_days_top_segments():
    risk = pd.DataFrame({
        "segment_id": ["a", "b", "c", "a", "b", "c"],
        # hours labelled by their end: 16:00-17:00 UTC, i.e. the first hour of local 02-11, then of 02-12
        "valid_time": pd.to_datetime(["2026-02-10 17:00"] * 3 + ["2026-02-11 17:00"] * 3),
        "risk": [0.9, 0.5, 0.1, 0.1, 0.2, 0.8],
    })
    incidents = pd.DataFrame({"segment_id": ["a", "c", "a"],
                              "occurred_at": pd.to_datetime(["2026-02-10 17:00", "2026-02-10 18:00",
                                                             "2026-02-11 17:00"])})
    table = verify.recall_at_k_by_day(risk, incidents, k=1, tz="Asia/Shanghai")
    assert list(table["incidents"]) == [2, 1] and list(table["hits"]) == [1, 0]
    assert list(table["recall"]) == [0.5, 0.0]


def test_reliability_bins_compare_forecast_and_observed():
    risk = pd.DataFrame({"segment_id": list("abcd"), "valid_time": pd.to_datetime(["2026-02-11 00:00"] * 4),
                         "risk": [0.01, 0.02, 0.6, 0.8]})
    # the row of 00:00 is the hour ending then (as the model's label): 23:30 counts, 00:30 does not
    incidents = pd.DataFrame({"segment_id": ["d", "c"], "occurred_at": pd.to_datetime(["2026-02-10 23:30",
                                                                                        "2026-02-11 00:30"])})
    table = verify.reliability(risk, incidents, n_bins=2)
    assert list(table["n"]) == [2, 2]
    assert list(table["observed_f"]) == [0.0, 0.5]
    assert table["forecast_p"].iloc[1] == pytest.approx(0.7)


def test_reliability_of_ice_risk_counts_ice_snow_incidents_only():
    risk = pd.DataFrame({"segment_id": list("abcd"), "valid_time": pd.to_datetime(["2026-02-11 00:00"] * 4),
                         "risk": [0.9, 0.9, 0.9, 0.9], "ice_risk": [0.01, 0.02, 0.6, None]})
    incidents = pd.DataFrame({"segment_id": ["c", "a"], "occurred_at": pd.to_datetime(["2026-02-10 23:30"] * 2),
                              "surface": ["ice", "dry"], "weather": [None, "clear"]})
    table = verify.reliability(risk, incidents, n_bins=3, ice=True)
    assert list(table["n"]) == [1, 1, 1] and list(table["observed_f"]) == [0.0, 0.0, 1.0]  # d has no ice_risk
    assert verify.reliability(risk.assign(ice_risk=None), incidents, ice=True).empty


def test_ice_snow_incidents_by_surface_or_weather():
    incidents = pd.DataFrame({"surface": ["ice", "wet", None, "slush", "dry"],
                              "weather": ["clear", "freezing_rain", "snow", None, "rain"]})
    assert verify.ice_snow(incidents).tolist() == [True, True, True, True, False]


def test_rates_by_level_show_whether_red_ranks_first():
    levels = ["none"] * 80 + ["blue"] * 10 + ["red"] * 10
    hit = [False] * 78 + [True] * 2 + [False] * 9 + [True] + [False] * 6 + [True] * 4
    table = verify.rates_by_level(levels, hit, ("none", "blue", "yellow", "orange", "red")).set_index("level")
    assert table.loc["red", "rate"] == pytest.approx(0.4) and table.loc["red", "lift"] == pytest.approx(0.4 / 0.07)
    assert table.loc["none", "incident_hours"] == 2 and table.loc["red", "share_of_incidents"] == pytest.approx(4 / 7)
    assert table.loc["yellow", "segment_hours"] == 0 and pd.isna(table.loc["yellow", "rate"])
    text = verify.rates_text(table.reset_index(), "per tier")
    assert text.splitlines()[0] == "per tier" and "5.71" in text


def _run(**changes) -> snapshot.RunInfo:
    base = dict(run_id="r", start_time=datetime(2026, 2, 10, 16), hours=72, weather_kind="forecast",
                weather_issued_at=datetime(2026, 2, 10, 12), model_version="v1", missing_inputs=[],
                synthetic=False, message=None, published_at=None)
    return snapshot.RunInfo(**{**base, **changes})


def test_data_warnings_for_stale_weather_and_missing_inputs():
    assert data_warnings(_run(), datetime(2026, 2, 10, 20)) == []
    stale = data_warnings(_run(), datetime(2026, 2, 11, 2), "en")
    assert stale == ["Weather is stale: issued 14 h ago (more than 12 h)."]
    assert "vis_m" in data_warnings(_run(missing_inputs=["vis_m"]), datetime(2026, 2, 10, 20))[0]
    assert data_warnings(_run(weather_issued_at=None), datetime(2026, 2, 10, 20), "en")[0].startswith("No weather")
    hindcast = data_warnings(_run(weather_kind="analysis", weather_issued_at=None), datetime(2026, 2, 10, 20), "en")
    assert hindcast[0].startswith("Hindcast")


def test_a_replay_is_judged_at_its_start_and_a_real_run_by_the_wall_clock():
    # issued 2026-02-10 12:00 UTC, run start 16:00 UTC: 4 h old at the start, 24 h old at 2026-02-11 12:00
    late = datetime(2026, 2, 11, 12)
    assert data_warnings(_run(synthetic=True), late) == []
    assert data_warnings(_run(synthetic=False), late, "en") == ["Weather is stale: issued 24 h ago (more than 12 h)."]
    old_forecast = _run(synthetic=True, weather_issued_at=datetime(2026, 2, 9, 19))
    assert data_warnings(old_forecast, late, "en") == [
        "Weather was stale at the run start: issued 21 h before it (more than 12 h)."]


def test_missing_model_inputs_are_named_in_words():
    # the feature words published with the board: grade_pct is 纵坡 / grade
    labels = {"grade_pct": ("纵坡", "grade")}
    run = _run(missing_inputs=["feature:grade_pct", "vis_m"], feature_labels=labels)
    warning = data_warnings(run, datetime(2026, 2, 10, 20), "en")
    assert warning == ["Inputs missing, their factors were left out: grade (grade_pct), vis_m"]
    assert "纵坡 (grade_pct)" in data_warnings(_run(missing_inputs=["feature:grade_pct"], feature_labels=labels),
                                              datetime(2026, 2, 10, 20))[0]
    assert "feature:grade_pct" in data_warnings(_run(missing_inputs=["feature:grade_pct"]), datetime(2026, 2, 10, 20))[0]


def test_replay_text_names_the_run_start_in_local_time():
    # 2026-02-10 16:00 UTC is 2026-02-11 00:00 in Asia/Shanghai (UTC+8)
    assert replay_text(_run(), "Asia/Shanghai").startswith("回放：2026年2月11日00:00 的看板")
    assert replay_text(_run(), "Asia/Shanghai", "en").startswith("Replay of the board of 2026-02-11 00:00")


def test_password_hash_from_the_environment_and_its_check():
    # sha256("abc") from FIPS 180-2, appendix B.1
    abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert access.expected_sha256({}) is None and access.expected_sha256({access.PASSWORD_ENV: " "}) is None
    assert access.expected_sha256({access.PASSWORD_ENV: abc.upper() + "\n"}) == abc
    assert access.password_matches("abc", abc) and not access.password_matches("abd", abc)
    with pytest.raises(WxriskError, match="WXRISK_BOARD_PASSWORD_SHA256: not a SHA-256"):
        access.expected_sha256({access.PASSWORD_ENV: "abc"})


def _route_db(tmp_path):
    """G4 as two routes with the same K-stakes (K0-K20 each way) and a stretch on the second, K8-K12."""
    con = connect(tmp_path / "routes.duckdb")
    for route, lat in (("G4#1", 30.0), ("G4#2", 30.1)):
        for km in range(20):
            con.execute(
                "INSERT INTO segments (segment_id, source, feature_id, route_id, road_ref, km_from, km_to, length_km, "
                "lon, lat, path_json) VALUES (?, 'roads:test', ?, ?, 'G4', ?, ?, 1.0, 114.0, ?, '[]')",
                [f"{route}-{km}", f"w{km // 10}", route, km, km + 1, lat])
    members = [f"G4#2-{km}" for km in range(8, 12)]
    con.execute("INSERT INTO stretches (run_id, stretch_id, road_ref, km_from, km_to, segment_ids) "
                "VALUES ('r', 'S', 'G4', 8, 12, ?)", [json.dumps(members)])
    return con, members


def test_stretch_segments_follow_the_stretch_route_not_the_road_number(tmp_path):
    con, members = _route_db(tmp_path)
    around = snapshot.stretch_segments(con, "S", margin_km=2.0)
    assert set(around.loc[around["in_stretch"], "segment_id"]) == set(members)
    assert list(around["segment_id"]) == [f"G4#2-{km}" for km in range(6, 14)], "K6-K14 of route G4#2 only"
    assert snapshot.stretch_segments(con, "no such stretch").empty
    con.close()


def test_champion_card_is_read_defensively(tmp_path):
    assert read_champion(tmp_path) is None
    (tmp_path / "CHAMPION").write_text(json.dumps({"version": "v7"}), encoding="utf-8")
    assert read_champion(tmp_path) is None  # pointer to a folder not written yet
    (tmp_path / "v7").mkdir()
    (tmp_path / "v7" / "meta.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "v7" / "card.md").write_text("# v7", encoding="utf-8")
    card = read_champion(tmp_path)
    assert card.version == "v7" and card.meta == {} and card.card_md == "# v7"
    (tmp_path / "v7" / "meta.json").write_text(json.dumps({"metrics": {"model": {"pr_auc": 0.2, "name": "x"},
                                                                       "brier": 0.003}}), encoding="utf-8")
    assert read_champion(tmp_path).metrics == {"model.pr_auc": 0.2, "brier": 0.003}


def test_action_log_round_trip_and_validation(tmp_path):
    db = tmp_path / "actions.duckdb"
    assert actions.list_actions(db).empty and not db.exists()
    record = actions.ActionRecord(stretch_id="S-G4-1", measure="警车带道", officer="王警官",
                                  taken_at=datetime(2026, 2, 11, 2, 30), run_id="r", road_ref="G4",
                                  km_from=1493.0, km_to=1507.0, note="两车")
    action_id = actions.record_action(db, record)
    actions.record_action(db, actions.ActionRecord(stretch_id="S-G56-1", measure="限速", officer="李",
                                                   taken_at=datetime(2026, 2, 11, 1)))
    found = actions.list_actions(db, ["S-G4-1"])
    assert list(found["action_id"]) == [action_id] and found.iloc[0]["officer"] == "王警官"
    assert len(actions.list_actions(db)) == 2
    with pytest.raises(WxriskError, match="officer is empty"):
        actions.record_action(db, actions.ActionRecord(stretch_id="S", measure="m", officer="  ",
                                                       taken_at=datetime(2026, 2, 11)))


@pytest.fixture
def board(published_root):
    con = open_board(current_board_path_or_none(published_root / "boards"))
    yield con
    con.close()


def test_snapshot_run_and_stretches(board):
    run = snapshot.run_info(board)
    assert run.run_id == "run-20260210T16" and run.synthetic and run.missing_inputs == ["vis_m"]
    assert run.published_at is not None and len(run.valid_hours()) == 72
    stretches = snapshot.stretches(board)
    top = stretches.iloc[0]
    assert (top["road_ref"], k_stake(top["km_from"]), top["tier"]) == ("G4", "K1493+000", "red")
    assert top["priority"] == 1 and top["icing_warning"] == "red"  # the priority list, first entry
    assert top["measure_zh"] == "撒布融雪剂" and top["team_name"] == "咸宁高速交警大队"  # the measure to start first
    assert stretches.iloc[1]["dispatch_status"] == "uncovered"
    assert list(snapshot.filter_stretches(stretches, ["湖南"], ["G56"])["stretch_id"]) == ["S-G56-1"]


def test_snapshot_busiest_hour_is_the_storm_peak(board):
    """The hour with the most tiered segments, weighted by tier: the G4 storm (peak risk at run hour 30)
    while the G56 one (hour 40) builds up."""
    start = datetime(2026, 2, 10, 16)
    busiest = snapshot.busiest_hour_index(board, start)
    rows = board.execute("SELECT valid_time, tier FROM risk").df()
    weight = rows["tier"].map(TIER_RANK).groupby(rows["valid_time"]).sum()
    assert 28 <= busiest <= 34 and weight[pd.Timestamp(start) + pd.Timedelta(hours=busiest)] == weight.max()


def test_snapshot_stretch_detail_queries(board):
    around = snapshot.stretch_segments(board, "S-G4-1")
    assert around["in_stretch"].sum() == 14 and around["km_from"].min() == 1488
    strip = snapshot.risk_strip(board, list(around["segment_id"]))
    assert len(strip) == len(around) * 72
    weather = snapshot.weather_timeline(board, list(around.loc[around["in_stretch"], "segment_id"]))
    assert set(weather["kind"]) == {"analysis", "forecast"} and weather["t2m_c"].min() < 0
    assert not snapshot.drivers(board, list(around["segment_id"])).empty
    assert list(snapshot.measures(board, "S-G4-1")["priority"]) == [1, 2, 3]


def test_snapshot_freshness_tables(board):
    assert set(snapshot.import_freshness(board)["kind"]) == {"roads", "weather", "incidents"}
    assert snapshot.quarantine_counts(board)["rows"].sum() == 2
    assert snapshot.teams(board).set_index("team_id").at["T-XN", "cars_assigned"] == 2


def test_tier_report_of_a_published_board(board):
    report = verify.tier_report(board)
    lines = report.splitlines()
    # 50 segments x the 43 hours up to the last incident known (I4, in the hour ending at +42 h)
    assert lines[0].startswith("2,150 segment-hours, 4 with an incident (2 with an ice/snow one)")
    red = next(line for line in lines if line.startswith("red ")).split()
    none = next(line for line in lines if line.startswith("none ")).split()
    assert float(red[-1]) > 10 and float(none[-1]) == 0.0  # the storm's incidents fell on red hours
    ice = report[report.index("per risk tier, ice/snow incidents"):].splitlines()
    assert next(line for line in ice if line.startswith("red ")).split()[2] == "2"  # I1 and I2, on ice
    assert "per icing warning level" in report and "per visibility warning level" in report


def test_the_osm_attribution_goes_with_a_board_showing_the_demo_bridges(board):
    assert not snapshot.shows_osm_bridges(board)  # 湖北 and 湖南, no OpenStreetMap bridge
    con = duckdb.connect()
    con.execute("CREATE TABLE runs AS SELECT TRUE AS synthetic")
    con.execute("CREATE TABLE segments AS SELECT '安徽' AS province, TRUE AS bridge")
    assert snapshot.shows_osm_bridges(con)
    con.execute("UPDATE runs SET synthetic = FALSE")
    assert not snapshot.shows_osm_bridges(con)  # a real board's roads carry their own licence
    assert "OpenStreetMap" in status.osm_attribution()


def _leeds_segments() -> pd.DataFrame:
    """The real Leeds roads (OpenStreetMap, tests/data/real) as map rows, every one red."""
    from pathlib import Path

    roads = json.loads((Path(__file__).parents[1] / "data/real/leeds-roads.geojson").read_text())
    paths = [f["geometry"]["coordinates"] for f in roads["features"] if f["geometry"]["type"] == "LineString"]
    return pd.DataFrame({
        "path": paths, "lon": [p[len(p) // 2][0] for p in paths], "lat": [p[len(p) // 2][1] for p in paths],
        "chain": range(len(paths)), "road_ref": "A", "km_from": 0.0, "km_to": 1.0, "tier": "red",
    })


def test_a_small_real_region_outside_china_fills_the_map():
    """Leeds (~10 km across): the map zooms to the network instead of one dot at regional scale."""
    from io import BytesIO

    from PIL import Image

    from wxrisk.boardview.staticmap import render_png

    segments = _leeds_segments()
    view = view_for(segments["lon"], segments["lat"])
    assert view.zoom >= 11 and -1.7 < view.longitude < -1.4 and 53.7 < view.latitude < 53.9
    pixels = np.asarray(Image.open(BytesIO(render_png(segments, pd.DataFrame(), "en"))).convert("RGB")).astype(int)
    red = (pixels[..., 0] > 180) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
    rows, cols = np.flatnonzero(red.any(axis=1)), np.flatnonzero(red.any(axis=0))
    assert rows.size, "the network is drawn"
    assert max((rows[-1] - rows[0]) / red.shape[0], (cols[-1] - cols[0]) / red.shape[1]) > 0.6, "it fills the map"
    assert tuple(pixels[2, 2]) != (232, 238, 244), "no sea drawn where the province outlines do not reach"


def test_rates_by_level_of_expected_incidents_weigh_each_hour():
    """Against a world's known hazard: expected incidents (floats) summed per level."""
    table = verify.rates_by_level(["none", "none", "red"], [0.001, 0.003, 0.02], ("none", "red")).set_index("level")
    assert table.loc["red", "incident_hours"] == pytest.approx(0.02)
    assert table.loc["red", "lift"] == pytest.approx(0.02 / (0.024 / 3))
    assert "0.0" in verify.rates_text(table.reset_index(), "expected")


def test_truth_report_ranks_the_tiers_by_the_known_hazard(board, tmp_path):
    """A world's truth.parquet: the hazard put on the red segment-hours shows as their lift."""
    risk, _ = verify.board_rows(board)
    red = (risk["tier"] == "red").to_numpy()
    truth = risk[["segment_id", "valid_time"]].assign(expected_incidents=np.where(red, 0.05, 0.001),
                                                      expected_ice_incidents=np.where(red, 0.04, 0.0))
    truth.to_parquet(tmp_path / "truth.parquet")
    report = verify.truth_report(board, tmp_path / "truth.parquet")
    ice = report[report.index("per risk tier, expected ice/snow incidents"):].splitlines()
    red_line = next(line for line in ice if line.startswith("red ")).split()
    assert float(red_line[-1]) == pytest.approx(len(risk) / red.sum(), rel=0.01)  # all of it on red
    assert "per icing warning level" in report
