"""A synthetic world with a known generating hazard, written to a real DuckDB file.

Three winters (20 January days each) over 80 segments. Incidents are drawn from
logit P = -6.3 + 1.3·fzra_mm + 0.7·snowfall_mm + 0.3·max(0, -road_temp_c)·[precip_mm > 0]
         + 0.9·bridge + 1.2·ln(traffic_ratio)
so risk rises with freezing rain, snow, cold wet surfaces, bridges and traffic, as the
monotone constraints of `SPECS` say. The hour of day is noise the model must not need.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from wxrisk.config import Settings
from wxrisk.features.spec import FeatureSpec
from wxrisk.model.train import TrainConfig
from wxrisk.store import connect

SPECS = [
    FeatureSpec("fzra_mm", "mm", 1, "冻雨", "freezing rain"),
    FeatureSpec("snowfall_mm", "mm", 1, "降雪", "snowfall"),
    FeatureSpec("road_temp_c", "°C", -1, "路面温度", "road surface temperature"),
    FeatureSpec("precip_mm", "mm", 1, "降水", "precipitation"),
    FeatureSpec("bridge", "", 1, "桥梁", "bridge", decimals=None),
    FeatureSpec("traffic_ratio", "×", 1, "春运车流", "travel-rush traffic"),
    FeatureSpec("hour_of_day", "h", 0, "时段", "hour of day", decimals=0),
]

FAST = TrainConfig(target_rows=40_000, rounds_max=150, learning_rate=0.1, min_data_in_leaf=40, share_rounds_max=100,
                   num_threads=1)

WINTER_STARTS = [datetime(2023, 1, 5), datetime(2024, 1, 5), datetime(2025, 1, 5)]


def true_logit(frame: pd.DataFrame) -> np.ndarray:
    cold_wet = np.maximum(0.0, -frame["road_temp_c"]) * (frame["precip_mm"] > 0)
    return (-6.3 + 1.3 * frame["fzra_mm"] + 0.7 * frame["snowfall_mm"] + 0.3 * cold_wet
            + 0.9 * frame["bridge"] + 1.2 * np.log(frame["traffic_ratio"])).to_numpy()


def synthetic_features(seed: int = 11, n_segments: int = 80, days: int = 20) -> pd.DataFrame:
    """Hourly features of every segment over the three winters (float32, like build_features)."""
    rng = np.random.default_rng(seed)
    hours = pd.DatetimeIndex(np.concatenate([pd.date_range(s, periods=days * 24, freq="h") for s in WINTER_STARTS]))
    n_hours = len(hours)
    seg_cold = rng.normal(0, 1.5, n_segments)                 # frost hollows, elevation
    bridge = (rng.random(n_segments) < 0.15).astype(float)
    hod = hours.hour.to_numpy()
    air_c = -1.0 + 4.0 * np.sin(2 * np.pi * (hod - 9) / 24) + np.cumsum(rng.normal(0, 0.4, n_hours)) * 0.3
    storm = np.convolve(rng.random(n_hours) < 0.03, np.ones(8), mode="same") > 0
    regional_precip = np.where(storm, rng.gamma(1.5, 1.0, n_hours), 0.0)
    freezing_type = rng.random(n_hours) < 0.4
    rush = 1.0 + 1.2 * ((hours.day.to_numpy() % 10) < 4) * np.clip(np.sin(np.pi * (hod - 6) / 14), 0, None)

    road = air_c[:, None] - seg_cold[None, :] - 1.0 * bridge[None, :] + rng.normal(0, 0.7, (n_hours, n_segments))
    precip = regional_precip[:, None] * rng.uniform(0.5, 1.5, (n_hours, n_segments))
    snow = np.where(road < -2.0, precip, 0.0)
    fzra = np.where(freezing_type[:, None] & (road >= -2.0) & (road < 0.5), precip, 0.0)
    frame = pd.DataFrame({
        "segment_id": np.tile([f"S{i:03d}" for i in range(n_segments)], n_hours),
        "valid_time": np.repeat(hours.to_numpy(), n_segments),
        "fzra_mm": fzra.ravel(),
        "snowfall_mm": snow.ravel(),
        "road_temp_c": road.ravel(),
        "precip_mm": precip.ravel(),
        "bridge": np.tile(bridge, n_hours),
        "traffic_ratio": np.repeat(rush, n_segments),
        "hour_of_day": np.repeat(hod.astype(float), n_segments),
    })
    return frame.astype({s.name: "float32" for s in SPECS})


def write_incidents(con, frame: pd.DataFrame, seed: int = 5) -> int:
    """Draw incidents from the true hazard and insert them, 30 min into their hour; returns the count."""
    rng = np.random.default_rng(seed)
    p = 1.0 / (1.0 + np.exp(-true_logit(frame)))
    hit = frame.loc[rng.random(len(frame)) < p, ["segment_id", "valid_time", "road_temp_c"]].reset_index(drop=True)
    road_c = hit["road_temp_c"].to_numpy()
    incidents = pd.DataFrame({
        "incident_id": [f"I{i}" for i in range(len(hit))],
        "occurred_at": hit["valid_time"] - pd.Timedelta(minutes=30),
        "segment_id": hit["segment_id"],
        # ice/snow incidents mostly on a frozen road: the share model has something to learn
        "surface": np.where(rng.random(len(hit)) < np.where(road_c < 0, 0.85, 0.1), "ice", "dry"),
    })
    con.register("new_incidents", incidents)
    con.execute("INSERT INTO incidents (incident_id, occurred_at, segment_id, surface, source) "
                "SELECT incident_id, occurred_at, segment_id, surface, 'synthetic-test' FROM new_incidents")
    con.unregister("new_incidents")
    return len(hit)


def write_segments_and_weather(con, frame: pd.DataFrame) -> None:
    """The segments and the analysis hours the features came from (exposure for history baselines)."""
    keys = frame[["segment_id", "valid_time", "road_temp_c", "precip_mm"]]
    con.register("frame_keys", keys)
    con.execute("INSERT INTO segments (segment_id, source, km_from, km_to, length_km, lon, lat, path_json) "
                "SELECT DISTINCT segment_id, 'synthetic-test', 0, 1, 1, 116.0, 40.0, '[]' FROM frame_keys")
    con.execute("INSERT INTO weather_hourly (segment_id, valid_time, kind, skt_c, precip_mm, source) "
                "SELECT segment_id, valid_time, 'analysis', road_temp_c, precip_mm, 'synthetic-test' FROM frame_keys")
    con.unregister("frame_keys")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(connection, settings, features) of the synthetic world, one per test module."""
    root = tmp_path_factory.mktemp("world")
    con = connect(root / "world.duckdb")
    features = synthetic_features()
    write_segments_and_weather(con, features)
    write_incidents(con, features)
    settings = Settings(db_path=root / "world.duckdb", models_dir=root / "models", data_dir=root)
    yield con, settings, features
    con.close()


@pytest.fixture(scope="module")
def trained(world):
    """The first model of the world's registry (promoted: it becomes champion) and its report."""
    from wxrisk.model.train import train_model

    con, settings, features = world
    lines: list[str] = []
    report = train_model(con, settings, features_frame=features, specs=SPECS, config=FAST, progress=lines.append,
                         promote=True)
    return report, lines


@pytest.fixture
def specs() -> list[FeatureSpec]:
    return list(SPECS)


@pytest.fixture
def fast() -> TrainConfig:
    return FAST


@pytest.fixture(scope="module")
def truth_file(world, tmp_path_factory):
    """The world's known hazard as a scenario truth.parquet (expected incidents = -ln(1 - p); half of it ice)."""
    _, _, features = world
    p = 1.0 / (1.0 + np.exp(-true_logit(features)))
    truth = pd.DataFrame({"segment_id": features["segment_id"], "valid_time": features["valid_time"],
                          "expected_incidents": -np.log1p(-p), "expected_ice_incidents": -np.log1p(-p * 0.5)})
    path = tmp_path_factory.mktemp("truth") / "truth.parquet"
    truth.to_parquet(path)
    return path
