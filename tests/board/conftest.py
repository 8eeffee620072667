"""A small real world for the board: two roads in a real DuckDB, a risk bump, teams, and the run's
scored segment-hours in memory as scoring hands them to `build_board`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from wxrisk.board.tiers import assign_tiers, load_rules, segment_hour_signals
from wxrisk.scored import ScoredRun
from wxrisk.store import connect

START = datetime(2024, 2, 1, 16)  # 2 February 2024 00:00 Beijing time, in UTC
HOURS = 24


def road_segments(road_ref: str, feature_id: str, n: int, lon0: float, lat0: float, province) -> pd.DataFrame:
    """`n` segments of 1 km running east from (lon0, lat0); `province` a name or a function of km."""
    km = np.arange(n, dtype=float)
    dlon = 1.0 / (111.32 * np.cos(np.radians(lat0)))  # 1 km of longitude at lat0 [degrees]
    lon_from, lon_to = lon0 + km * dlon, lon0 + (km + 1) * dlon
    return pd.DataFrame({
        "segment_id": [f"{road_ref}-{feature_id}-{i:03d}" for i in range(n)],
        "source": "test",
        "feature_id": feature_id,
        "road_ref": road_ref,
        "name": f"{road_ref} expressway",
        "highway": "motorway",
        "province": [province(k) if callable(province) else province for k in km],
        "km_from": km,
        "km_to": km + 1,
        "length_km": 1.0,
        "lon": (lon_from + lon_to) / 2,
        "lat": lat0,
        "path_json": [json.dumps([[a, lat0], [b, lat0]]) for a, b in zip(lon_from, lon_to, strict=True)],
        "bridge": km == 12,
        "grade_pct": 1.0,
        "synthetic": True,
    })


def world_segments() -> pd.DataFrame:
    g4 = road_segments("G4", "w1", 30, 113.30, 30.40, lambda km: "湖北" if km < 26 else "湖南")
    g70 = road_segments("G70", "w2", 20, 112.90, 29.30, "湖南")
    return pd.concat([g4, g70], ignore_index=True)


def world_risk(segments: pd.DataFrame) -> pd.DataFrame:
    """Background risk 0.001 with a bump on G4 around K13 at hour 9, and a smaller one on G70."""
    hours = [START + timedelta(hours=h) for h in range(HOURS)]
    frame = pd.DataFrame([(s, t) for s in segments["segment_id"] for t in hours], columns=["segment_id", "valid_time"])
    frame = frame.merge(segments[["segment_id", "road_ref", "km_from"]], on="segment_id")
    h = (frame["valid_time"] - START).dt.total_seconds() / 3600
    g4 = 0.15 * np.exp(-((frame["km_from"] - 13) / 2.5) ** 2 - ((h - 9) / 3) ** 2)
    g70 = 0.05 * np.exp(-((frame["km_from"] - 5) / 2.0) ** 2 - ((h - 14) / 2) ** 2)
    frame["risk"] = 0.001 + np.where(frame["road_ref"] == "G4", g4, g70)
    frame["top_drivers"] = "冻雨 2.0 mm、路温 -1.0°C"
    frame["top_drivers_en"] = "freezing rain 2.0 mm, road -1.0 °C"
    return frame.drop(columns=["road_ref", "km_from"])


def world_features(risk: pd.DataFrame) -> pd.DataFrame:
    """Freezing rain on frozen road where the G4 bump is; dry and mild elsewhere."""
    features = risk[["segment_id", "valid_time"]].copy()
    wet = (risk["risk"] > 0.04).to_numpy()
    features["road_temp_c"] = np.where(wet, -1.0, 3.0).astype("float32")
    features["fzra_mm_1h"] = np.where(wet, 2.0, 0.0).astype("float32")
    features["snow_mm_1h"] = np.float32(0.0)
    features["black_ice"] = np.float32(0.0)
    features["vis_m"] = np.float32(10000.0)
    return features


def scored_frame(risk: pd.DataFrame, features: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """The risk rows with the warnings and conditions of their features, and the board's tiers."""
    signals = segment_hour_signals(features, rules)
    frame = risk.assign(**{name: signals[name].to_numpy() for name in signals.columns})
    frame["tier"] = assign_tiers(frame, rules)
    return frame


def insert_frame(con, table: str, frame: pd.DataFrame) -> None:
    con.register("frame_rows", frame)
    try:
        names = ", ".join(frame.columns)
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM frame_rows")
    finally:
        con.unregister("frame_rows")


TEAMS_CSV = """team_id,name,province,lon,lat,cars
HB-WH,武汉高速交警支队,湖北,114.30,30.60,4
HB-XN,咸宁大队,湖北,114.32,29.84,2
HN-YY,岳阳大队,湖南,113.13,29.36,3
XJ-UR,乌鲁木齐大队,新疆,87.62,43.83,5
"""


def make_world(tmp_path) -> dict:
    """A real DuckDB with segments, a complete run with tiered risk, and teams loaded."""
    from wxrisk.board.dispatch import load_teams

    con = connect(tmp_path / "board.duckdb")
    segments = world_segments()
    insert_frame(con, "segments", segments)
    features = world_features(world_risk(segments))
    rules = load_rules()
    risk = scored_frame(world_risk(segments), features, rules)
    run_id = "test-run"
    con.execute(
        "INSERT INTO runs (run_id, created_at, start_time, hours, weather_kind, model_version, status, synthetic) "
        "VALUES (?, ?, ?, ?, 'forecast', 'v-test', 'complete', TRUE)", [run_id, START, START, HOURS],
    )
    insert_frame(con, "risk", risk[["segment_id", "valid_time", "risk", "tier", "top_drivers", "top_drivers_en",
                                    "icing_warning", "visibility_warning"]].assign(run_id=run_id))
    teams_path = tmp_path / "teams.csv"
    teams_path.write_text(TEAMS_CSV, encoding="utf-8")
    load_teams(con, teams_path)
    return {"con": con, "run_id": run_id, "features": features, "risk": risk, "segments": segments,
            "scored": ScoredRun(run_id, risk, rules), "tmp_path": tmp_path}


@pytest.fixture
def world(tmp_path):
    made = make_world(tmp_path)
    yield made
    made["con"].close()
