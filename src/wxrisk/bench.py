"""`wxrisk bench`: a synthetic national board through the very steps of a real run, timed.

The network (~184,000 one-km segments) and a 0.25° forecast over China are made up (setup);
then, timed: the grid import and sampling, and `wxrisk.pipeline.STEPS` exactly as the CLI and
the flow run them (plan, score, board, publish). Each stage reports wall-clock and CPU seconds
and the peak resident memory; the process's own high-water mark (VmHWM, what `/usr/bin/time -v`
reports) closes the table. A plain xarray/pandas/LightGBM pipeline of the same shape
(`bench/plain_pipeline.py`) then runs in a process of its own, as the yardstick.

Targets (issue 16, 2 cores): the board end to end in at most 60 s, the whole process at most
4 GiB, training setup included; the plain pipeline at least 2.4 times slower.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import resource
import subprocess
import sys
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
from wxrisk.vocab import insert_frame

BENCH_START = datetime(2024, 2, 1, 21)  # the demo event's board hour [UTC]
CHINA_BBOX = (73.0, 18.0, 135.0, 54.0)  # W, S, E, N [degrees]
TRAINING_SEGMENTS = 12_000  # segments whose features train the bench model (setup)
TARGETS = {"board_s": 60, "process_peak_mib": 4096, "plain_over_ours": 2.4}
PLAIN_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "plain_pipeline.py"


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


def high_water_mib() -> float:
    """The kernel's record of this process's peak resident memory (VmHWM) [MiB]."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return psutil.Process().memory_info().rss / 2**20


