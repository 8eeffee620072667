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


EVALUATE_EVERY = 10  # boosting rounds between the validation checks that stand in for early stopping


def fit_booster_on_dask(client, frames: dict[str, pd.DataFrame], specs, config, seed: int, progress) -> lgb.Booster:
    """`wxrisk.model.train.fit_booster` on a Dask cluster: the training rows are partitioned over the
    workers and trained with `lightgbm.dask`.

    lightgbm.dask has no early stopping, so all `config.num_boost_round` rounds are grown and the
    model is then cut at the round (a multiple of EVALUATE_EVERY) with the best validation average
    precision, the metric `fit_booster` stops on.
    """
    from sklearn.metrics import average_precision_score

    from wxrisk.model.dataset import downsample_negatives
    from wxrisk.model.train import lightgbm_params

    names = [s.name for s in specs]
    params = lightgbm_params(specs, config, seed, len(frames["train"]))
    params = {k: v for k, v in params.items() if k not in ("metric", "first_metric_only", "num_threads", "verbose")}
    progress(f"training on the Dask cluster {client.scheduler.address} ({len(client.scheduler_info()['workers'])} "
             f"workers), {config.num_boost_round} rounds")
    booster = train_booster_on_dask(client, frames["train"].assign(label=frames["train"]["label"].astype(int)),
                                    names, "label", params, config.num_boost_round, weight="weight")
    valid = downsample_negatives(frames["valid"], config.negative_rate, seed)
    x, y, w = valid[names].to_numpy(dtype="float32"), valid["label"].to_numpy(), valid["weight"].to_numpy()
    rounds = list(range(EVALUATE_EVERY, booster.current_iteration() + 1, EVALUATE_EVERY)) or [booster.current_iteration()]
    scores = [average_precision_score(y, booster.predict(x, num_iteration=r), sample_weight=w) for r in rounds]
    best = rounds[int(np.argmax(scores))]
    progress(f"best round {best} of {booster.current_iteration()} (validation average precision {max(scores):.4f})")
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
