"""The board of a run, built from a real DuckDB: stretches, measures and dispatch written whole."""

from __future__ import annotations

import json

from wxrisk.board.build import build_board
from wxrisk.config import Settings


def test_board_of_the_world_run(world):
    con, run_id = world["con"], world["run_id"]
    settings = Settings(db_path=world["tmp_path"] / "board.duckdb")
    summary = build_board(con, settings, run_id, world["scored"])
    stretches = con.execute("SELECT * FROM stretches WHERE run_id = ? ORDER BY road_ref", [run_id]).df()
    assert stretches["road_ref"].tolist() == ["G4", "G70"]
    g4 = stretches.iloc[0]
    assert g4["tier"] == "red" and g4["province"] == "湖北"
    assert g4["km_from"] <= 13 < g4["km_to"]  # around the bump at K13
    assert {"freezing_rain", "black_ice", "bridge"} <= set(json.loads(g4["conditions"]))
    measures = con.execute("SELECT measure_id FROM stretch_measures WHERE stretch_id = ?", [g4["stretch_id"]]).df()
    assert {"police_escort", "convoy"} <= set(measures["measure_id"])
    dispatch = con.execute("SELECT * FROM dispatch WHERE run_id = ?", [run_id]).df()
    assert set(dispatch["stretch_id"]) == set(stretches["stretch_id"])
    cars_by_team = dispatch.groupby("team_id")["cars"].sum()
    capacity = con.execute("SELECT team_id, cars FROM teams").df().set_index("team_id")["cars"]
    assert (cars_by_team <= capacity.reindex(cars_by_team.index)).all()
    assert "XJ-UR" not in set(dispatch["team_id"].dropna())  # Urumqi is 2,400 km away
    assert summary["stretches"] == 2 and summary["covered_expected_incidents"] > 0


def test_rebuilding_replaces_the_run_rows(world):
    con, run_id = world["con"], world["run_id"]
    settings = Settings(db_path=world["tmp_path"] / "board.duckdb")
    build_board(con, settings, run_id, world["scored"])
    counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("stretches", "stretch_measures", "dispatch")]
    build_board(con, settings, run_id, world["scored"])
    again = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("stretches", "stretch_measures", "dispatch")]
    assert again == counts and min(counts) > 0


def test_without_teams_every_stretch_is_reported_unreachable(world):
    con, run_id = world["con"], world["run_id"]
    con.execute("DELETE FROM teams")
    summary = build_board(con, Settings(), run_id, world["scored"])
    statuses = con.execute("SELECT status FROM dispatch WHERE run_id = ?", [run_id]).fetchall()
    assert statuses == [("unreachable",)] * summary["stretches"] and summary["stretches"] == 2
