"""A small published board for the app tests: road G4 (40 x 1 km, 湖北 then 湖南) with a freezing-rain
bump in risk, road G56 (10 km, 湖南) with a small one, two stretches with measures, teams, dispatch,
weather, incidents, imports and quarantine; published with the real `publish_run`."""

from __future__ import annotations

import json
import math
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from wxrisk.boardview.access import PASSWORD_ENV
from wxrisk.config import Settings
from wxrisk.features import WeatherSource, resolved_weather
from wxrisk.store import connect
from wxrisk.store.publish import publish_run

RUN_ID = "run-20260210T16"
START_UTC = datetime(2026, 2, 10, 16)  # 2026-02-11 00:00 Beijing time
ISSUED_UTC = datetime(2026, 2, 10, 12)
HOURS = 72
TOP_STRETCH = ("G4", "K1493+000")  # road and first K-stake of the worst stretch
STRETCH_COLUMNS = ("run_id, stretch_id, road_ref, name, province, km_from, km_to, length_km, n_segments, onset, "
                   "peak_time, end_time, tier, peak_risk, expected_incidents, conditions, lon, lat, segment_ids, "
                   "reasons_zh, reasons_en, expected_weather_incidents, icing_warning, visibility_warning, priority")
THRESHOLDS = (("red", 0.05), ("orange", 0.02), ("yellow", 0.008), ("blue", 0.003))


def tier_of(risk: float) -> str:
    return next((tier for tier, floor in THRESHOLDS if risk >= floor), "none")


def _roads() -> list[dict]:
    """G4 from near Xianning (湖北) south-west into Yueyang (湖南); G56 west of Yueyang."""
    rows = []
    for i in range(40):
        km = 1480 + i
        f0, f1 = i / 40, (i + 1) / 40
        p0 = [114.02 - 0.30 * f0, 29.93 - 0.33 * f0]
        p1 = [114.02 - 0.30 * f1, 29.93 - 0.33 * f1]
        rows.append(dict(segment_id=f"G4-{km}", road_ref="G4", name="京港澳高速", province="湖北" if km < 1500 else "湖南",
                         km_from=km, km_to=km + 1, path=[p0, p1], bridge=km in (1499, 1500), grade_pct=1.5))
    for i in range(10):
        p0, p1 = [113.20 - 0.01 * i, 29.40], [113.20 - 0.01 * (i + 1), 29.40]
        rows.append(dict(segment_id=f"G56-{i}", road_ref="G56", name="杭瑞高速", province="湖南",
                         km_from=i, km_to=i + 1, path=[p0, p1], bridge=False, grade_pct=3.0))
    return rows


def _risk(road: dict, hour: int) -> float:
    """Background 0.04 %/h plus a Gaussian bump: G4 K1500 at hour 30 (9 %/h), G56 K5 at hour 40 (1.2 %/h)."""
    if road["road_ref"] == "G4":
        return 0.0004 + 0.09 * math.exp(-((road["km_from"] + 0.5 - 1500) / 5) ** 2 / 2 - ((hour - 30) / 6) ** 2 / 2)
    return 0.0004 + 0.012 * math.exp(-((road["km_from"] + 0.5 - 5) / 2) ** 2 / 2 - ((hour - 40) / 5) ** 2 / 2)


def icing_warning(hour: int) -> str:
    """The road-icing warning of the G4/G56 storm: freezing rain on a frozen road from hour 24 to 36."""
    hours_ahead = min((h - hour for h in range(24, 37) if h >= hour), default=None)
    if hours_ahead is None:
        return "none"
    return "red" if hours_ahead <= 2 else "orange" if hours_ahead <= 6 else "yellow" if hours_ahead <= 12 else "none"


def _weather(hour: int) -> tuple:
    """t2m, d2m, skt [°C], precip, snowfall [mm/h], ptype, wind [m/s], visibility [m] at run hour `hour`."""
    cold = math.exp(-((hour - 30) / 10) ** 2 / 2)
    t2m = 3.0 - 5.0 * cold
    raining = 20 <= hour <= 40
    return (t2m, t2m - 1.5, t2m - 1.0, 1.8 * cold if raining else 0.0, 0.0, 3 if raining and t2m < 0.5 else 0,
            4.0 + 3 * cold, 8000.0 - 6000 * cold)


