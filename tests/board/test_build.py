"""The board of a run, built from the scored frame in memory and a real DuckDB: stretches in
priority order, measures and dispatch written whole."""

from __future__ import annotations

import json

import pandas as pd

from wxrisk.board.build import build_board
from wxrisk.config import Settings
from wxrisk.scored import ScoredRun


def test_board_of_the_world_run(world):
    con, run_id = world["con"], world["run_id"]
    settings = Settings(db_path=world["tmp_path"] / "board.duckdb")
    summary = build_board(con, settings, run_id, world["scored"])
    stretches = con.execute("SELECT * FROM stretches WHERE run_id = ? ORDER BY priority", [run_id]).df()
    assert stretches["road_ref"].tolist() == ["G4", "G70"] and stretches["priority"].tolist() == [1, 2]
    g4, g70 = stretches.iloc[0], stretches.iloc[1]
    assert g4["tier"] == "red" and g4["province"] == "湖北"
    assert g70["tier"] != "red"  # the smaller bump is not the top of the ranking
    assert g4["km_from"] <= 13 < g4["km_to"]  # around the bump at K13
    assert {"freezing_rain", "black_ice", "bridge"} <= set(json.loads(g4["conditions"]))
    assert g4["icing_warning"] == "red" and g4["visibility_warning"] == "none"  # freezing rain on a frozen road
    assert g4["expected_weather_incidents"] > g70["expected_weather_incidents"] > 0
    measures = con.execute("SELECT measure_id FROM stretch_measures WHERE stretch_id = ?", [g4["stretch_id"]]).df()
    assert {"police_escort", "convoy", "closure_diversion"} <= set(measures["measure_id"])
    dispatch = con.execute("SELECT * FROM dispatch WHERE run_id = ?", [run_id]).df()
    assert set(dispatch["stretch_id"]) == set(stretches["stretch_id"])
    cars_by_team = dispatch.groupby("team_id")["cars"].sum()
    capacity = con.execute("SELECT team_id, cars FROM teams").df().set_index("team_id")["cars"]
    assert (cars_by_team <= capacity.reindex(cars_by_team.index)).all()
    assert "XJ-UR" not in set(dispatch["team_id"].dropna())  # Urumqi is 2,400 km away
    assert summary["stretches"] == 2 and summary["covered_expected_weather_incidents"] > 0
    assert 0 < summary["red_share_of_tiered"] <= 0.3 and summary["red_cars_needed"] == 3


def test_the_warning_adds_closure_criteria_but_not_the_tier(world):
    """G70's stretch is not red, yet the red road-icing warning on it calls for closure criteria."""
    build_board(world["con"], Settings(), world["run_id"], world["scored"])
    g70 = world["con"].execute("SELECT stretch_id, tier, icing_warning FROM stretches WHERE road_ref = 'G70'").fetchone()
    assert g70[1] != "red" and g70[2] == "red"
    reasons = world["con"].execute("SELECT reason_zh FROM stretch_measures WHERE stretch_id = ? AND "
                                   "measure_id = 'closure_diversion'", [g70[0]]).fetchall()
    assert reasons and "道路结冰红色预警" in reasons[0][0]


def test_rebuilding_replaces_the_run_rows(world):
    con, run_id = world["con"], world["run_id"]
    settings = Settings(db_path=world["tmp_path"] / "board.duckdb")
    build_board(con, settings, run_id, world["scored"])
    counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("stretches", "stretch_measures", "dispatch")]
    build_board(con, settings, run_id, world["scored"])
    again = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("stretches", "stretch_measures", "dispatch")]
    assert again == counts and min(counts) > 0


def test_the_board_reads_the_scored_frame_not_the_risk_table(world):
    con, run_id = world["con"], world["run_id"]
    con.execute("DELETE FROM risk")
    assert build_board(con, Settings(), run_id, world["scored"])["stretches"] == 2


def test_without_teams_every_stretch_is_reported_unreachable(world):
    con, run_id = world["con"], world["run_id"]
    con.execute("DELETE FROM teams")
    summary = build_board(con, Settings(), run_id, world["scored"])
    statuses = con.execute("SELECT status FROM dispatch WHERE run_id = ?", [run_id]).fetchall()
    assert statuses == [("unreachable",)] * summary["stretches"] and summary["stretches"] == 2


def test_a_quiet_board_has_no_stretch(world):
    quiet = world["scored"].frame.assign(tier=pd.Categorical(["none"] * len(world["scored"].frame),
                                                             categories=["none", "blue", "yellow", "orange", "red"]))
    summary = build_board(world["con"], Settings(), world["run_id"], ScoredRun(world["run_id"], quiet,
                                                                                 world["scored"].rules))
    assert summary["stretches"] == 0 and summary["red_share_of_tiered"] == 0.0
