"""Run planning: the weather a board uses, stable run ids, what the board warns about, risk rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from wxrisk.config import Settings, WxriskError
from wxrisk.pipeline import (
    RiskRows,
    RunPlan,
    WeatherChoice,
    choose_weather,
    normal_hourly_risk,
    run_id_for,
    store_risk,
    weather_warnings,
)
from wxrisk.scored import board_frame
from wxrisk.store import connect
from wxrisk.vocab import utc_naive


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


def test_the_board_warns_of_hindcasts_stale_forecasts_and_hours_without_weather():
    plan = RunPlan("r", datetime(2024, 2, 1, 21), 72, WeatherChoice("forecast", datetime(2024, 1, 31, 21)), "v", {})
    uncovered = np.zeros(72, dtype=int)
    uncovered[[60, 61, 62, 70]] = [3, 3, 1, 3]
    hours = tuple(plan.start + timedelta(hours=h) for h in (60, 61, 62, 70))
    said = weather_warnings(Settings(), plan, 2, hours, uncovered)
    assert said[0] == "forecast: stale, issued 24 h before start (more than 12 h)"
    assert said[1] == "weather: 2 segment(s) have none in the window and are not scored"
    assert said[2] == ("weather: 4 of 72 hours lack temperature or precipitation on 3 segment(s) at most, not "
                       "scored: 2024-02-04T09Z–2024-02-04T11Z, 2024-02-04T19Z")
    fresh = replace(plan, weather=WeatherChoice("forecast", datetime(2024, 2, 1, 18)))
    assert weather_warnings(Settings(), fresh, 0, (), np.zeros(72, dtype=int)) == []
    hindcast = replace(plan, weather=WeatherChoice("analysis", None))
    assert "analysis used" in weather_warnings(Settings(), hindcast, 0, (), np.zeros(72, dtype=int))[0]


def test_normal_risk_is_the_yearly_record_spread_over_the_hours():
    features = pd.DataFrame({"hist_rate_per_year": [8.766, np.nan]})
    np.testing.assert_allclose(normal_hourly_risk(features), [0.001, np.nan])


def _frame(ice: bool):
    return board_frame(["s1", "s2"], [datetime(2024, 2, 1, 22)] * 2, [0.01, 0.02], ["none", "blue"],
                       ice_risk=[0.004, 0.015] if ice else None, drivers=([None, "冻雨"], [None, "freezing rain"]))


def test_risk_rows_carry_ice_risk_when_the_model_gives_it_else_null(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    store_risk(con, "with-ice", _frame(ice=True))
    store_risk(con, "without", _frame(ice=False))
    store_risk(con, "without", _frame(ice=False))  # written again: replaced, not doubled
    rows = con.execute("SELECT run_id, segment_id, tier, top_drivers_en, ice_risk FROM risk ORDER BY run_id, segment_id"
                       ).fetchall()
    assert rows == [("with-ice", "s1", "none", None, 0.004), ("with-ice", "s2", "blue", "freezing rain", 0.015),
                    ("without", "s1", "none", None, None), ("without", "s2", "blue", "freezing rain", None)]


def test_risk_rows_written_beside_the_board_are_the_frame_as_scored(tmp_path):
    settings = replace(Settings(), db_path=tmp_path / "w.duckdb", boards_dir=tmp_path / "boards")
    con = connect(settings.db_path)
    frame = _frame(ice=True)
    rows = RiskRows(con, settings, "r", frame)
    con.close()  # the score step's connection goes; the writer has its own
    frame.loc[:, "risk"] = 0.9  # what a later step might do to the frame in memory
    staged = rows.written()
    with connect(settings.db_path, read_only=True) as check:
        assert check.execute("SELECT segment_id, risk FROM risk ORDER BY segment_id").fetchall() == [
            ("s1", 0.01), ("s2", 0.02)]
        check.execute("ATTACH ? AS staged (READ_ONLY)", [str(staged)])
        assert check.execute("SELECT count(*) FROM (SELECT * FROM staged.risk EXCEPT ALL SELECT * FROM risk)"
                             ).fetchone()[0] == 0
        assert check.execute("SELECT count(*) FROM staged.risk").fetchone()[0] == 2
    rows.discard()
    assert not staged.exists()
