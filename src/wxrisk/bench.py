"""`wxrisk bench`: a synthetic national network through every stage, timed, with peak memory.

Targets (issue 10, 2 cores / 24 GiB): the national 72 h board (~184,000 one-km segments,
~13 million segment-hours) in at most 120 s end to end with at most 8 GiB peak memory, and
prediction of at least 0.5 million rows/s.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from wxrisk.config import Settings

BENCH_START = datetime(2024, 2, 1, 21)  # the demo event's board hour [UTC]
CHINA_BBOX = (73.0, 18.0, 135.0, 54.0)  # W, S, E, N [degrees]


class PeakMemory:
    """Samples this process's resident memory every 20 ms; `peak_mib` since the last reset."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self._peak = max(self._peak, self._process.memory_info().rss)

    def reset(self) -> None:
        self._peak = self._process.memory_info().rss

    @property
    def peak_mib(self) -> float:
        return max(self._peak, self._process.memory_info().rss) / 2**20

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class BenchReport:
    segments: int
    hours: int
    stages: list[dict] = field(default_factory=list)
    machine: dict = field(default_factory=dict)
    board_latency: dict = field(default_factory=dict)

    @property
    def total_s(self) -> float:
        return sum(stage["seconds"] for stage in self.stages if stage["timed"])

    @property
    def peak_mib(self) -> float:
        return max((stage["peak_mib"] for stage in self.stages), default=0.0)

    def table(self) -> str:
        lines = [f"{'stage':<28}{'seconds':>10}{'peak MiB':>11}{'rows':>14}{'rows/s':>14}"]
        for stage in self.stages:
            rate = f"{stage['rows'] / stage['seconds']:,.0f}" if stage["rows"] and stage["seconds"] else ""
            mark = "" if stage["timed"] else " (setup)"
            lines.append(f"{stage['name'] + mark:<28}{stage['seconds']:>10.2f}{stage['peak_mib']:>11,.0f}"
                         f"{stage['rows']:>14,}{rate:>14}")
        lines.append(f"{'board end to end':<28}{self.total_s:>10.2f}{self.peak_mib:>11,.0f}")
        lines.append(f"{self.segments:,} segments x {self.hours} h on {self.machine.get('cpus')} cores, "
                     f"{self.machine.get('memory_gib')} GiB ({self.machine.get('processor') or self.machine.get('machine')})")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"segments": self.segments, "hours": self.hours, "total_s": round(self.total_s, 2),
                "peak_mib": round(self.peak_mib, 1), "stages": self.stages, "machine": self.machine,
                "board_latency_s": self.board_latency,
                "targets": {"total_s": 120, "peak_mib": 8192, "prediction_rows_per_s": 500_000}}


def machine_facts() -> dict:
    return {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "machine": platform.machine(), "processor": platform.processor(), "python": platform.python_version(),
            "when": datetime.now().isoformat(timespec="seconds")}


@contextmanager
def _stage(report: BenchReport, memory: PeakMemory, name: str, rows: int = 0, timed: bool = True, progress=print):
    memory.reset()
    started = time.perf_counter()
    record = {"name": name, "rows": rows, "timed": timed}
    yield record
    record["seconds"] = round(time.perf_counter() - started, 3)
    record["peak_mib"] = round(memory.peak_mib, 1)
    report.stages.append(record)
    progress(f"{name}: {record['seconds']:.2f} s, peak {record['peak_mib']:,.0f} MiB")


