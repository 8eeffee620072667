"""lightgbm.dask on a LocalCluster learns the hazard and honours monotone constraints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from wxrisk.distributed import dask_client, predict_local, train_booster_on_dask

pytestmark = pytest.mark.slow


def _hazard_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"fzra_mm": rng.gamma(0.5, 1.0, n), "road_temp_c": rng.normal(2, 4, n),
                          "noise": rng.normal(0, 1, n)})
    logit = -4 + 1.2 * frame["fzra_mm"] - 0.4 * frame["road_temp_c"]
    frame["incident"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def test_dask_training_learns_and_respects_monotone_constraints():
    train, test = _hazard_frame(20_000, 1), _hazard_frame(5_000, 2)
    features = ["fzra_mm", "road_temp_c", "noise"]
    params = {"learning_rate": 0.1, "num_leaves": 15, "monotone_constraints": [1, -1, 0], "verbose": -1,
              "seed": 7}
    with dask_client(n_workers=2) as client:
        booster = train_booster_on_dask(client, train, features, "incident", params, num_boost_round=60)
    assert roc_auc_score(test["incident"], predict_local(booster, test, features)) > 0.75
    probe = pd.DataFrame({"fzra_mm": np.linspace(0, 8, 50), "road_temp_c": 0.0, "noise": 0.0})
    assert np.all(np.diff(predict_local(booster, probe, features)) >= -1e-12), "more freezing rain never lowers risk"


def test_wxrisk_train_dask_trains_and_registers_a_model_through_lightgbm_dask(world_copy):
    env, _ = world_copy
    before = {p.name for p in Path(env["WXRISK_MODELS"]).iterdir() if p.is_dir()}
    result = subprocess.run([sys.executable, "-m", "wxrisk.cli", "train", "--dask"], capture_output=True, text=True,
                            env={**os.environ, **env, "WXRISK_DASK_ADDRESS": ""}, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "training on the Dask cluster" in result.stdout and "chosen by rolling origin" in result.stdout
    [trained] = [p for p in Path(env["WXRISK_MODELS"]).iterdir() if p.is_dir() and p.name not in before]
    meta = json.loads((trained / "meta.json").read_text(encoding="utf-8"))
    assert meta["metrics"]["model"]["pr_auc"] > meta["metrics"]["historical_average"]["pr_auc"] * 0.5
