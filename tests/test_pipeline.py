"""Run planning: the weather a board uses, stable run ids, tiles, and what the board warns about."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from wxrisk.config import WxriskError
from wxrisk.pipeline import (
    WeatherChoice,
    _write_risk,
    choose_weather,
    missing_inputs_of,
    normal_hourly_risk,
    run_id_for,
    split_tiles,
    utc_naive,
)
from wxrisk.store import connect


def test_times_become_naive_utc():
    assert utc_naive("2024-02-02T05:00+08:00") == datetime(2024, 2, 1, 21)
    assert utc_naive("2024-02-01T21:00Z") == datetime(2024, 2, 1, 21)
    with pytest.raises(WxriskError, match="not an ISO 8601 time"):
        utc_naive("yesterday")


def _weather(con, kind: str, valid: str, issued: str | None) -> None:
    con.execute("INSERT INTO weather_hourly (segment_id, valid_time, kind, issued_at, source) VALUES ('s', ?, ?, ?, 'x')",
                [valid, kind, issued])


def test_newest_forecast_issued_before_the_start_is_chosen(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    _weather(con, "forecast", "2024-02-02 00:00", "2024-01-31 00:00")
    _weather(con, "forecast", "2024-02-02 00:00", "2024-02-01 00:00")
    _weather(con, "forecast", "2024-02-03 00:00", "2024-02-02 00:00")  # issued after the start: not yet known
    assert choose_weather(con, datetime(2024, 2, 1, 21)) == WeatherChoice("forecast", datetime(2024, 2, 1))


def test_analysis_is_the_fallback_and_no_weather_is_an_error(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    with pytest.raises(WxriskError, match="no weather covers"):
        choose_weather(con, datetime(2024, 2, 1, 21))
    _weather(con, "analysis", "2024-02-02 00:00", None)
    assert choose_weather(con, datetime(2024, 2, 1, 21)) == WeatherChoice("analysis", None)


def test_same_inputs_same_run_id():
    weather = WeatherChoice("forecast", datetime(2024, 2, 1))
    first = run_id_for(datetime(2024, 2, 1, 21), 72, weather, "v1")
    assert first == run_id_for(datetime(2024, 2, 1, 21), 72, weather, "v1")
    assert first != run_id_for(datetime(2024, 2, 1, 22), 72, weather, "v1")
    assert first != run_id_for(datetime(2024, 2, 1, 21), 72, weather, "v2")


def test_tiles_keep_each_segment_whole_and_lose_no_row():
    features = pd.DataFrame({"segment_id": np.repeat([f"s{i}" for i in range(50)], 3), "valid_time": 0, "x": 1.0})
    features.attrs["missing_inputs"] = ["vis_m"]
    tiles = split_tiles(features, 4)
    assert sum(len(t) for t in tiles) == len(features)
    owners = [set(t["segment_id"]) for t in tiles]
    assert all(a.isdisjoint(b) for i, a in enumerate(owners) for b in owners[i + 1:])
    assert all(t.attrs["missing_inputs"] == ["vis_m"] for t in tiles)


def test_missing_inputs_name_absent_weather_and_a_stale_forecast():
    features = pd.DataFrame({"segment_id": ["s"]})
    features.attrs.update(missing_inputs=["precip_mm"], unavailable_features=["fzra_mm_1h"])
    stale = missing_inputs_of(features, WeatherChoice("forecast", datetime(2024, 1, 30)), datetime(2024, 2, 1, 21))
    assert stale[:2] == ["precip_mm", "feature:fzra_mm_1h"] and "stale" in stale[2]
    assert "analysis used" in missing_inputs_of(features, WeatherChoice("analysis", None), datetime(2024, 2, 1))[-1]


def test_normal_risk_is_the_yearly_record_spread_over_the_hours():
    features = pd.DataFrame({"hist_rate_per_year": [8.766, np.nan]})
    np.testing.assert_allclose(normal_hourly_risk(features), [0.001, np.nan])


def _scored(ice: bool) -> pd.DataFrame:
    frame = pd.DataFrame({"segment_id": ["s1", "s2"], "valid_time": [datetime(2024, 2, 1, 22)] * 2,
                          "risk": [0.01, 0.02], "tier": ["none", "blue"], "top_drivers": [None, "冻雨"],
                          "top_drivers_en": [None, "freezing rain"]})
    return frame.assign(ice_risk=[0.004, 0.015]) if ice else frame


def test_risk_rows_carry_ice_risk_when_the_model_gives_it_else_null(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    _write_risk(con, "with-ice", _scored(ice=True))
    _write_risk(con, "without", _scored(ice=False))
    rows = con.execute("SELECT run_id, segment_id, ice_risk FROM risk ORDER BY run_id, segment_id").fetchall()
    assert rows == [("with-ice", "s1", 0.004), ("with-ice", "s2", 0.015), ("without", "s1", None),
                    ("without", "s2", None)]