def process_cpu_s() -> float:
    """User + system CPU seconds of this process so far (its threads included, children not)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class BenchReport:
    segments: int
    hours: int
    stages: list[dict] = field(default_factory=list)
    machine: dict = field(default_factory=dict)
    score_parts: dict = field(default_factory=dict)
    process_peak_mib: float = 0.0
    process_cpu_s: float = 0.0  # user + sys of the whole bench process, setup included, plain pipeline not
    plain: dict = field(default_factory=dict)
    board_latency: dict = field(default_factory=dict)

    @property
    def total_s(self) -> float:
        return sum(stage["seconds"] for stage in self.stages if stage["timed"])

    @property
    def cpu_s(self) -> float:
        return sum(stage["cpu_s"] for stage in self.stages if stage["timed"])

    @property
    def peak_mib(self) -> float:
        return max((stage["peak_mib"] for stage in self.stages), default=0.0)

    def table(self) -> str:
        lines = [f"{'stage':<34}{'seconds':>9}{'CPU s':>8}{'peak MiB':>10}{'rows':>13}{'rows/s':>12}"]
        for stage in self.stages:
            rate = f"{stage['rows'] / stage['seconds']:,.0f}" if stage["rows"] and stage["seconds"] else ""
            mark = "" if stage["timed"] else " (setup)"
            lines.append(f"{stage['name'] + mark:<34}{stage['seconds']:>9.2f}{stage['cpu_s']:>8.1f}"
                         f"{stage['peak_mib']:>10,.0f}{stage['rows']:>13,}{rate:>12}")
            if stage["name"] == "score":
                lines += [f"  {part:<32}{seconds:>9.2f}" for part, seconds in self.score_parts.items()]
        lines.append(f"{'board end to end':<34}{self.total_s:>9.2f}{self.cpu_s:>8.1f}{self.peak_mib:>10,.0f}")
        lines.append(f"whole process, setup included (as /usr/bin/time -v): peak {self.process_peak_mib:,.0f} MiB "
                     f"(VmHWM), {self.process_cpu_s:.1f} s CPU (user + sys)")
        if self.plain.get("seconds"):
            lines.append(f"plain xarray/pandas/LightGBM pipeline, same shape: {self.plain['seconds']:.2f} s "
                         f"({self.plain.get('cpu_s', float('nan')):.1f} s CPU), peak {self.plain['peak_mib']:,.0f} MiB: "
                         f"{self.plain['seconds'] / self.total_s:.1f}x our time, "
                         f"{self.plain.get('cpu_s', float('nan')) / self.cpu_s:.1f}x our CPU time")
        elif self.plain.get("skipped"):
            lines.append(f"plain pipeline: {self.plain['skipped']}")
        lines.append(f"{self.segments:,} segments x {self.hours} h on {self.machine.get('cpus')} cores, "
                     f"{self.machine.get('memory_gib')} GiB ({self.machine.get('processor') or self.machine.get('machine')}), "
                     f"load average {self.machine.get('load_average')} at the start")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"segments": self.segments, "hours": self.hours, "total_s": round(self.total_s, 2),
                "cpu_s": round(self.cpu_s, 2), "peak_mib": round(self.peak_mib, 1),
                "process_peak_mib": round(self.process_peak_mib, 1), "process_cpu_s": round(self.process_cpu_s, 1),
                "stages": self.stages, "score_parts": self.score_parts, "plain": self.plain,
                "machine": self.machine, "board_latency_s": self.board_latency, "targets": TARGETS}


def machine_facts() -> dict:
    return {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "machine": platform.machine(), "processor": platform.processor(), "python": platform.python_version(),
            "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
            "when": datetime.now().isoformat(timespec="seconds")}


@contextmanager
def _stage(report: BenchReport, memory: PeakMemory, name: str, rows: int = 0, timed: bool = True, progress=print):
    gc.collect()
    memory.reset()
    started, cpu = time.perf_counter(), time.process_time()
    record = {"name": name, "rows": rows, "timed": timed}
    yield record
    record["seconds"] = round(time.perf_counter() - started, 3)
    record["cpu_s"] = round(time.process_time() - cpu, 2)
    record["peak_mib"] = round(memory.peak_mib, 1)
    report.stages.append(record)
    progress(f"{name}: {record['seconds']:.2f} s ({record['cpu_s']:.1f} s CPU), peak {record['peak_mib']:,.0f} MiB")


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
    logit = -6.5 + 1.5 * np.log1p(fzra) + 0.8 * np.log1p(snow) + 1.0 * cold
    hit = np.flatnonzero(rng.random(len(features)) < 1 / (1 + np.exp(-logit)))
    return pd.DataFrame({
        "incident_id": [f"bench-{i}" for i in hit],
        "occurred_at": pd.to_datetime(features["valid_time"].to_numpy()[hit]) - pd.Timedelta(minutes=30),
        "segment_id": features["segment_id"].astype(str).to_numpy()[hit], "source": "bench", "synthetic": True,
    })


def train_bench_model(con, settings: Settings, hours: int, issued: datetime, seed: int) -> int:
    """A real LightGBM trained on the features of the first TRAINING_SEGMENTS segments (setup)."""
    from wxrisk.features import feature_window, tile_features
    from wxrisk.model.train import train_model

    window = feature_window(con, settings, BENCH_START, BENCH_START + timedelta(hours=hours), "forecast", issued)
    features = tile_features(con, window, 0, min(TRAINING_SEGMENTS, len(window.segments))).frame
    insert_frame(con, "incidents", synthetic_incidents(features, seed))
    train_model(con, settings, promote=True, progress=lambda _: None, seed=seed, features_frame=features)
    return len(features)


def run_plain(workdir: Path, grid: Path, hours: int, seed: int, progress=print) -> dict:
    """The plain pipeline of `bench/plain_pipeline.py` in a process of its own: its seconds and peak."""
    if not PLAIN_SCRIPT.exists():
        return {"skipped": f"{PLAIN_SCRIPT} not found (run the bench from the repository)"}
    out = workdir / "plain.json"
    command = [sys.executable, str(PLAIN_SCRIPT), "--grid", str(grid), "--segments", str(workdir / "segments.parquet"),
               "--start", BENCH_START.isoformat(), "--hours", str(hours), "--seed", str(seed),
               "--out", str(workdir / "plain-risk.parquet"), "--report", str(out)]
    progress("plain xarray/pandas/LightGBM pipeline of the same shape (a process of its own)")
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode != 0:
        return {"skipped": f"plain pipeline failed: {(finished.stderr.strip().splitlines() or ['?'])[-1]}"}
    return json.loads(out.read_text(encoding="utf-8"))


def run_bench(settings: Settings, segments: int = 184_000, hours: int = 72, out: Path | None = None,
              seed: int = 7, plain: bool = True, progress=print) -> BenchReport:
    """Build a national world in `settings.data_dir`, time the board's steps, write `out` (JSON)."""
    from wxrisk import pipeline
    from wxrisk.store import connect
    from wxrisk.weather.importer import import_weather

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.db_path.unlink(missing_ok=True)
    report = BenchReport(segments, hours, machine=machine_facts())
    memory = PeakMemory()
    issued = BENCH_START - timedelta(hours=1)
    grid = settings.data_dir / "bench-forecast.nc"
    try:
        with _stage(report, memory, "network + grid", segments, timed=False, progress=progress):
            network = national_segments(segments, seed)
            network[["segment_id", "lon", "lat", "elevation_m", "bridge"]].to_parquet(
                settings.data_dir / "segments.parquet", index=False)
            with connect(settings.db_path) as con:
                insert_frame(con, "segments", network)
            del network
            national_forecast_grid(grid, hours + 1, issued, seed)
        with _stage(report, memory, "grid import + sampling", segments * hours, progress=progress), \
                connect(settings.db_path) as con:
            import_weather(con, settings, [grid], kind="forecast", issued=issued)
        with _stage(report, memory, "model training", timed=False, progress=progress) as record, \
                connect(settings.db_path) as con:
            record["rows"] = train_bench_model(con, settings, hours, issued, seed)

        def timed(name: str):
            return _stage(report, memory, name, segments * hours if name != "plan" else 0, progress=progress)

        state = pipeline.run_steps(pipeline.RunState(settings, BENCH_START, hours, progress=progress), around=timed)
        report.score_parts = {part: round(s, 2) for part, s in state.summary.seconds.items()}
    finally:
        memory.close()
    report.process_peak_mib = high_water_mib()
    report.process_cpu_s = process_cpu_s()
    report.plain = run_plain(settings.data_dir, grid, hours, seed, progress) if plain else {"skipped": "--no-plain"}
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
    return report
