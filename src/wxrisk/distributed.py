"""Spreading work over a Dask cluster: `scoring.dask_address` (or `WXRISK_DASK_ADDRESS`) names a real
one, else a local one is started.

Scoring tiles run through Prefect's Dask task runner (`wxrisk.flows.pipeline.dask_task_runner`);
`wxrisk train --dask` trains through `lightgbm.dask` here (`fit_booster_on_dask`).
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd


def dask_client(address: str | None = None, n_workers: int = 2):
    """A client of the cluster at `address` (settings.dask_address), or of a new local cluster."""
    from distributed import Client

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
    init_score: str | None = None,
) -> lgb.Booster:
    """Train a LightGBM binary model with data partitioned over the cluster's workers
    (`init_score`: a column of fixed log-odds the trees start from)."""
    import dask.dataframe as dd
    from lightgbm.dask import DaskLGBMClassifier

    n_parts = max(1, len(client.scheduler_info()["workers"]))
    columns = [*feature_names, label] + [c for c in (weight, init_score) if c]
    data = dd.from_pandas(frame[columns], npartitions=n_parts).persist()
    model = DaskLGBMClassifier(client=client, n_estimators=num_boost_round, **params)
    model.fit(data[feature_names], data[label], sample_weight=data[weight] if weight else None,
              init_score=data[init_score] if init_score else None)
    return model.to_local().booster_


def predict_local(booster: lgb.Booster, frame: pd.DataFrame, feature_names: list[str]) -> np.ndarray:
    return booster.predict(frame[feature_names].to_numpy(dtype="float32"))


def fit_booster_on_dask(client, learner, rows: pd.DataFrame, progress) -> lgb.Booster:
    """The final risk trees of `wxrisk.model.train` grown on a Dask cluster: the training rows are
    partitioned over the workers and trained with `lightgbm.dask`, with the learner's parameters,
    weights, offset and the number of rounds rolling-origin validation chose."""
    params = {k: v for k, v in learner.lightgbm_params().items() if k not in ("metric", "num_threads", "verbose")}
    progress(f"training on the Dask cluster {client.scheduler.address} ({len(client.scheduler_info()['workers'])} "
             f"workers), {learner.rounds} rounds chosen by rolling origin")
    frame = rows[list(learner.features)].assign(label=rows[learner.label].astype(int), weight=rows["weight"])
    offset = learner.base_margin(rows)
    if offset is not None:
        frame = frame.assign(offset=offset)
    return train_booster_on_dask(client, frame, list(learner.features), "label", params, learner.rounds,
                                 weight="weight", init_score="offset" if offset is not None else None)
