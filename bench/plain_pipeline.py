"""The yardstick of `wxrisk bench`: a plain xarray/pandas/LightGBM pipeline of the same shape.

What one would write first, with no tiling and no database: sample the forecast grid at every
segment's midpoint with xarray (bilinear), make one long pandas frame, compute rolling
accumulations per segment with groupby, predict with LightGBM, write Parquet. The model is
trained first on a sample (setup, not timed, as in the bench). Run by `wxrisk bench` in a
process of its own; prints and writes (`--report`) its seconds by stage and its peak memory.

    python bench/plain_pipeline.py --grid GRID.nc --segments SEGMENTS.parquet --start ISO --hours 72 \\
        --out RISK.parquet --report PLAIN.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import xarray as xr

WINDOWS_H = (1, 3, 6, 12, 24)
FEATURES = ["t2m_c", "d2m_c", "rh_pct", "wind_ms", "precip_mm", "hour", "dow", "elevation_m", "bridge",
            "hours_below_zero", *[f"{kind}_{h}h" for kind in ("precip", "snow", "fzra") for h in WINDOWS_H]]


def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sample(grid: Path, segments: pd.DataFrame, start: pd.Timestamp, hours: int) -> pd.DataFrame:
    """The grid at the segments' midpoints, one row per segment and hour, in °C and mm."""
    ds = xr.open_dataset(grid)
    ds = ds.sel(time=slice(start, start + pd.Timedelta(hours=hours - 1)))
    points = ds.interp(latitude=xr.DataArray(segments["lat"].to_numpy(), dims="segment"),
                       longitude=xr.DataArray(segments["lon"].to_numpy(), dims="segment"))
    frame = points[["t2m", "d2m", "tp", "ptype", "u10", "v10"]].to_dataframe().reset_index()
    frame["segment_id"] = segments["segment_id"].to_numpy()[frame["segment"].to_numpy()]
    frame["t2m_c"] = frame["t2m"] - 273.15
    frame["d2m_c"] = frame["d2m"] - 273.15
    frame["precip_mm"] = frame["tp"] * 1000
    frame["wind_ms"] = np.hypot(frame["u10"], frame["v10"])
    frame = frame.merge(segments[["segment_id", "elevation_m", "bridge"]], on="segment_id")
    return frame.sort_values(["segment_id", "time"]).reset_index(drop=True)


def features(frame: pd.DataFrame) -> pd.DataFrame:
    """Rolling accumulations and simple physics per segment, with pandas groupby."""
    frame["rh_pct"] = 100 * np.exp(17.625 * frame["d2m_c"] / (243.04 + frame["d2m_c"])
                                   - 17.625 * frame["t2m_c"] / (243.04 + frame["t2m_c"]))
    frame["snow_mm"] = np.where(frame["ptype"].round() == 5, frame["precip_mm"], 0.0)
    frame["fzra_mm"] = np.where(frame["ptype"].round() == 3, frame["precip_mm"], 0.0)
    groups = frame.groupby("segment_id", sort=False)
    for kind in ("precip", "snow", "fzra"):
        for hours in WINDOWS_H:
            frame[f"{kind}_{hours}h"] = groups[f"{kind}_mm"].rolling(hours, min_periods=1).sum().to_numpy()
    frozen = (frame["t2m_c"] <= 0).astype(int)
    frame["hours_below_zero"] = frozen.groupby((frozen != frozen.groupby(frame["segment_id"]).shift()).cumsum()).cumsum()
    frame["hour"] = frame["time"].dt.hour
    frame["dow"] = frame["time"].dt.day_of_week
    frame["bridge"] = frame["bridge"].astype(float)
    return frame


def train(frame: pd.DataFrame, seed: int) -> lgb.Booster:
    """A LightGBM on a 5 % sample with labels from a known hazard (setup, like the bench's model)."""
    rng = np.random.default_rng(seed)
    rows = frame.sample(frac=0.05, random_state=seed)
    logit = -6.5 + 1.5 * np.log1p(rows["fzra_3h"]) + 0.8 * np.log1p(rows["snow_3h"]) + 1.0 * (rows["t2m_c"] < 0)
    label = rng.random(len(rows)) < 1 / (1 + np.exp(-logit))
    data = lgb.Dataset(rows[FEATURES].to_numpy(dtype="float32"), label=label.astype(int))
    return lgb.train({"objective": "binary", "num_leaves": 15, "learning_rate": 0.05, "verbose": -1,
                      "num_threads": 2, "seed": seed}, data, num_boost_round=200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--grid", "--segments", "--start", "--out", "--report"):
        parser.add_argument(name, required=True)
    parser.add_argument("--hours", type=int, default=72)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    segments = pd.read_parquet(args.segments)
    start = pd.Timestamp(args.start)
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def timed(name: str, work):
        began, began_cpu = time.perf_counter(), time.process_time()
        result = work()
        seconds[name], cpu[name] = time.perf_counter() - began, time.process_time() - began_cpu
        return result

    frame = timed("sample", lambda: sample(Path(args.grid), segments, start, args.hours))
    frame = timed("features", lambda: features(frame))
    booster = train(frame, args.seed)  # setup, not timed
    frame["risk"] = timed("predict", lambda: booster.predict(frame[FEATURES].to_numpy(dtype="float32"), num_threads=2))
    timed("write", lambda: frame[["segment_id", "time", "risk"]].to_parquet(args.out, index=False))
    report = {"seconds": round(sum(seconds.values()), 2), "cpu_s": round(sum(cpu.values()), 2),
              "stages": {k: round(v, 2) for k, v in seconds.items()},
              "rows": len(frame), "peak_mib": round(peak_mib(), 1)}
    Path(args.report).write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
