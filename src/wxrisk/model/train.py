"""Train a version: risk and ice/snow share models, chosen and checked by rolling origin, refit on every winter.

Steps (each reported through `progress`):
1. the analysed hours before `until`; refused with both windows when no incident falls in them;
2. a thinned sample of segment-hours and every incident with features (`dataset.draw_sample`);
3. folds: each winter predicted by models trained on the winters before it (`folds`);
4. risk model: leaves and rounds chosen on the folds, on top of the region's hour-of-week offset;
5. ice share model (every incident of the region, matched or not), the same way;
6. calibration on the out-of-fold margins (Platt), cross-fitted by winter for the evaluation;
7. the plain yardstick, the historical average and the physical rule on the same folds;
8. final models refit on every winter; registry folder; champion only with `promote`.
Deterministic: same data and seed give the same version (fixed threads, no bagging, sorted rows).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd

from wxrisk.config import Settings, WxriskError
from wxrisk.features.spec import FeatureSpec
from wxrisk.model import baselines
from wxrisk.model.calibrate import Calibrator, fit_calibrator
from wxrisk.model.dataset import (
    ICE_CONDITION,
    DatabaseFeatures,
    FrameFeatures,
    Sample,
    draw_sample,
    normalise_keys,
    winter_name,
    winter_of,
)
from wxrisk.model.exposure import WeekCounts, WeekProfile
from wxrisk.model.folds import Fold, Learner, Selection, out_of_fold_margins, select
from wxrisk.model.learners import risk_candidates, share_candidates, tree_params, undo_thinning, yardstick
from wxrisk.model.metrics import Metrics, metrics_table, score_metrics
from wxrisk.model.region import (
    CLOCK,
    RegionRate,
    between_hour_share,
    fold_rates,
    region_candidates,
    region_inputs,
    segment_scale,
)
from wxrisk.model.registry import (
    champion_version,
    feature_list_version,
    load_model,
    save_version,
    set_champion,
    specs_to_json,
)

LABEL_DEFINITION = ("risk: 1 when at least one incident matched to the segment occurred in the hour ending at "
                    "valid_time (valid_time - 1 h <= occurred_at < valid_time), else 0; ice_risk: the same for "
                    "incidents on an icy, frosty, snowy or slushy surface or in snow or freezing-rain weather")
FinalFit = Callable[[Learner, pd.DataFrame, Callable[[str], None]], object]
MIN_ICE_INCIDENTS = 10  # fewer ice/snow incidents in the history: no share model, ice_risk stays empty
MIN_POSITIVES_TO_JUDGE = 20  # a validated winter with fewer positives is shown but not judged on its own


@dataclass(frozen=True)
class TrainConfig:
    """Tunable training constants; override any of them in `settings.extra["model"]`."""

    target_rows: int = 150_000      # segment-hours built for training over all winters (thinned)
    rounds_max: int = 300           # most boosting rounds tried on the folds
    learning_rate: float = 0.05
    min_data_in_leaf: int = 200     # capped at 2 % of the training rows
    lambda_l2: float = 1.0
    share_rounds_max: int = 200
    share_min_data_in_leaf: int = 20
    calibration: str = "platt"      # platt | isotonic
    num_threads: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> TrainConfig:
        overrides = dict(settings.extra.get("model", {}))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise WxriskError(f"settings model: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return replace(cls(), **overrides)


@dataclass
class TrainReport:
    """What `wxrisk train` prints and returns."""

    version: str
    path: object
    table: str
    promoted: bool
    reason: str
    metrics: dict[str, Metrics]
    meta: dict

    def __str__(self) -> str:
        return f"{self.table}\n{self.reason}"


# --- hours, overlap, periods ---------------------------------------------------------------------

def analysed_hours(con: duckdb.DuckDBPyConnection, until: datetime | None,
                   features_frame: pd.DataFrame | None) -> pd.DatetimeIndex:
    """The hours with analysis weather, before `until` when given [UTC]."""
    if features_frame is not None:
        hours = normalise_keys(features_frame)["valid_time"].drop_duplicates()
    else:
        hours = con.execute("SELECT DISTINCT valid_time FROM weather_times WHERE kind = 'analysis'").df()["valid_time"]
    hours = pd.DatetimeIndex(pd.to_datetime(hours)).astype("datetime64[us]").sort_values()
    return hours[hours < pd.Timestamp(until)] if until is not None else hours


def check_overlap(con: duckdb.DuckDBPyConnection, hours: pd.DatetimeIndex) -> None:
    """Refuse, naming both windows, when no matched incident falls in the analysed hours."""
    if hours.empty:
        raise WxriskError("training data: no analysis weather (before --until); import weather history first")
    first, last = hours[0].to_pydatetime(), (hours[-1] + pd.Timedelta(hours=1)).to_pydatetime()
    n_inside, n_all, seen_from, seen_to = con.execute(
        "SELECT count(*) FILTER (WHERE occurred_at >= ?::TIMESTAMP - INTERVAL 1 HOUR "
        "AND occurred_at < ?::TIMESTAMP - INTERVAL 1 HOUR), count(*), min(occurred_at), max(occurred_at) "
        "FROM incidents WHERE segment_id IS NOT NULL", [first, last]).fetchone()
    if n_inside:
        return
    weather = f"weather (analysis) covers {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"
    if n_all == 0:
        raise WxriskError(f"training data: no incident is matched to a segment; {weather}. Import incidents "
                          "(after the roads) first")
    raise WxriskError(f"training data: weather and incidents do not overlap in time: {weather}, matched incidents "
                      f"cover {seen_from:%Y-%m-%d %H:%M} to {seen_to:%Y-%m-%d %H:%M} UTC. Import weather for the "
                      "incidents' years, or incidents for the weather's")


@dataclass(frozen=True)
class Periods:
    """What the folds cut: winters, or the two halves of a single winter (`cut`)."""

    names: dict[int, str]
    how: str
    cut: pd.Timestamp | None = None

    def of(self, times: pd.Series) -> np.ndarray:
        """The period key of each time."""
        times = pd.Series(pd.to_datetime(np.asarray(times)))
        if self.cut is None:
            return winter_of(times).to_numpy()
        return (times >= self.cut).astype("int64").to_numpy()

    def folds(self) -> list[Fold]:
        keys = sorted(self.names)
        return [Fold(tuple(keys[:k]), keys[k]) for k in range(1, len(keys))]

    def describe(self, keys: Sequence[int]) -> str:
        return ", ".join(self.names[k] for k in sorted(keys))


def assign_periods(sample: Sample) -> tuple[Sample, Periods]:
    """Periods are winters; a single winter is cut in time at half its incident-hours."""
    winters = sorted(set(sample.rows["winter"]))
    if len(winters) >= 2:
        return sample, Periods({int(w): winter_name(w) for w in winters}, "rolling origin by winter")
    events = np.sort(sample.rows.loc[sample.rows["label"] == 1, "valid_time"].unique())
    if len(events) < 2:
        raise WxriskError(f"training data: {len(events)} hour(s) with incidents; too few to validate on")
    cut = pd.Timestamp(events[len(events) // 2])
    name = winter_name(winters[0])
    periods = Periods({0: f"{name} before {cut:%Y-%m-%d %H:%M}", 1: f"{name} from {cut:%Y-%m-%d %H:%M}"},
                      "one winter, cut in time at half its incident-hours", cut)

    def halves(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(winter=periods.of(frame["valid_time"]))

    hours = sample.hours.assign(winter=periods.of(pd.Series(sample.hours.index)))
    return replace(sample, rows=halves(sample.rows), incidents=halves(sample.incidents), hours=hours), periods


# --- calibration --------------------------------------------------------------------------------

def sigmoid(margin: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(margin, dtype="float64")))


def cross_fitted(margin: pd.Series, label: pd.Series, weight: np.ndarray, period: pd.Series,
                 method: str, allow_flat: bool = False) -> tuple[Calibrator, pd.Series]:
    """The calibrator of the final model (all out-of-fold margins) and, per validated period, the
    probabilities from a calibrator fitted on the other periods only (the period's own when alone).
    `allow_flat`: a model without skill gets the constant rate instead of an error."""
    known = margin.notna().to_numpy()
    label = label.to_numpy()
    final = fit_calibrator(sigmoid(margin[known]), label[known], method, weight[known], allow_flat)
    calibrated = pd.Series(np.nan, index=margin.index)
    for key in np.unique(period[known]):
        mine = known & (period.to_numpy() == key)
        others = known & ~mine
        has_both = others.any() and 0 < label[others].sum() < others.sum()
        calibrator = (fit_calibrator(sigmoid(margin[others]), label[others], method, weight[others], True)
                      if has_both else final)
        calibrated[mine] = calibrator.apply_margin(margin[mine])
    return final, calibrated


# --- the models -------------------------------------------------------------------------------------

def profile_factory(sample: Sample, hours: pd.DatetimeIndex, timezone: str, available: Sequence[str],
                    periods: Periods) -> Callable[[tuple[int, ...]], WeekProfile]:
    """Training periods -> the region's incidents per hour by hour of week (flat without a local clock)."""
    frame = sample.hours
    clock = {"hour_local", "dow_local"} <= set(available)
    counts = WeekCounts(sample.incidents["valid_time"], pd.Series(hours), timezone, periods.of) if clock else None

    def profile_for(chosen: tuple[int, ...]) -> WeekProfile:
        base = max(float(frame.loc[frame["winter"].isin(chosen), "incidents"].mean()), 1e-6)
        return counts.profile(chosen, base) if counts is not None else WeekProfile.flat(base)

    return profile_for


def fit_region(sample: Sample, periods: Periods, folds: list[Fold], specs: Sequence[FeatureSpec], uniform: list[str],
               params: dict, config: TrainConfig, profile_for, progress) -> dict[tuple[int, ...], RegionRate]:
    """The region's hourly rate for each fold's training periods and for all periods (refit)."""
    everything = tuple(sorted(periods.names))
    if not uniform:
        progress("region rate: the hour-of-week profile alone")
        return {p: RegionRate(None, None, profile_for(p)) for p in {everything, *(f.train_winters for f in folds)}}
    hours_frame = sample.hours.rename_axis("valid_time").reset_index()
    progress(f"region rate: {len(hours_frame)} hours, {int(hours_frame['incidents'].sum())} incidents of the region; "
             f"inputs the same on every segment: {', '.join(uniform)}")

    def offset_for(chosen: tuple[int, ...]):
        profile = profile_for(chosen)
        return lambda frame: profile.log_rate(frame["valid_time"].to_numpy())

    selection = select(region_candidates(uniform, specs, params, offset_for), hours_frame, folds,
                       config.rounds_max, progress)
    rates = fold_rates(selection, profile_for)
    final = selection.learner.for_winters(everything)
    rates[everything] = RegionRate(final, final.fit(hours_frame), profile_for(everything))
    return rates


def fit_share(sample: Sample, folds: list[Fold], available: Sequence[str], params: dict, config: TrainConfig,
              progress) -> Selection | None:
    """The ice share model chosen on the folds, or None when the history has too few ice/snow incidents."""
    incidents = sample.incidents
    n_ice = int(incidents["ice"].sum())
    if n_ice < MIN_ICE_INCIDENTS:
        progress(f"ice share model: only {n_ice} ice/snow incident(s) with weather (need {MIN_ICE_INCIDENTS}); "
                 "ice_risk stays empty")
        return None
    share_params = {**params, "min_data_in_leaf": max(5, min(config.share_min_data_in_leaf, len(incidents) // 50))}
    frame = incidents.assign(ice=incidents["ice"].astype("int8"), weight=1.0)
    progress(f"ice share model: {len(frame)} incidents ({n_ice} ice/snow, {int(frame['matched'].sum())} matched "
             "to a segment)")
    try:
        return select(share_candidates(available, share_params), frame, folds, config.share_rounds_max, progress)
    except WxriskError as exc:
        progress(f"ice share model: {exc}; ice_risk stays empty")
        return None


def fold_predictions(learner: Learner, rows: pd.DataFrame, folds: list[Fold], label: str, rate: float) -> pd.Series:
    """Each validated period's rows predicted by `learner` trained on the periods before it (probability).

    With fewer than MIN_ICE_INCIDENTS positives to learn from, the prediction is their observed rate.
    """
    out = pd.Series(np.nan, index=rows.index)
    period = rows["winter"].to_numpy()
    for fold in folds:
        train = rows.loc[np.isin(period, fold.train_winters)]
        valid = rows.loc[period == fold.valid_winter]
        if valid.empty:
            continue
        if train[label].sum() < MIN_ICE_INCIDENTS:
            out[valid.index] = np.average(train[label], weights=train["weight"])
            continue
        booster = learner.fit(train)
        predicted = booster.predict(learner.matrix(valid))
        out[valid.index] = predicted if learner.weighted else undo_thinning(predicted, rate)
    return out


def fold_baselines(rows: pd.DataFrame, folds: list[Fold], specs: Sequence[FeatureSpec], label: str) -> dict:
    """Historical average and physical rule per validated period, fitted on the periods before it."""
    roles = baselines.rule_features(specs)
    history, rule = pd.Series(np.nan, index=rows.index), pd.Series(np.nan, index=rows.index)
    period = rows["winter"].to_numpy()
    for fold in folds:
        train = rows.loc[np.isin(period, fold.train_winters)]
        valid = rows.loc[period == fold.valid_winter]
        rates, network = baselines.segment_rates_from_frame(train, label)
        history[valid.index] = baselines.historical_average(valid["segment_id"], rates, network)
        if roles:
            rule[valid.index] = baselines.rule_probability(valid, roles, baselines.rule_rates(train, roles, label))
    return {"historical average": history, "physical rule": rule if roles else None}


# --- the report ------------------------------------------------------------------------------------

def pooled_metrics(scores: dict[str, pd.Series | None], rows: pd.DataFrame, label: str) -> list[Metrics]:
    """Each scorer on the out-of-fold rows (weighted: thinned negatives count 1 / rate)."""
    known = scores[next(iter(scores))].notna().to_numpy()
    chosen = rows.loc[known]
    return [score_metrics(name, score[known].to_numpy(), chosen[label].to_numpy(), chosen["valid_time"].to_numpy(),
                          chosen["weight"].to_numpy())
            for name, score in scores.items() if score is not None]


def per_period_table(ours: pd.Series, yard: pd.Series, rows: pd.DataFrame, label: str, periods: Periods) -> str:
    """PR-AUC of ours and the yardstick, period by period (too few positives: shown, not judged)."""
    lines = [f"{'predicted period':<44}{'positives':>10}{'ours':>9}{'yardstick':>11}",]
    period = rows["winter"].to_numpy()
    for key in sorted(set(period[ours.notna().to_numpy()])):
        mine = (period == key) & ours.notna().to_numpy()
        positives = int(rows.loc[mine, label].sum())
        if positives == 0:
            continue
        ours_m, yard_m = (score_metrics("", s[mine].to_numpy(), rows.loc[mine, label].to_numpy(),
                                        rows.loc[mine, "valid_time"].to_numpy(), rows.loc[mine, "weight"].to_numpy())
                          for s in (ours, yard))
        flag = "" if positives >= MIN_POSITIVES_TO_JUDGE else "  (too few to judge alone)"
        lines.append(f"{periods.names[key][:43]:<44}{positives:>10}{ours_m.pr_auc:>9.3g}{yard_m.pr_auc:>11.3g}{flag}")
    return "\n".join(lines)


def frame_hash(frame: pd.DataFrame, columns: list[str]) -> str:
    """sha256 of the rows' content (order-sensitive), to record exactly which data trained a version."""
    hashed = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def import_hashes(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The files imported into the database (kind, path, sha256), oldest first."""
    rows = con.execute("SELECT kind, path, file_hash FROM import_ledger ORDER BY import_id").fetchall()
    return [{"kind": k, "path": p, "file_hash": h} for k, p, h in rows]


# --- promotion -------------------------------------------------------------------------------------

def promotion_decision(settings: Settings, rows: pd.DataFrame, ours: pd.Series, last: Fold,
                       periods: Periods) -> tuple[bool, str]:
    """With `--promote`: champion when there is none, when the champion can no longer be scored (its
    features are gone), or when the new version's PR-AUC is higher and its Brier score no worse than
    the champion's on the last validated period's rows."""
    if champion_version(settings) is None:
        return True, "promoted: the registry had no champion"
    champion = load_model(settings)
    mine = (rows["winter"].to_numpy() == last.valid_winter) & ours.notna().to_numpy()
    chosen = rows.loc[mine]
    where = f"on {periods.names[last.valid_winter]} (the last validated period, {len(chosen)} thinned rows)"
    missing = [n for n in champion.feature_names if n not in chosen.columns]
    if missing:  # kept, it would fail every scheduled run: the new version serves, saying why
        return True, (f"promoted: champion {champion.version} can no longer be scored, it needs feature(s) the "
                      f"current feature table lacks ({', '.join(missing[:5])})")
    label, hour, weight = chosen["label"].to_numpy(), chosen["valid_time"].to_numpy(), chosen["weight"].to_numpy()
    new = score_metrics("new", ours[mine].to_numpy(), label, hour, weight)
    old = score_metrics("champion", champion.risk(chosen), label, hour, weight)
    facts = (f"PR-AUC {new.pr_auc:.4f} vs champion {champion.version} {old.pr_auc:.4f}, Brier {new.brier:.6f} vs "
             f"{old.brier:.6f} {where}")
    trained_until = champion.meta.get("training_window", {}).get("end")
    if trained_until and pd.Timestamp(trained_until) > chosen["valid_time"].min():
        facts += " (the champion was trained on part of these rows, which favours it)"
    if new.pr_auc > old.pr_auc and new.brier <= old.brier:
        return True, f"promoted: {facts}"
    why = "PR-AUC not higher" if new.pr_auc <= old.pr_auc else "Brier score worse"
    return False, f"not promoted ({why}): {facts}"


# --- the whole run ---------------------------------------------------------------------------------

def train_model(con: duckdb.DuckDBPyConnection, settings: Settings, until: datetime | None = None,
                promote: bool = False, progress: Callable[[str], None] = print, seed: int = 7,
                features_frame: pd.DataFrame | None = None, specs: Sequence[FeatureSpec] | None = None,
                config: TrainConfig | None = None, fit: FinalFit | None = None) -> TrainReport:
    """Train a version on analysis hours before `until` and register it; the champion changes only
    with `promote` (see `promotion_decision`).

    `features_frame` replaces `wxrisk.features` (tests, notebooks); `specs` defaults to FEATURE_SPECS;
    `fit(learner, rows, progress)` grows the final risk trees (default: here; or on a Dask cluster,
    `wxrisk.distributed.fit_booster_on_dask` bound to a client). The fold models always grow here.
    """
    if specs is None:
        from wxrisk.features import FEATURE_SPECS as specs
    specs = list(specs)
    config = config or TrainConfig.from_settings(settings)
    hours = analysed_hours(con, until, features_frame)
    check_overlap(con, hours)
    if features_frame is not None:
        source = FrameFeatures(features_frame)
        segment_ids = source.features["segment_id"].drop_duplicates().to_numpy(dtype=object)
    else:
        source = DatabaseFeatures(con, settings)
        segment_ids = con.execute("SELECT segment_id FROM segments ORDER BY segment_id").df()["segment_id"].to_numpy(
            dtype=object)
    progress(f"sampling segment-hours from {hours[0]:%Y-%m-%d} to {hours[-1]:%Y-%m-%d} "
             f"({len(hours)} analysed hours x {len(segment_ids)} segments)")
    sample, periods = assign_periods(draw_sample(con, source, hours, segment_ids, config.target_rows, seed, progress))
    rows = sample.rows
    folds = periods.folds()
    names = [s.name for s in specs]
    params = tree_params(config.learning_rate, 0, config.min_data_in_leaf, config.lambda_l2, len(rows), seed,
                         config.num_threads)
    progress(f"{len(rows)} segment-hours kept ({int(rows['label'].sum())} with incidents, "
             f"{int(rows['ice_label'].sum())} with ice/snow ones; incident-free kept at rate {sample.rate:.4g}); "
             f"{periods.how}: {'; '.join(_fold_words(f, periods) for f in folds)}")

    profile_for = profile_factory(sample, hours, settings.timezone, names, periods)
    uniform = region_inputs(between_hour_share(sample.hours, names), progress)
    rates = fit_region(sample, periods, folds, specs, uniform, params, config, profile_for, progress)
    scales = {chosen: segment_scale(rate, rows.loc[rows["winter"].isin(chosen)]) for chosen, rate in rates.items()}

    def risk_offset_for(chosen: tuple[int, ...]):
        rate, scale = rates[chosen], scales[chosen]
        return lambda frame: rate.log_rate(frame) + scale

    varying = [s for s in specs if s.name not in uniform and s.name not in CLOCK]
    risk = select(risk_candidates(varying, params, risk_offset_for), rows, folds, config.rounds_max, progress)
    risk_margin = out_of_fold_margins(risk, rows)
    weight = rows["weight"].to_numpy()
    risk_calibrator, risk_oof = cross_fitted(risk_margin, rows["label"], weight, rows["winter"], config.calibration)

    share = fit_share(sample, folds, names, params, config, progress)
    share_calibrator, ice_oof = None, pd.Series(np.nan, index=rows.index)
    if share is not None:
        incidents = sample.incidents
        share_margin = out_of_fold_margins(share, incidents)
        share_calibrator, _ = cross_fitted(share_margin, incidents["ice"].astype("int8"), np.ones(len(incidents)),
                                           incidents["winter"], config.calibration, allow_flat=True)
        row_share = out_of_fold_margins(share, rows)
        ice_oof = risk_oof * _cross_applied(share_margin, incidents, row_share, rows, config.calibration)

    progress("yardstick, historical average and physical rule on the same folds")
    yard_any = yardstick(names, "label", seed, config.num_threads)
    yard_ice = yardstick(names, "ice_label", seed, config.num_threads)
    scores_any = {"model": risk_oof, "yardstick": fold_predictions(yard_any, rows, folds, "label", sample.rate),
                  **fold_baselines(rows, folds, specs, "label")}
    tables = [metrics_table(pooled_metrics(scores_any, rows, "label"),
                            f"any incident, rolling origin ({periods.describe([f.valid_winter for f in folds])} each "
                            "predicted by models of the periods before it)"),
              per_period_table(risk_oof, scores_any["yardstick"], rows, "label", periods)]
    metrics = {m.name: m for m in pooled_metrics(scores_any, rows, "label")}
    if share is not None:
        scores_ice = {"ice model": ice_oof, "ice yardstick": fold_predictions(yard_ice, rows, folds, "ice_label", sample.rate),
                      **{f"ice {k}": v for k, v in fold_baselines(rows, folds, specs, "ice_label").items()}}
        ice_rows = pooled_metrics(scores_ice, rows, "ice_label")
        tables.append(metrics_table(ice_rows, "ice/snow incidents, rolling origin (same periods)"))
        metrics |= {m.name: m for m in ice_rows}
    table = "\n\n".join(tables)

    progress(f"refitting on every period: risk {risk.learner.rounds} rounds"
             + (f", ice share {share.learner.rounds} rounds" if share else ""))
    all_periods = tuple(sorted(periods.names))
    final_risk = risk.learner.for_winters(all_periods)
    boosters = {"model": fit(final_risk, rows, progress) if fit else final_risk.fit(rows), "share": share.learner.fit(
        sample.incidents.assign(ice=sample.incidents["ice"].astype("int8"), weight=1.0)) if share else None,
        "yardstick": yard_any.fit(rows),
        "yardstick_ice": yard_ice.fit(rows) if rows["ice_label"].sum() >= MIN_ICE_INCIDENTS else None}
    if promote:
        promoted, reason = promotion_decision(settings, rows, risk_oof, folds[-1], periods)
    else:
        promoted, reason = False, "not promoted: promotion not requested (use --promote)"
    region = rates[all_periods]
    boosters["region"] = region.booster
    meta = _meta(con, settings, sample, periods, folds, risk, share, varying, config, seed, hours, metrics, table,
                 promoted, reason)
    meta["inputs"] = specs_to_json(specs)
    meta["region"] = {"features": uniform, "profile": region.profile.to_json(), "segment_scale": scales[all_periods],
                      "rounds": region.learner.rounds if region.learner else 0,
                      "num_leaves": region.learner.params["num_leaves"] if region.learner else 0}
    path = save_version(settings, boosters, {"calibrator": risk_calibrator, "share_calibrator": share_calibrator}, meta)
    if promoted:
        set_champion(settings, path.name, reason)
    progress(table)
    progress(f"version {path.name}: {reason}")
    if not promoted:
        progress(f"to make it the champion: wxrisk promote {path.name}")
    return TrainReport(path.name, path, table, promoted, reason, metrics, meta)


def _fold_words(fold: Fold, periods: Periods) -> str:
    return f"{periods.names[fold.valid_winter]} predicted by {periods.describe(fold.train_winters)}"


def _cross_applied(share_margin: pd.Series, incidents: pd.DataFrame, row_margin: pd.Series, rows: pd.DataFrame,
                   method: str) -> pd.Series:
    """Row shares calibrated per period by a calibrator fitted on the other periods' incidents."""
    known = share_margin.notna().to_numpy()
    label = incidents["ice"].astype("int8").to_numpy()
    final = fit_calibrator(sigmoid(share_margin[known]), label[known], method, allow_flat=True)
    out = pd.Series(np.nan, index=rows.index)
    for key in np.unique(rows.loc[row_margin.notna(), "winter"]):
        others = known & (incidents["winter"].to_numpy() != key)
        has_both = others.any() and 0 < label[others].sum() < others.sum()
        calibrator = (fit_calibrator(sigmoid(share_margin[others]), label[others], method, allow_flat=True)
                      if has_both else final)
        mine = (rows["winter"].to_numpy() == key) & row_margin.notna().to_numpy()
        out[mine] = calibrator.apply_margin(row_margin[mine])
    return out


def _meta(con, settings, sample: Sample, periods: Periods, folds: list[Fold], risk: Selection,
          share: Selection | None, specs, config: TrainConfig, seed: int, hours: pd.DatetimeIndex,
          metrics: dict[str, Metrics], table: str, promoted: bool, reason: str) -> dict:
    """What a version learnt from and how it did: the record behind its card."""
    rows, incidents = sample.rows, sample.incidents
    validated = [f.valid_winter for f in folds]
    keys = ["segment_id", "valid_time", *[s.name for s in specs], "label", "ice_label", "weight"]
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "config": config.__dict__,
        "features": specs_to_json(specs),
        "feature_list_version": feature_list_version(specs),
        "training_window": {"start": hours[0].isoformat(), "end": (hours[-1] + pd.Timedelta(hours=1)).isoformat()},
        "winters": {"how": periods.how, "trees": periods.describe(periods.names),
                    "calibration": periods.describe(validated), "evaluation": periods.describe(validated),
                    "folds": [_fold_words(f, periods) for f in folds]},
        "label": {"definition": LABEL_DEFINITION, "ice_condition": ICE_CONDITION},
        "sampling": {"rate": sample.rate, "segments": sample.segments_total, "rows": len(rows),
                     "rows_with_incidents": int(rows["label"].sum()), "rows_with_ice": int(rows["ice_label"].sum()),
                     "incidents": len(incidents), "ice_incidents": int(incidents["ice"].sum()),
                     "unmatched_incidents": int((~incidents["matched"]).sum()),
                     "incidents_without_weather": sample.incidents_without_weather},
        "risk": {"rounds": risk.learner.rounds, "num_leaves": risk.learner.params["num_leaves"],
                 "params": risk.learner.lightgbm_params(), "candidates": risk.candidates},
        "share": ({"features": list(share.learner.features), "rounds": share.learner.rounds,
                   "num_leaves": share.learner.params["num_leaves"], "params": share.learner.lightgbm_params(),
                   "candidates": share.candidates} if share else None),
        "calibration": config.calibration,
        "metrics": {name.replace(" ", "_"): m.as_dict() for name, m in metrics.items()},
        "metrics_table": table,
        "baselines": {"rule": baselines.describe_rule(baselines.rule_features(specs)),
                      "rule_features": baselines.rule_features(specs),
                      "rule_rates": baselines.rule_rates(rows, baselines.rule_features(specs)),
                      "ice_rule_rates": baselines.rule_rates(rows, baselines.rule_features(specs), "ice_label")},
        "data_hashes": {"rows": frame_hash(rows, [k for k in keys if k in rows.columns]),
                        "imports": import_hashes(con)},
        "promotion": {"promoted": promoted, "reason": reason},
    }
