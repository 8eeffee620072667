"""build_features on a real DuckDB file: rows, columns, accumulations, missing inputs, forecasts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from wxrisk.config import Settings, WxriskError
from wxrisk.features import (
    FEATURE_NAMES,
    FEATURE_SPECS,
    SPECS_BY_NAME,
    build_features,
    exposure,
    iter_features,
)
from wxrisk.features.bench import feature_throughput
from wxrisk.features.build import LOOKBACK_HOURS
from wxrisk.store import connect

START = dt.datetime(2024, 2, 5)  # UTC, inside the 2024 travel rush
SETTINGS = Settings()  # Beijing time
WEATHER_COLUMNS = ("t2m_c", "d2m_c", "skt_c", "precip_mm", "snowfall_mm", "ptype", "wind_ms", "vis_m")


def add_segment(con, segment_id, road_ref="G4", bridge=False, elevation_m=100.0, lat=39.9, lon=116.4, aadt=None):
    con.execute("""INSERT INTO segments (segment_id, source, road_ref, highway, km_from, km_to, length_km, lon, lat,
                   path_json, bridge, elevation_m, grade_pct, lanes, maxspeed_kmh, aadt)
                   VALUES (?, 'test', ?, 'motorway', 0, 1, 1, ?, ?, '[]', ?, ?, 2.0, 3, 120, ?)""",
                [segment_id, road_ref, lon, lat, bridge, elevation_m, aadt])


def add_weather(con, segment_id, first, hours, kind="analysis", issued_at=None, skip=(), **values):
    """One row per hour from `first` (except hour indices in `skip`); values are constants or
    callables of the hour index."""
    cols = [c for c in WEATHER_COLUMNS if c in values]
    hours_kept = [i for i in range(hours) if i not in skip]
    rows = pd.DataFrame({"segment_id": segment_id, "valid_time": [first + dt.timedelta(hours=i) for i in hours_kept],
                         "kind": kind, "issued_at": issued_at})
    for c in cols:
        rows[c] = [values[c](i) if callable(values[c]) else values[c] for i in hours_kept]
    con.register("new_weather_rows", rows)
    con.execute(f"""INSERT INTO weather_hourly (segment_id, valid_time, kind, issued_at, {", ".join(cols)}, source)
                    SELECT segment_id, valid_time, kind, issued_at, {", ".join(cols)}, 'test' FROM new_weather_rows""")
    con.unregister("new_weather_rows")


def add_incident(con, incident_id, segment_id, occurred_at):
    con.execute("INSERT INTO incidents (incident_id, occurred_at, segment_id, source) VALUES (?, ?, ?, 'test')",
                [incident_id, occurred_at, segment_id])


@pytest.fixture
def con(tmp_path):
    """A real DuckDB file with the wxrisk schema."""
    connection = connect(tmp_path / "t.duckdb")
    yield connection
    connection.close()


H = dt.timedelta(hours=1)
READ_START = START - LOOKBACK_HOURS * H


def _full_weather(con, segment_id, ptype, t2m_c=-1.0):
    add_weather(con, segment_id, READ_START, LOOKBACK_HOURS + 24, t2m_c=t2m_c, d2m_c=t2m_c - 0.5,
                precip_mm=1.0, ptype=ptype, wind_ms=4.0, vis_m=800.0)


def test_rows_columns_and_accumulations(con):
    add_segment(con, "A", bridge=True)
    add_segment(con, "B")
    add_segment(con, "C")  # no weather rows: not in the table
    _full_weather(con, "A", ptype=3)
    _full_weather(con, "B", ptype=5)
    table = build_features(con, SETTINGS, START, START + 24 * H)
    frame = table.frame

    assert list(frame.columns) == ["segment_id", "valid_time", *FEATURE_NAMES]
    assert len(frame) == 2 * 24
    assert list(frame["segment_id"].astype(str).unique()) == ["A", "B"]
    assert frame["valid_time"].iloc[0] == START and frame["valid_time"].iloc[23] == START + 23 * H
    assert all(frame[name].dtype == np.float32 for name in FEATURE_NAMES)
    a = frame[frame["segment_id"] == "A"]
    b = frame[frame["segment_id"] == "B"]
    assert (a["precip_mm_3h"] == 3.0).all() and (a["precip_mm_24h"] == 24.0).all()
    assert (a["fzra_mm_24h"] == 24.0).all() and (a["snow_mm_6h"] == 0.0).all()
    assert (b["snow_mm_12h"] == 12.0).all() and (b["fzra_mm_1h"] == 0.0).all()
    assert (a["bridge_wind_ms"] == 4.0).all() and (b["bridge_wind_ms"] == 0.0).all()
    assert (a["hours_below_zero_h"] == LOOKBACK_HOURS).all() and (a["hours_since_precip_h"] == 0).all()
    assert (a["black_ice"] == 1.0).all()
    rush_5_days_before = exposure.travel_rush_factor(np.array([-5.0], dtype=np.float32), np.array([0.0]))[0]
    assert rush_5_days_before > 1 and (a["travel_rush_factor"] == rush_5_days_before).iloc[:16].all()  # 2024-02-05 Beijing
    assert a["hour_local"].iloc[0] == 7.0  # the row ending 08:00 Beijing time describes 07:00-08:00
    assert table.missing_inputs == ("skt_c", "snowfall_mm")


def test_road_temperature_colder_on_the_bridge_at_night(con):
    add_segment(con, "A", bridge=True)
    add_segment(con, "B")
    add_weather(con, "A", READ_START, LOOKBACK_HOURS + 24, t2m_c=1.0)
    add_weather(con, "B", READ_START, LOOKBACK_HOURS + 24, t2m_c=1.0)
    frame = build_features(con, SETTINGS, START, START + 24 * H).frame
    night = frame[(frame["valid_time"] == START + 14 * H)]  # 22:00 Beijing time
    assert night["dark"].tolist() == [1.0, 1.0]
    road = night.set_index(night["segment_id"].astype(str))["road_temp_c"]
    assert road["A"] < road["B"] < 1.0


def test_temperature_only_grid_degrades_to_missing_values(con):
    # like the ERA5 file: 2 m temperature only
    add_segment(con, "A")
    add_weather(con, "A", READ_START, LOOKBACK_HOURS + 12, t2m_c=lambda i: -2.0 + 0.1 * i)
    table = build_features(con, SETTINGS, START, START + 12 * H)
    frame = table.frame
    assert table.missing_inputs == ("d2m_c", "skt_c", "precip_mm", "snowfall_mm", "ptype", "wind_ms", "vis_m")
    unavailable = set(table.unavailable)
    assert {"precip_mm_24h", "snow_mm_1h", "fzra_mm_3h", "rh_pct", "vis_m", "phase_code"} <= unavailable
    assert not unavailable & {"t2m_c", "road_temp_c", "traffic_vph", "solar_elev_deg", "hours_below_zero_h"}
    assert frame["road_temp_c"].notna().all()


def test_hours_without_weather_are_rows_of_missing_values(con):
    add_segment(con, "A")
    add_weather(con, "A", READ_START, LOOKBACK_HOURS + 6, t2m_c=0.0, precip_mm=0.0)
    frame = build_features(con, SETTINGS, START, START + 10 * H).frame
    assert len(frame) == 10
    assert frame["t2m_c"].iloc[:6].notna().all() and frame["t2m_c"].iloc[6:].isna().all()
    assert frame["traffic_vph"].notna().all()


def test_forecast_rows_with_analysis_before_the_issue_time(con):
    add_segment(con, "A")
    add_weather(con, "A", READ_START, LOOKBACK_HOURS + 24, t2m_c=10.0, precip_mm=1.0)  # analysis
    add_weather(con, "A", START - 6 * H, 30, kind="forecast", issued_at=START - 6 * H, t2m_c=99.0, precip_mm=9.0)
    add_weather(con, "A", START, 24, kind="forecast", issued_at=START,
                skip={5}, t2m_c=-5.0, precip_mm=2.0)
    frame = build_features(con, SETTINGS, START, START + 24 * H, weather_kind="forecast", issued_at=START).frame
    assert frame["t2m_c"].iloc[0] == -5.0
    assert np.isnan(frame["t2m_c"].iloc[5])  # no analysis after the issue time fills the forecast's gap
    assert frame["precip_mm_24h"].iloc[0] == pytest.approx(23 * 1.0 + 2.0)
    latest = build_features(con, SETTINGS, START, START + 2 * H, weather_kind="forecast").frame  # latest issue
    assert latest["t2m_c"].iloc[0] == -5.0


def test_overlapping_analysis_imports_take_the_newest(con):
    add_segment(con, "A")
    add_weather(con, "A", READ_START, LOOKBACK_HOURS + 3, t2m_c=5.0)
    con.execute("UPDATE weather_hourly SET import_id = 1")
    add_weather(con, "A", START, 3, t2m_c=-5.0)
    con.execute("UPDATE weather_hourly SET import_id = 2 WHERE import_id IS NULL")
    frame = build_features(con, SETTINGS, START, START + 3 * H).frame
    assert frame["t2m_c"].tolist() == [-5.0, -5.0, -5.0]


def test_files_with_different_variables_for_the_same_hours_combine(con):
    """ERA5 t2m and tp downloaded apart: the newer file's NULL t2m must not hide the older t2m."""
    add_segment(con, "A")
    add_weather(con, "A", READ_START, LOOKBACK_HOURS + 3, t2m_c=-3.0)
    con.execute("UPDATE weather_hourly SET import_id = 1")
    add_weather(con, "A", READ_START, LOOKBACK_HOURS + 3, precip_mm=2.0)
    con.execute("UPDATE weather_hourly SET import_id = 2 WHERE import_id IS NULL")
    frame = build_features(con, SETTINGS, START, START + 3 * H).frame
    assert frame["t2m_c"].tolist() == [-3.0, -3.0, -3.0]
    assert frame["precip_mm_1h"].tolist() == [2.0, 2.0, 2.0]