def national_segments(n_segments: int, seed: int = 7, km_per_road: int = 400) -> pd.DataFrame:
    """Synthetic expressways across China: straight-ish 1 km pieces of roads of `km_per_road` km."""
    rng = np.random.default_rng(seed)
    n_roads = max(1, int(np.ceil(n_segments / km_per_road)))
    west, south, east, north = CHINA_BBOX
    start_lon = rng.uniform(west + 30, east - 8, n_roads)
    start_lat = rng.uniform(south + 3, north - 8, n_roads)
    heading = rng.uniform(0, 2 * np.pi, n_roads)
    road = np.repeat(np.arange(n_roads), km_per_road)[:n_segments]
    km = np.tile(np.arange(km_per_road), n_roads)[:n_segments].astype(float)
    wiggle = 0.3 * np.sin(km / 37.0 + road)
    step_lon = np.cos(heading[road] + wiggle) / (111.32 * np.cos(np.radians(start_lat[road])))
    step_lat = np.sin(heading[road] + wiggle) / 110.57
    lon0 = np.clip(start_lon[road] + step_lon * km, west, east)
    lat0 = np.clip(start_lat[road] + step_lat * km, south, north)
    lon1, lat1 = lon0 + step_lon, lat0 + step_lat
    return pd.DataFrame({
        "segment_id": [f"N{r:04d}-{int(k):04d}" for r, k in zip(road, km, strict=True)],
        "source": "bench", "feature_id": [f"N{r:04d}" for r in road], "road_ref": [f"G{r % 99 + 1}" for r in road],
        "name": "synthetic national", "highway": "motorway", "province": None,
        "km_from": km, "km_to": km + 1, "length_km": 1.0,
        "lon": (lon0 + lon1) / 2, "lat": (lat0 + lat1) / 2,
        "path_json": [f"[[{a:.5f},{b:.5f}],[{c:.5f},{d:.5f}]]" for a, b, c, d in zip(lon0, lat0, lon1, lat1, strict=True)],
        "bridge": rng.random(n_segments) < 0.05, "tunnel": rng.random(n_segments) < 0.03,
        "is_ramp": False, "oneway": True, "lanes": rng.choice([2, 3, 4], n_segments),
        "maxspeed_kmh": 120.0, "elevation_m": rng.gamma(2.0, 200.0, n_segments),
        "grade_pct": rng.gamma(1.2, 1.0, n_segments), "curvature_deg_per_km": rng.gamma(1.5, 3.0, n_segments),
        "aadt": rng.lognormal(10.3, 0.4, n_segments), "synthetic": True, "import_id": 0,
    })


def national_forecast_grid(path: Path, hours: int, issued: datetime, seed: int = 7) -> Path:
    """A 0.25° forecast over China: cold north, a moving freezing-rain band, diurnal cycle (NetCDF)."""
    import xarray as xr

    rng = np.random.default_rng(seed)
    west, south, east, north = CHINA_BBOX
    lat = np.arange(north, south - 0.01, -0.25)
    lon = np.arange(west, east + 0.01, 0.25)
    times = pd.date_range(issued + timedelta(hours=1), periods=hours, freq="h")
    hour = np.arange(hours)[:, None, None]
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    t2m_c = 18 - 0.9 * (la - 22) + 4 * np.sin(2 * np.pi * (hour + 8 - 14) / 24) + rng.normal(0, 1, (hours, 1, 1))
    band = np.exp(-((la - (29 + 0.03 * hour)) ** 2) / 2.0) * np.exp(-((lo - 113) ** 2) / 60.0)
    precip_mm = np.clip(2.5 * band + rng.normal(0, 0.1, band.shape), 0, None)
    ptype = np.where(precip_mm < 0.1, 0, np.where(t2m_c < -2, 5, np.where(t2m_c < 1, 3, 1)))
    dims = ("time", "latitude", "longitude")
    grid = xr.Dataset(
        {"t2m": (dims, (t2m_c + 273.15).astype("float32"), {"units": "K", "standard_name": "air_temperature"}),
         "d2m": (dims, (t2m_c - 2 + 273.15).astype("float32"), {"units": "K", "standard_name": "dew_point_temperature"}),
         "tp": (dims, (precip_mm / 1000).astype("float32"), {"units": "m", "standard_name": "precipitation_amount"}),
         "ptype": (dims, ptype.astype("float32"), {"units": "1"}),
         "u10": (dims, np.full(t2m_c.shape, 3.0, "float32"), {"units": "m s-1"}),
         "v10": (dims, np.full(t2m_c.shape, 1.0, "float32"), {"units": "m s-1"})},
        coords={"time": times.values, "latitude": lat, "longitude": lon},
        attrs={"synthetic": 1, "kind": "forecast", "issued_at": issued.isoformat()},
    )
    grid.to_netcdf(path)
    return path


