"""Train, calibrate and evaluate a challenger; register it; promote it only if it is better.

Steps (each reported through `progress`): find the analysed hours -> split them by winter
(`dataset.split_by_winter`) -> load features per winter, label, thin negatives -> LightGBM with
monotone constraints from the specs, early stopping on the validation period -> calibration on
the validation period -> metrics on the held-out test period beside the two baselines -> the
champion scored on the same test rows -> registry folder (model, calibrator, meta, card) ->
champion pointer. Deterministic: same data and seed give the same model (`deterministic=True`,
fixed `num_threads`, no bagging, order-independent thinning, rows sorted before training).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import lightgbm as lgb
import numpy as np
import pandas as pd

from wxrisk.config import Settings, WxriskError
from wxrisk.features.spec import FeatureSpec
from wxrisk.model import baselines
from wxrisk.model.calibrate import fit_calibrator
from wxrisk.model.dataset import (
    TimeSplit,
    analysis_features,
    downsample_negatives,
    incident_hours,
    label_frame,
    normalise_keys,
    split_by_winter,
    training_frame,
    winter_chunks,
)
from wxrisk.model.metrics import Metrics, metrics_table, score_metrics
from wxrisk.model.predict import feature_matrix
from wxrisk.model.registry import (
    LoadedModel,
    champion_version,
    feature_list_version,
    load_model,
    save_version,
    set_champion,
    specs_to_json,
)

LABEL_DEFINITION = ("1 when at least one incident matched to the segment occurred in the hour ending at "
                    "valid_time (valid_time - 1 h <= occurred_at < valid_time), else 0")


@dataclass(frozen=True)
class TrainConfig:
    """Tunable training constants; override any of them in `settings.extra["model"]`."""

    num_boost_round: int = 600
    early_stopping_rounds: int = 50
    learning_rate: float = 0.03
    num_leaves: int = 15
    min_data_in_leaf: int = 500         # capped at 5 % of the training rows, so small regions still split
    lambda_l2: float = 1.0
    negative_rate: float = 0.1          # share of incident-free segment-hours kept for training
    weather_related_only: bool = False  # label only incidents with an icy/snowy surface or weather
    calibration: str = "platt"          # platt | isotonic
    num_threads: int = 2
    log_every: int = 50                 # progress line every this many boosting rounds

    @classmethod
    def from_settings(cls, settings: Settings) -> TrainConfig:
        overrides = dict(settings.extra.get("model", {}))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise WxriskError(f"settings model: unknown option(s) {', '.join(unknown)}")
        return replace(cls(), **overrides)


@dataclass
class TrainReport:
    """What `wxrisk train` prints and returns."""

    version: str
    path: Path
    table: str
    promoted: bool
    reason: str
    metrics: dict[str, Metrics]
    split: TimeSplit

    def __str__(self) -> str:
        return f"{self.table}\n{self.reason}"


def lightgbm_params(specs: Sequence[FeatureSpec], config: TrainConfig, seed: int, train_rows: int) -> dict:
    """LightGBM parameters: binary log-loss, monotone constraints from the specs, deterministic.

    Early stopping watches the validation period's average precision (PR-AUC, the promotion
    metric), not its log-loss: winters differ in base rate, and the log-loss would stop as soon
    as the trees' rate drifts from the new winter's, which calibration corrects anyway.
    """
    return {
        "objective": "binary",
        "metric": ["average_precision", "binary_logloss"],
        "first_metric_only": True,
        "learning_rate": config.learning_rate,
        "num_leaves": config.num_leaves,
        "min_data_in_leaf": min(config.min_data_in_leaf, max(10, train_rows // 20)),
        "min_sum_hessian_in_leaf": 1e-3,
        "lambda_l2": config.lambda_l2,
        "monotone_constraints": [int(s.monotone) for s in specs],
        "monotone_constraints_method": "intermediate",
        "feature_pre_filter": False,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": config.num_threads,
        "seed": seed,
        "verbose": -1,
    }


def analysed_hours(con: duckdb.DuckDBPyConnection, until: datetime | None,
                   features_frame: pd.DataFrame | None) -> pd.Series:
    """The hours with analysis features, before `until` when given [UTC]."""
    if features_frame is not None:
        hours = normalise_keys(features_frame)["valid_time"].drop_duplicates()
    else:
        hours = con.execute("SELECT DISTINCT valid_time FROM weather_times WHERE kind = 'analysis'").df()["valid_time"]
    hours = pd.Series(pd.to_datetime(hours)).sort_values()
    return hours[hours < pd.Timestamp(until)] if until is not None else hours


def event_hours(con: duckdb.DuckDBPyConnection, hours: pd.Series, weather_related_only: bool) -> pd.Series:
    """Valid times of the segment-hours with incidents among the analysed `hours` (one per segment-hour)."""
    if hours.empty:
        return pd.Series(dtype="datetime64[us]")
    events = incident_hours(con, hours.iloc[0].to_pydatetime(),
                            (hours.iloc[-1] + pd.Timedelta(hours=1)).to_pydatetime(), weather_related_only)
    return events.loc[events["valid_time"].isin(pd.DatetimeIndex(hours).astype("datetime64[us]")), "valid_time"]


def frame_hash(frame: pd.DataFrame, columns: list[str]) -> str:
    """sha256 of the rows' content (order-sensitive), to record exactly which data trained a version."""
    hashed = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def import_hashes(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The files imported into the database (kind, path, sha256), oldest first."""
    rows = con.execute("SELECT kind, path, file_hash FROM import_ledger ORDER BY import_id").fetchall()
    return [{"kind": k, "path": p, "file_hash": h} for k, p, h in rows]


def progress_callback(progress: Callable[[str], None], every: int) -> Callable:
    """A LightGBM callback printing the validation loss every `every` rounds."""
    def report(env: lgb.callback.CallbackEnv) -> None:
        if (env.iteration + 1) % every == 0:
            scores = ", ".join(f"{data} {name} {value:.5f}" for data, name, value, *_ in env.evaluation_result_list)
            progress(f"  round {env.iteration + 1}: {scores}")
    return report


def load_training_data(con, settings: Settings, split: TimeSplit, hours: pd.Series, features_frame,
                       config: TrainConfig, seed: int, progress: Callable[[str], None]) -> dict[str, pd.DataFrame]:
    """Train rows (thinned, weighted) per winter, and full labelled validation and test rows.

    Only the analysed `hours` are kept (the summers between winters have no weather).
    """
    analysed = pd.DatetimeIndex(hours).astype("datetime64[us]")

    def analysed_span(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
        inside = analysed[(analysed >= pd.Timestamp(start)) & (analysed < pd.Timestamp(end))]
        return None if inside.empty else (inside[0].to_pydatetime(), (inside[-1] + pd.Timedelta(hours=1)).to_pydatetime())

    def only_analysed(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.loc[frame["valid_time"].isin(analysed)]

    parts = []
    for chunk in winter_chunks(*split.period("train")):
        span = analysed_span(*chunk)
        if span is None:
            continue
        progress(f"loading training features {span[0]:%Y-%m-%d %H:%M} to {span[1]:%Y-%m-%d %H:%M}")
        parts.append(only_analysed(training_frame(con, settings, *span, features_frame, config.weather_related_only,
                                                  config.negative_rate, seed)))
    frames = {"train": pd.concat(parts, ignore_index=True)}
    for name in ("valid", "test"):
        start, end = analysed_span(*split.period(name))
        progress(f"loading {name} features {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}")
        labelled = label_frame(con, analysis_features(con, settings, start, end, features_frame),
                               config.weather_related_only)
        frames[name] = only_analysed(labelled).assign(weight=1.0)
    for name, frame in frames.items():
        frames[name] = frame.sort_values(["valid_time", "segment_id"], kind="stable").reset_index(drop=True)
        if frame["label"].sum() == 0:
            start, end = split.period(name)
            raise WxriskError(f"{name} period {start:%Y-%m-%d} to {end:%Y-%m-%d}: no incidents matched to "
                              "segments; import more incident history before training")
    return frames


def fit_booster(frames: dict[str, pd.DataFrame], specs: Sequence[FeatureSpec], config: TrainConfig, seed: int,
                progress: Callable[[str], None]) -> lgb.Booster:
    """LightGBM with early stopping on the validation period; returns the best-iteration model."""
    names = [s.name for s in specs]
    train = frames["train"]
    train_set = lgb.Dataset(feature_matrix(train, names), label=train["label"].to_numpy(),
                            weight=train["weight"].to_numpy(), feature_name=names, free_raw_data=False)
    valid = downsample_negatives(frames["valid"], config.negative_rate, seed)   # weighted: same rate, less work
    valid_set = lgb.Dataset(feature_matrix(valid, names), label=valid["label"].to_numpy(),
                            weight=valid["weight"].to_numpy(), reference=train_set)
    booster = lgb.train(
        lightgbm_params(specs, config, seed, len(train)), train_set, num_boost_round=config.num_boost_round,
        valid_sets=[valid_set], valid_names=["valid"],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, first_metric_only=True, verbose=False),
                   progress_callback(progress, config.log_every)],
    )
    best = booster.best_iteration or booster.current_iteration()
    progress(f"best round {best} of {booster.current_iteration()} (early stopping on the validation period)")
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=best))


def baseline_metrics(frames: dict[str, pd.DataFrame], specs: Sequence[FeatureSpec]) -> tuple[list[Metrics], dict]:
    """Historical average and physical rule on the test rows, fitted on train and validation rows."""
    test = frames["test"]
    history = pd.concat([frames["train"], frames["valid"]], ignore_index=True)
    rates, network = baselines.segment_rates_from_frame(history)
    roles = baselines.rule_features(specs)
    rule_rates = baselines.rule_rates(frames["train"], roles)
    label, hour = test["label"].to_numpy(), test["valid_time"].to_numpy()
    rows = [score_metrics("historical average", baselines.historical_average(test["segment_id"], rates, network),
                          label, hour)]
    if roles:
        rows.append(score_metrics("physical rule", baselines.rule_probability(test, roles, rule_rates), label, hour))
    info = {"rule": baselines.describe_rule(roles), "rule_features": roles, "rule_rates": rule_rates,
            "network_rate": network}
    return rows, info


@dataclass(frozen=True)
class ChampionScore:
    """The champion on the challenger's test rows; `metrics` is None when it needs `missing` features."""

    model: LoadedModel
    metrics: Metrics | None
    missing: list[str]


def champion_on_test(settings: Settings, test: pd.DataFrame) -> ChampionScore | None:
    """The current champion scored on the challenger's test rows (None when there is no champion)."""
    if champion_version(settings) is None:
        return None
    champion = load_model(settings)
    missing = [n for n in champion.feature_names if n not in test.columns]
    if missing:
        return ChampionScore(champion, None, missing)
    risk = champion.risk(feature_matrix(test, champion.feature_names))
    metrics = score_metrics(f"champion {champion.version}", risk, test["label"].to_numpy(),
                            test["valid_time"].to_numpy())
    return ChampionScore(champion, metrics, [])


def promotion_decision(challenger: Metrics, champion: ChampionScore | None,
                       test_start: datetime, test_end: datetime) -> tuple[bool, str]:
    """Promote when there is no champion, or when the challenger has a higher PR-AUC and a Brier
    score no worse than the champion's on the same held-out period."""
    period = f"on the held-out period {test_start:%Y-%m-%d %H:%M} to {test_end:%Y-%m-%d %H:%M} UTC"
    if champion is None:
        return True, "promoted: first model in the registry becomes the champion"
    version, theirs = champion.model.version, champion.metrics
    if theirs is None:
        return False, (f"not promoted: champion {version} needs feature(s) the current feature table lacks "
                       f"({', '.join(champion.missing[:5])}), so it cannot be scored {period}; compare with "
                       "`wxrisk evaluate` and promote explicitly (registry.set_champion)")
    better_ranking = challenger.pr_auc > theirs.pr_auc
    calibrated_enough = challenger.brier <= theirs.brier
    facts = (f"PR-AUC {challenger.pr_auc:.4f} vs champion {version} {theirs.pr_auc:.4f}, "
             f"Brier {challenger.brier:.6f} vs {theirs.brier:.6f} {period}")
    trained_until = champion.model.meta.get("training_window", {}).get("end")
    if trained_until and pd.Timestamp(trained_until) > pd.Timestamp(test_start):
        facts += " (note: the champion was trained on part of this period, which favours it)"
    if better_ranking and calibrated_enough:
        return True, f"promoted: {facts}"
    why = "PR-AUC not higher" if not better_ranking else "Brier score worse"
    return False, f"not promoted ({why}): {facts}"


def training_record(con: duckdb.DuckDBPyConnection, split: TimeSplit, frames: dict[str, pd.DataFrame],
                    specs: Sequence[FeatureSpec], config: TrainConfig, seed: int) -> dict:
    """What a version learnt from: features, window, splits, label, sampling, rows, data hashes, parameters."""
    names = [s.name for s in specs]
    keys = ["segment_id", "valid_time", *names, "label"]
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "params": lightgbm_params(specs, config, seed, len(frames["train"])),
        "config": config.__dict__,
        "features": specs_to_json(specs),
        "feature_list_version": feature_list_version(specs),
        "training_window": {"start": split.start.isoformat(), "end": split.valid_end.isoformat()},
        "splits": {"how": split.how, **{n: [t.isoformat() for t in split.period(n)] for n in ("train", "valid", "test")}},
        "label": {"definition": LABEL_DEFINITION, "weather_related_only": config.weather_related_only},
        "negative_rate": config.negative_rate,
        "rows": {**{n: len(f) for n, f in frames.items()},
                 **{f"{n}_positives": int(f["label"].sum()) for n, f in frames.items()}},
        "data_hashes": {**{n: frame_hash(f, keys) for n, f in frames.items()}, "imports": import_hashes(con)},
    }