def test_history_has_no_leakage(con):
    # A row describes the hour ending at valid_time, [h - 1 h, h): the model's label is an incident
    # in that hour, so the row's history may only count incidents before h - 1 h.
    add_segment(con, "A", road_ref="G4")
    add_segment(con, "B", road_ref="G4")
    for seg in ("A", "B"):
        add_weather(con, seg, READ_START, LOOKBACK_HOURS + 24, t2m_c=0.0)
    add_incident(con, "old1", "A", START - 30 * 24 * H)
    add_incident(con, "old2", "A", START - 2 * H)
    add_incident(con, "in1", "B", START + 3 * H + dt.timedelta(minutes=10))
    before = build_features(con, SETTINGS, START, START + 24 * H).frame
    h = START + 10 * H
    add_incident(con, "at_hour_start", "A", h - H)
    add_incident(con, "within_hour", "B", h - dt.timedelta(minutes=1))
    add_incident(con, "after", "B", h + dt.timedelta(hours=2, minutes=30))
    after = build_features(con, SETTINGS, START, START + 24 * H).frame
    cols = ["hist_rate_per_year", "road_hist_rate_per_year"]
    upto_h = before["valid_time"] <= h
    np.testing.assert_array_equal(before.loc[upto_h, cols].to_numpy(), after.loc[upto_h, cols].to_numpy())
    assert (after.loc[~upto_h, cols].to_numpy() != before.loc[~upto_h, cols].to_numpy()).all(axis=1).any()
    # B's incident at 03:10 is the label of the row ending 04:00 and counts from the row ending 05:00 on
    b = before[before["segment_id"] == "B"].set_index("valid_time")["hist_rate_per_year"]
    assert b[START + 4 * H] <= b[START + 3 * H] < b[START + 5 * H]  # no new incident: rates only decay


