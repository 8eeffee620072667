"""Feature-building throughput on a synthetic database (segment-hours per second)."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

from wxrisk.config import Settings
from wxrisk.features.build import LOOKBACK_HOURS, build_features
from wxrisk.store import connect

BENCH_START = dt.datetime(2024, 1, 28)  # inside the 2024 travel rush [UTC]


def write_synthetic_inputs(con, n_segments: int, hours: int, start: dt.datetime = BENCH_START, seed: float = 0.42):
    """Fill `segments`, `weather_hourly` (analysis, from start - LOOKBACK_HOURS) and `incidents`.

    Plausible winter values: temperature around 0 °C with a daily cycle, dew point a little
    below, showers of rain, snow and freezing rain, a few incidents per thousand segment-hours.
    """
    con.execute("SELECT setseed(?)", [seed])
    con.execute("""
        INSERT INTO segments (segment_id, source, feature_id, road_ref, highway, km_from, km_to, length_km,
                              lon, lat, path_json, bridge, tunnel, is_ramp, lanes, maxspeed_kmh, elevation_m,
                              grade_pct, curvature_deg_per_km, aadt, synthetic)
        SELECT printf('B%07d', i), 'bench', printf('F%d', i // 50), printf('G%d', i // 500), 'motorway',
               (i % 50)::DOUBLE, (i % 50 + 1)::DOUBLE, 1.0, 105 + random() * 15, 25 + random() * 15, '[]',
               random() < 0.1, random() < 0.03, random() < 0.05, 2 + (random() * 3)::INTEGER,
               CASE WHEN random() < 0.2 THEN 100 ELSE 120 END, random() * 2000, random() * 5,
               random() * 30, CASE WHEN random() < 0.5 THEN 10000 + random() * 40000 END, TRUE
        FROM range(?) r(i)""", [n_segments])
    con.execute("""
        INSERT INTO weather_hourly (segment_id, valid_time, kind, t2m_c, d2m_c, precip_mm, snowfall_mm, ptype,
                                    wind_ms, vis_m, source)
        SELECT segment_id, valid_time, 'analysis', t2m_c, t2m_c - random() * 4, precip_mm,
               CASE WHEN t2m_c < 0 THEN precip_mm ELSE 0 END,
               CASE WHEN precip_mm = 0 THEN 0 WHEN t2m_c < -1 THEN 5 WHEN t2m_c < 0.5 THEN 3 ELSE 1 END,
               random() * 12, 200 + random() * 20000, 'bench'
        FROM (SELECT s.segment_id, t.valid_time,
                     -2 + 4 * sin(2 * pi() * hour(t.valid_time) / 24) + 3 * random() AS t2m_c,
                     CASE WHEN random() < 0.15 THEN random() * 3 ELSE 0 END AS precip_mm
              FROM segments s CROSS JOIN
                   (SELECT range AS valid_time FROM range(?::TIMESTAMP, ?::TIMESTAMP, INTERVAL 1 HOUR)) t)""",
                [start - dt.timedelta(hours=LOOKBACK_HOURS), start + dt.timedelta(hours=hours)])
    con.execute("""
        INSERT INTO incidents (incident_id, occurred_at, segment_id, source, synthetic)
        SELECT printf('I%d', row_number() OVER ()), valid_time + INTERVAL 17 MINUTE, segment_id, 'bench', TRUE
        FROM weather_hourly WHERE random() < 0.003""")


def feature_throughput(n_segments: int, hours: int) -> dict:
    """Time build_features on n_segments x hours synthetic segment-hours.

    Returns {"segment_hours", "seconds", "rows_per_s", "cpu_seconds"}: wall-clock and CPU
    seconds (all threads) of build_features alone; on a busy machine cpu_seconds shows the work.
    """
    with tempfile.TemporaryDirectory(prefix="wxrisk-bench-") as tmp:
        con = connect(Path(tmp) / "bench.duckdb")
        con.execute("SET enable_progress_bar = false")
        try:
            write_synthetic_inputs(con, n_segments, hours)
            began, began_cpu = time.perf_counter(), time.process_time()
            frame = build_features(con, Settings(), BENCH_START, BENCH_START + dt.timedelta(hours=hours)).frame
            seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - began_cpu
        finally:
            con.close()
    return {"segment_hours": len(frame), "seconds": round(seconds, 3), "rows_per_s": round(len(frame) / seconds),
            "cpu_seconds": round(cpu_seconds, 3)}