def write_working_db(db_path: Path, synthetic: bool = True) -> None:
    """Fill a working database the way the pipeline would, for one complete run (`runs.synthetic`)."""
    con = connect(db_path)
    roads = _roads()
    for r in roads:
        lon = (r["path"][0][0] + r["path"][1][0]) / 2
        lat = (r["path"][0][1] + r["path"][1][1]) / 2
        con.execute(
            "INSERT INTO segments (segment_id, source, feature_id, road_ref, name, highway, province, km_from, km_to, "
            "length_km, lon, lat, path_json, bridge, grade_pct, elevation_m, synthetic, import_id) "
            "VALUES (?, 'roads:test', ?, ?, ?, 'motorway', ?, ?, ?, 1.0, ?, ?, ?, ?, ?, 60, TRUE, 1)",
            [r["segment_id"], r["road_ref"], r["road_ref"], r["name"], r["province"], r["km_from"], r["km_to"],
             lon, lat, json.dumps(r["path"]), r["bridge"], r["grade_pct"]])
    risk_rows, weather_rows = [], []
    for r in roads:
        for h in range(-24, HOURS):
            w = _weather(h)
            kind, issued = ("analysis", None) if h < 0 else ("forecast", ISSUED_UTC)
            weather_rows.append([r["segment_id"], START_UTC + timedelta(hours=h), kind, issued, *w, "weather:test", 2])
            if h < 0:
                continue
            p = _risk(r, h)
            tier = tier_of(p)
            zh, en = (f"冻雨 {w[3]:.1f} mm; 路面温度 {w[2]:.1f}°C" + ("; 桥梁" if r["bridge"] else ""),
                      f"freezing rain {w[3]:.1f} mm; road {w[2]:.1f}°C" + ("; bridge" if r["bridge"] else "")) \
                if tier != "none" else (None, None)
            risk_rows.append([RUN_ID, r["segment_id"], START_UTC + timedelta(hours=h), p, tier, zh, en,
                              icing_warning(h), "none"])
    risk_frame = pd.DataFrame(risk_rows, columns=["run_id", "segment_id", "valid_time", "risk", "tier",
                                                  "top_drivers", "top_drivers_en", "icing_warning",
                                                  "visibility_warning"])
    weather_frame = pd.DataFrame(weather_rows, columns=[
        "segment_id", "valid_time", "kind", "issued_at", "t2m_c", "d2m_c", "skt_c", "precip_mm", "snowfall_mm",
        "ptype", "wind_ms", "vis_m", "source", "import_id"])
    con.register("risk_frame", risk_frame)
    con.register("weather_frame", weather_frame)
    con.execute("INSERT INTO risk BY NAME SELECT * FROM risk_frame")
    con.execute("INSERT INTO weather_hourly BY NAME SELECT * FROM weather_frame")
    con.execute(
        "INSERT INTO runs (run_id, created_at, start_time, hours, weather_kind, weather_issued_at, model_version, "
        "status, missing_inputs, synthetic) VALUES (?, ?, ?, ?, 'forecast', ?, 'v20260209-1', 'complete', ?, ?)",
        [RUN_ID, START_UTC - timedelta(hours=1), START_UTC, HOURS, ISSUED_UTC, json.dumps(["vis_m"]), synthetic])
    _board_tables(con, roads)
    _incidents_and_imports(con)
    publish_settings = Settings(db_path=db_path, data_dir=db_path.parent / "data", boards_dir=db_path.parent / "boards")
    weather = resolved_weather(con, WeatherSource("forecast", ISSUED_UTC), [r["segment_id"] for r in roads],
                               START_UTC - timedelta(hours=24), HOURS + 24)  # as the pipeline publishes it
    publish_run(con, publish_settings, RUN_ID, weather=weather)
    con.close()


