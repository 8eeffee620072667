"""Station/point import figures: time and size stored once per station, against fanning it out.

    .venv/bin/python -m wxrisk.weather.bench ROADS.geojson POINT.csv [--fan-out] [--month 2022-12]

Imports the roads and the point series into a scratch database and prints: import seconds,
stored rows, database size, the seconds `build_features` takes for one month on every segment,
and with `--fan-out` what one row per segment-hour would cost (rows, seconds, size).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from wxrisk.config import Settings
from wxrisk.features.build import build_features
from wxrisk.roads.importer import import_roads
from wxrisk.store import connect
from wxrisk.weather.importer import import_weather


def timed(action) -> tuple[object, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def megabytes(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


def run(roads: Path, point: Path, month: str, fan_out: bool) -> list[tuple[str, str]]:
    """The figures as (what, value) lines."""
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "bench.duckdb"
        settings = Settings(db_path=db, data_dir=Path(scratch))
        con = connect(db)
        import_roads(con, settings, roads)
        con.execute("CHECKPOINT")
        roads_mb = megabytes(db)
        [result], seconds = timed(lambda: import_weather(con, settings, point))
        con.execute("CHECKPOINT")
        segments = con.execute("SELECT count(*) FROM segments").fetchone()[0]
        first = pd.Timestamp(month)
        features, feature_s = timed(lambda: build_features(con, settings, first, first + pd.offsets.MonthBegin(1)))
        lines = [("segments", f"{segments:,}"), ("station-hours stored", f"{result.rows_kept:,}"),
                 ("import", f"{seconds:.2f} s"), ("database growth", f"{megabytes(db) - roads_mb:.1f} MB"),
                 (f"build_features {month}, all segments", f"{len(features):,} segment-hours in {feature_s:.2f} s")]
        if fan_out:
            _, fan_s = timed(lambda: con.execute("CREATE TABLE fanned AS SELECT * FROM weather_rows"))
            con.execute("CHECKPOINT")
            rows = con.execute("SELECT count(*) FROM fanned").fetchone()[0]
            lines += [("fanned out: rows", f"{rows:,}"), ("fanned out: write", f"{fan_s:.1f} s"),
                      ("fanned out: database growth", f"{megabytes(db) - roads_mb:.1f} MB")]
        con.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roads", type=Path)
    parser.add_argument("point", type=Path)
    parser.add_argument("--month", default="2022-12", help="month whose features are timed (YYYY-MM)")
    parser.add_argument("--fan-out", action="store_true", help="also measure one row per segment-hour")
    args = parser.parse_args()
    for what, value in run(args.roads, args.point, args.month, args.fan_out):
        print(f"{what:40s} {value}")


if __name__ == "__main__":
    main()