def train_model(con: duckdb.DuckDBPyConnection, settings: Settings, until: datetime | None = None,
                promote: bool = False, progress: Callable[[str], None] = print, seed: int = 7,
                features_frame: pd.DataFrame | None = None, specs: Sequence[FeatureSpec] | None = None,
                config: TrainConfig | None = None, fit: Callable = fit_booster) -> TrainReport:
    """Train a challenger on analysis hours before `until`, register it, and promote it if asked and better.

    The first model of a registry always becomes the champion. `features_frame` replaces
    `wxrisk.features.build_features` (tests, notebooks); `specs` defaults to `FEATURE_SPECS`; `fit` trains
    the booster from the frames (`fit_booster`, or `wxrisk.distributed.fit_booster_on_dask` bound to a client).
    """
    if specs is None:
        from wxrisk.features import FEATURE_SPECS as specs
    specs = list(specs)
    config = config or TrainConfig.from_settings(settings)
    hours = analysed_hours(con, until, features_frame)
    split = split_by_winter(hours, event_hours(con, hours, config.weather_related_only))
    progress(f"splits: {split.how}")
    frames = load_training_data(con, settings, split, hours, features_frame, config, seed, progress)
    progress(f"training on {len(frames['train'])} rows ({int(frames['train']['label'].sum())} with incidents), "
             f"{len(specs)} features")
    booster = fit(frames, specs, config, seed, progress)  # fit_booster here, or on a Dask cluster (wxrisk.distributed)
    names = [s.name for s in specs]
    valid, test = frames["valid"], frames["test"]
    calibrator = fit_calibrator(booster.predict(feature_matrix(valid, names)), valid["label"].to_numpy(),
                                config.calibration)
    progress(f"calibrated ({calibrator.method}) on {len(valid)} validation rows")
    test_risk = np.clip(calibrator.apply(booster.predict(feature_matrix(test, names))), 0.0, 1.0)
    model_row = score_metrics("model (challenger)", test_risk, test["label"].to_numpy(), test["valid_time"].to_numpy())
    baseline_rows, baseline_info = baseline_metrics(frames, specs)
    champion = champion_on_test(settings, test)
    rows = [model_row, *baseline_rows] + ([champion.metrics] if champion and champion.metrics else [])
    test_start, test_end = split.period("test")
    table = metrics_table(rows, f"held-out test {test_start:%Y-%m-%d} to {test_end:%Y-%m-%d} UTC")
    if promote or champion is None:
        promoted, reason = promotion_decision(model_row, champion, test_start, test_end)
    else:
        promoted, reason = False, "not promoted: promotion not requested (use --promote)"
    meta = {
        **training_record(con, split, frames, specs, config, seed),
        "best_iteration": booster.current_iteration(),
        "calibration": calibrator.method,
        "metrics": {"model": model_row.as_dict(), **{m.name.replace(" ", "_"): m.as_dict() for m in baseline_rows}},
        "metrics_table": table,
        "baselines": baseline_info,
        "promotion": {"promoted": promoted, "reason": reason},
    }
    path = save_version(settings, booster, calibrator, meta)
    if promoted:
        set_champion(settings, path.name, reason)
    progress(table)
    progress(f"version {path.name}: {reason}")
    return TrainReport(path.name, path, table, promoted, reason,
                       {m.name: m for m in rows}, split)