def _board_tables(con, roads: list[dict]) -> None:
    g4 = [r["segment_id"] for r in roads if r["road_ref"] == "G4" and 1493 <= r["km_from"] < 1507]
    g56 = [r["segment_id"] for r in roads if r["road_ref"] == "G56" and 3 <= r["km_from"] < 8]
    at = lambda h: START_UTC + timedelta(hours=h)  # noqa: E731
    con.execute(
        f"INSERT INTO stretches ({STRETCH_COLUMNS}) VALUES (?, 'S-G4-1', 'G4', '京港澳高速', '湖南', 1493, 1507, 14, 14, ?, ?, ?, 'red', "
        "0.0904, 6.1, ?, 113.87, 29.76, ?, '冻雨叠加路面低温，桥面易结冰', 'Freezing rain on a sub-zero road; bridge decks ice first', "
        "5.8, 'red', 'none', 1)",
        [RUN_ID, at(20), at(30), at(40), json.dumps(["freezing_rain", "black_ice", "bridge"]), json.dumps(g4)])
    con.execute(
        f"INSERT INTO stretches ({STRETCH_COLUMNS}) VALUES (?, 'S-G56-1', 'G56', '杭瑞高速', '湖南', 3, 8, 5, 5, ?, ?, ?, 'yellow', "
        "0.0124, 0.4, ?, 113.15, 29.40, ?, '冻雨，长大纵坡', 'Freezing rain on a long grade', 0.3, 'red', 'orange', 2)",
        [RUN_ID, at(34), at(40), at(46), json.dumps(["freezing_rain", "grade"]), json.dumps(g56)])
    measures = [
        ("S-G4-1", "police_escort", "警车带道", "police car leading", at(18), 2, "红色预警，冻雨持续6小时以上", "red tier, freezing rain over 6 h", 1),
        ("S-G4-1", "speed_limit_60", "限速60公里/小时", "speed limit 60 km/h", at(19), 1, "路面结冰风险", "icy surface risk", 2),
        ("S-G4-1", "deicing", "撒布融雪剂", "de-icing salt", at(17), 3, "桥面先结冰", "bridge decks ice first", 3),
        ("S-G56-1", "speed_limit_80", "限速80公里/小时", "speed limit 80 km/h", at(33), 1, "黄色预警", "yellow tier", 1),
    ]
    con.executemany("INSERT INTO stretch_measures (run_id, stretch_id, measure_id, label_zh, label_en, start_at, "
                    "lead_hours, reason_zh, reason_en, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [[RUN_ID, *m] for m in measures])
    con.executemany("INSERT INTO teams (team_id, name, province, lon, lat, cars, source) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'teams:test')", [
        ("T-XN", "咸宁高速交警大队", "湖北", 114.32, 29.84, 4),
        ("T-YY", "岳阳高速交警一大队", "湖南", 113.13, 29.36, 3),
        ("T-LX", "临湘中队", "湖南", 113.45, 29.48, 2),
    ])
    con.executemany("INSERT INTO dispatch (run_id, stretch_id, team_id, cars, travel_min, depart_by, arrive_by, status) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        (RUN_ID, "S-G4-1", "T-XN", 2, 25.0, at(17.5), at(18), "assigned"),
        (RUN_ID, "S-G56-1", None, None, None, None, None, "uncovered"),
    ])