def synthetic_incidents(features: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Incidents drawn from a known hazard on the features, so the bench model is a real LightGBM."""
    rng = np.random.default_rng(seed)
    fzra = np.nan_to_num(features["fzra_mm_3h"].to_numpy(dtype="float64", na_value=np.nan))
    snow = np.nan_to_num(features["snow_mm_3h"].to_numpy(dtype="float64", na_value=np.nan))
    cold = np.nan_to_num(features["road_temp_c"].to_numpy(dtype="float64", na_value=np.nan), nan=5.0) < 0
    logit = -8.0 + 1.5 * np.log1p(fzra) + 0.8 * np.log1p(snow) + 1.0 * cold
    hit = np.flatnonzero(rng.random(len(features)) < 1 / (1 + np.exp(-logit)))
    return pd.DataFrame({
        "incident_id": [f"bench-{i}" for i in hit],
        "occurred_at": pd.to_datetime(features["valid_time"].to_numpy()[hit]) - pd.Timedelta(minutes=30),
        "segment_id": features["segment_id"].astype(str).to_numpy()[hit], "source": "bench", "synthetic": True,
    })


def run_bench(settings: Settings, segments: int = 184_000, hours: int = 72, out: Path | None = None,
              seed: int = 7, progress=print) -> BenchReport:
    """Build a national world in `settings.data_dir`, time every stage, write `out` (JSON)."""
    from wxrisk import pipeline
    from wxrisk.board.build import build_board
    from wxrisk.features import build_features
    from wxrisk.model.train import train_model
    from wxrisk.store import connect
    from wxrisk.weather.importer import import_weather

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.db_path.unlink(missing_ok=True)
    report = BenchReport(segments, hours, machine=machine_facts())
    memory = PeakMemory()
    issued = BENCH_START - timedelta(hours=1)
    try:
        con = connect(settings.db_path)
        with _stage(report, memory, "network + grid", segments, timed=False, progress=progress):
            network = national_segments(segments, seed)
            con.register("network", network)
            con.execute("INSERT INTO segments BY NAME SELECT * FROM network")
            con.unregister("network")
            del network
            grid = national_forecast_grid(settings.data_dir / "bench-forecast.nc", hours + 1, issued, seed)
        with _stage(report, memory, "grid import + sampling", segments * hours, progress=progress):
            import_weather(con, settings, [grid], kind="forecast", issued=issued)
        with _stage(report, memory, "features", segments * hours, progress=progress):
            features = build_features(con, BENCH_START, BENCH_START + timedelta(hours=hours), "forecast", issued)
        with _stage(report, memory, "model training", timed=False, progress=progress):
            incidents = synthetic_incidents(features, seed)
            con.register("bench_incidents", incidents)
            con.execute("INSERT INTO incidents BY NAME SELECT * FROM bench_incidents")
            con.unregister("bench_incidents")
            train_model(con, settings, promote=True, progress=lambda _: None, seed=seed, features_frame=features)
            del incidents
            gc.collect()
            plan = pipeline.plan_run(con, settings, BENCH_START, hours)
        with _stage(report, memory, "prediction + tiers", len(features), progress=progress):
            scored = pipeline.tier_board(settings, pipeline.score_features(settings, plan, features))
        with _stage(report, memory, "risk written", len(scored), progress=progress):
            pipeline.store_risk(con, plan, scored)
        with _stage(report, memory, "stretches + dispatch", len(scored), progress=progress):
            build_board(con, settings, plan.run_id, pipeline.ScoredBoard(plan.run_id, scored, pipeline.board_rules(settings)))
        with _stage(report, memory, "publication", len(scored), progress=progress):
            pipeline.complete_run(con, settings, plan, features)
        con.close()
    finally:
        memory.close()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
    return report
