"""Spreading work over a Dask cluster: `WXRISK_DASK_ADDRESS` names a real one, else a local one.

Scoring tiles run through Prefect's Dask task runner (`flows.pipeline.dask_task_runner`);
training on a large history runs through `lightgbm.dask` here.
"""

from __future__ import annotations

import os

import lightgbm as lgb
import numpy as np
import pandas as pd


def dask_client(address: str | None = None, n_workers: int = 2):
    """A client of the cluster at `address` / `WXRISK_DASK_ADDRESS`, or of a new local cluster."""
    from distributed import Client

    address = address or os.environ.get("WXRISK_DASK_ADDRESS")
    if address:
        return Client(address)
    # A client that starts its own LocalCluster also shuts it down when closed.
    return Client(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)


def train_booster_on_dask(
    client,
    frame: pd.DataFrame,
    feature_names: list[str],
    label: str,
    params: dict,
    num_boost_round: int = 200,
    weight: str | None = None,
) -> lgb.Booster:
    """Train a LightGBM binary model with data partitioned over the cluster's workers."""
    import dask.dataframe as dd
    from lightgbm.dask import DaskLGBMClassifier

    n_parts = max(1, len(client.scheduler_info()["workers"]))
    columns = [*feature_names, label] + ([weight] if weight else [])
    data = dd.from_pandas(frame[columns], npartitions=n_parts).persist()
    model = DaskLGBMClassifier(client=client, n_estimators=num_boost_round, **params)
    model.fit(data[feature_names], data[label], sample_weight=data[weight] if weight else None)
    return model.to_local().booster_


def predict_local(booster: lgb.Booster, frame: pd.DataFrame, feature_names: list[str]) -> np.ndarray:
    return booster.predict(frame[feature_names].to_numpy(dtype="float32"))