def _incidents_and_imports(con) -> None:
    incidents = [  # three in the storm on the top stretch (two on ice), one on G56 (wet), two a fortnight before
        ("I1", START_UTC + timedelta(hours=28, minutes=20), "G4-1499", "serious", "ice"),
        ("I2", START_UTC + timedelta(hours=31, minutes=5), "G4-1501", "slight", "ice"),
        ("I3", START_UTC + timedelta(hours=33, minutes=40), "G4-1497", "damage_only", "wet"),
        ("I4", START_UTC + timedelta(hours=41, minutes=10), "G56-5", "slight", "wet"),
        ("I5", START_UTC - timedelta(days=14), "G4-1488", "slight", "dry"),
        ("I6", START_UTC - timedelta(days=15), None, "slight", None),
    ]
    con.executemany(
        "INSERT INTO incidents (incident_id, occurred_at, lat, lon, road_ref, severity, segment_id, surface, source, "
        "synthetic) VALUES (?, ?, 29.7, 113.9, 'G4', ?, ?, ?, 'incidents:test', TRUE)",
        [(i, t, sev, seg, surface) for i, t, seg, sev, surface in incidents])
    con.executemany("INSERT INTO import_ledger (import_id, kind, path, file_hash, window_key, rows_read, rows_kept, "
                    "rows_quarantined, started_at, finished_at, status) "
                    "VALUES (?, ?, ?, 'x', ?, ?, ?, ?, ?, ?, 'imported')", [
        (1, "roads", "roads.geojson", "roads:test", 50, 50, 0, START_UTC - timedelta(days=20), START_UTC - timedelta(days=20)),
        (2, "weather", "forecast.nc", "weather:test", 4800, 4800, 0, ISSUED_UTC + timedelta(hours=2), ISSUED_UTC + timedelta(hours=2)),
        (3, "incidents", "incidents.csv", "incidents:test", 8, 6, 2, START_UTC - timedelta(hours=3), START_UTC - timedelta(hours=3)),
    ])
    con.executemany("INSERT INTO quarantine (import_id, kind, path, row_number, reason, raw) "
                    "VALUES (3, 'incidents', 'incidents.csv', ?, ?, ?)", [
        (4, "occurred_at: not a date", '{"occurred_at": "yesterday"}'),
        (7, "lat: out of range", '{"lat": "129.5"}'),
    ])


def write_champion(models_dir: Path) -> None:
    version = models_dir / "v20260209-1"
    version.mkdir(parents=True)
    (version / "card.md").write_text("# 模型卡 v20260209-1\n\nLightGBM, trained on winters 2019–2025.\n", encoding="utf-8")
    (version / "meta.json").write_text(json.dumps({"version": "v20260209-1", "metrics": {
        "pr_auc": 0.21, "brier": 0.0031, "recall_at_k": {"k10": 0.55},
        "yardstick": {"name": "yardstick", "pr_auc": 0.15, "positives": 4583},
        "ice_model": {"name": "ice model", "pr_auc": 0.012}, "ice_yardstick": {"pr_auc": 0.009}}}),
        encoding="utf-8")
    (models_dir / "CHAMPION").write_text(json.dumps({"version": "v20260209-1", "reason": "test"}), encoding="utf-8")


@pytest.fixture(scope="session")
def published_root(tmp_path_factory) -> Path:
    """A folder with `work.duckdb`, `boards/CURRENT` + snapshot, and `models/` with a champion."""
    root = tmp_path_factory.mktemp("board")
    write_working_db(root / "work.duckdb")
    write_champion(root / "models")
    return root


def app_env(root: Path) -> dict[str, str]:
    return {"WXRISK_DB": str(root / "work.duckdb"), "WXRISK_DATA": str(root / "data"),
            "WXRISK_BOARDS": str(root / "boards"), "WXRISK_MODELS": str(root / "models"), "WXRISK_TZ": "Asia/Shanghai"}


@pytest.fixture(scope="session")
def published_real_root(tmp_path_factory) -> Path:
    """The same board as `published_root`, but of a real run (`runs.synthetic` false)."""
    root = tmp_path_factory.mktemp("real_board")
    write_working_db(root / "work.duckdb", synthetic=False)
    write_champion(root / "models")
    return root


def _site(root: Path, tmp_path: Path, monkeypatch) -> Path:
    """Env vars pointing the app at a copy of `root`'s board (fresh action log), with no password."""
    site = tmp_path / "site"
    shutil.copytree(root, site)
    for name, value in app_env(site).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    return site


@pytest.fixture
def board_env(published_root, tmp_path, monkeypatch) -> Path:
    """The app pointed at the published synthetic board."""
    return _site(published_root, tmp_path, monkeypatch)


@pytest.fixture
def real_board_env(published_real_root, tmp_path, monkeypatch) -> Path:
    """The app pointed at the published real-run board."""
    return _site(published_real_root, tmp_path, monkeypatch)