def test_windows_of_iter_features_equal_one_call(con):
    for seg, road in (("A", "G4"), ("B", "G4"), ("C", "G5")):
        add_segment(con, seg, road_ref=road)
        add_weather(con, seg, READ_START, LOOKBACK_HOURS + 24, t2m_c=lambda i: -3.0 + 0.2 * i,
                    d2m_c=-4.0, precip_mm=lambda i: float(i % 5 == 0), ptype=lambda i: 3 if i % 5 == 0 else 0)
    add_incident(con, "i1", "A", START - 40 * H)
    add_incident(con, "i2", "C", START + 2 * H)
    add_incident(con, "i3", "B", START + 9 * H)
    whole = build_features(con, SETTINGS, START, START + 24 * H).frame
    pieces = pd.concat([t.frame for t in iter_features(con, SETTINGS, START, START + 24 * H, chunk_hours=7)])
    pieces = pieces.sort_values(["segment_id", "valid_time"]).reset_index(drop=True)
    for name in FEATURE_NAMES:
        np.testing.assert_array_equal(pieces[name].to_numpy(), whole[name].to_numpy(), err_msg=name)


def test_bad_requests_raise_one_line_errors(con):
    add_segment(con, "A")
    with pytest.raises(WxriskError, match="no analysis rows"):
        build_features(con, SETTINGS, START, START + H)
    add_weather(con, "A", START, 2, t2m_c=0.0)
    with pytest.raises(WxriskError, match="weather_kind"):
        build_features(con, SETTINGS, START, START + H, weather_kind="nowcast")
    with pytest.raises(WxriskError, match="no forecast issued"):
        build_features(con, SETTINGS, START, START + H, weather_kind="forecast")
    with pytest.raises(WxriskError, match="not after start"):
        build_features(con, SETTINGS, START, START)
    with pytest.raises(WxriskError, match="whole hour"):
        build_features(con, SETTINGS, START + dt.timedelta(minutes=30), START + 2 * H)


def test_feature_specs_are_usable_for_constraints_and_words():
    assert len(set(FEATURE_NAMES)) == len(FEATURE_SPECS)
    assert {spec.monotone for spec in FEATURE_SPECS} <= {-1, 0, 1}
    assert all(spec.label_zh and spec.label_en for spec in FEATURE_SPECS)
    assert SPECS_BY_NAME["fzra_mm_3h"].monotone == 1 and SPECS_BY_NAME["road_temp_c"].monotone == 0
    assert SPECS_BY_NAME["fzra_mm_3h"].describe(2.1) == "冻雨(3小时) 2.1 mm"
    assert SPECS_BY_NAME["travel_rush_factor"].describe(2.3, "en") == "travel-rush traffic 2.3×"
    assert SPECS_BY_NAME["bridge"].describe(1.0, "en") == "bridge"


def test_throughput_benchmark_reports_rate():
    result = feature_throughput(20, 24)
    assert result["segment_hours"] == 480
    assert result["seconds"] > 0 and result["rows_per_s"] > 0
