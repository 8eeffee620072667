"""Rolling-origin validation by winter: each winter predicted by models trained on the winters before it.

`rolling_folds` makes the folds; `select` grows each candidate's trees once per fold (until PATIENCE
rounds bring no better validation score; later rounds count as no better), reads the
validation score of every round from LightGBM, and picks the candidate and number of rounds
with the best mean over folds (the fewest rounds with 98 % of the best gain over the first
round, so noise does not buy trees). The chosen fold models give out-of-fold margins for calibration
and evaluation; the final model is refit on every winter with the chosen settings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import lightgbm as lgb
import numpy as np
import pandas as pd

from wxrisk.config import WxriskError
from wxrisk.model.dataset import winter_name

SELECTION_TOLERANCE = 0.02  # a round with 98 % of the best gain over the first round counts as best
CHECK_EVERY = 5  # rounds are chosen among multiples of this
PATIENCE = 40  # a fold stops growing after this many rounds without a better validation score


@dataclass(frozen=True)
class Fold:
    """Train on `train_winters`, predict `valid_winter`."""

    train_winters: tuple[int, ...]
    valid_winter: int

    def describe(self) -> str:
        trained = ", ".join(winter_name(w) for w in self.train_winters)
        return f"{winter_name(self.valid_winter)} predicted by {trained}"


def rolling_folds(winters: Sequence[int]) -> list[Fold]:
    """One fold per winter after the first: trained on all the winters before it."""
    ordered = sorted(set(int(w) for w in winters))
    if len(ordered) < 2:
        raise WxriskError(f"training data: {len(ordered)} winter(s) with incidents; rolling-origin validation "
                          "needs at least two (import more history)")
    return [Fold(tuple(ordered[:k]), ordered[k]) for k in range(1, len(ordered))]


@dataclass(frozen=True)
class Learner:
    """One LightGBM model: its inputs, label, objective settings and the metric that picks its rounds.

    metric : "average_precision" (scored as lift over the fold's base rate), "binary_logloss" or
             "poisson" (scored as skill over the fold's constant mean); comparable across winters.
    """

    name: str
    features: tuple[str, ...]
    monotone: tuple[int, ...]
    label: str
    params: dict
    metric: str = "average_precision"
    rounds: int = 0
    weighted: bool = True  # False: rows count once each, thinned negatives too (see `learners.yardstick`)
    offset_for: Callable[[tuple[int, ...]], Callable[[pd.DataFrame], np.ndarray]] | None = field(
        default=None, compare=False)  # training winters -> the fixed part of the margin of a frame's rows
    offset: Callable[[pd.DataFrame], np.ndarray] | None = field(default=None, compare=False)

    def for_winters(self, winters: Sequence[int]) -> Learner:
        """This learner with the offset estimated from `winters` only (no look-ahead)."""
        if self.offset_for is None:
            return self
        return replace(self, offset=self.offset_for(tuple(int(w) for w in winters)))

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return np.ascontiguousarray(frame[list(self.features)].to_numpy(dtype="float32", na_value=np.nan))

    def base_margin(self, frame: pd.DataFrame) -> np.ndarray | None:
        return None if self.offset is None else self.offset(frame)

    def dataset(self, frame: pd.DataFrame, reference: lgb.Dataset | None = None) -> lgb.Dataset:
        weight = _weights(frame) if self.weighted else None
        return lgb.Dataset(self.matrix(frame), label=frame[self.label].to_numpy(), weight=weight,
                           init_score=self.base_margin(frame), feature_name=list(self.features),
                           reference=reference, free_raw_data=False)

    def lightgbm_params(self) -> dict:
        return {**self.params, "metric": [self.metric], "monotone_constraints": list(self.monotone),
                "verbose": -1}

    def fit(self, frame: pd.DataFrame, rounds: int | None = None) -> lgb.Booster:
        """Trees grown on `frame` for `rounds` (default: the chosen number)."""
        rounds = rounds or self.rounds
        if rounds <= 0:
            raise WxriskError(f"{self.name}: no number of rounds chosen")
        return lgb.train(self.lightgbm_params(), self.dataset(frame), num_boost_round=rounds)

    def margin(self, booster: lgb.Booster, frame: pd.DataFrame, rounds: int | None = None) -> np.ndarray:
        """Raw log-odds of `frame` (offset included) after `rounds` trees."""
        raw = booster.predict(self.matrix(frame), raw_score=True, num_iteration=rounds or None)
        offset = self.base_margin(frame)
        return raw if offset is None else raw + offset


def _weights(frame: pd.DataFrame) -> np.ndarray:
    return frame["weight"].to_numpy() if "weight" in frame else np.ones(len(frame))


def _base_rate(frame: pd.DataFrame, label: str) -> float:
    return float(np.average(frame[label].to_numpy(), weights=_weights(frame)))


def comparable_scores(curve: np.ndarray, metric: str, base_rate: float) -> np.ndarray:
    """A validation curve as a score comparable across winters: AP / base rate, or log-loss skill."""
    if metric == "average_precision":
        return curve / base_rate
    if metric == "poisson":  # LightGBM's mean of (mu - y ln mu); the constant mean scores b - b ln b
        return 1.0 - curve / (base_rate - base_rate * np.log(base_rate))
    climatology = -(base_rate * np.log(base_rate) + (1 - base_rate) * np.log(1 - base_rate))
    return 1.0 - curve / climatology


@dataclass
class FoldRun:
    """One learner candidate grown on one fold."""

    fold: Fold
    learner: Learner  # with the fold's own offset
    booster: lgb.Booster
    scores: np.ndarray  # comparable validation score after each round


def grow(learner: Learner, frames: pd.DataFrame, fold: Fold, rounds_max: int) -> FoldRun | None:
    """Trees on the fold's training winters, scored on its validation winter after every round.

    None when the validation winter has no positive (nothing to score against).
    """
    winter = frames["winter"].to_numpy()
    train = frames.loc[np.isin(winter, fold.train_winters)]
    valid = frames.loc[winter == fold.valid_winter]
    if train[learner.label].sum() == 0 or valid[learner.label].sum() == 0:
        return None
    learner = learner.for_winters(fold.train_winters)
    train_set = learner.dataset(train)
    valid_set = learner.dataset(valid, reference=train_set)
    record: dict = {}
    booster = lgb.train(learner.lightgbm_params(), train_set, num_boost_round=rounds_max, valid_sets=[valid_set],
                        valid_names=["valid"],
                        callbacks=[lgb.record_evaluation(record), lgb.early_stopping(PATIENCE, verbose=False)])
    curve = np.asarray(record["valid"][learner.metric], dtype="float64")
    curve = np.concatenate([curve, np.full(rounds_max - len(curve), curve[-1])])  # no better after it stopped
    return FoldRun(fold, learner, booster, comparable_scores(curve, learner.metric, _base_rate(valid, learner.label)))


@dataclass
class Selection:
    """The chosen candidate, its number of rounds, and its fold models."""

    learner: Learner
    runs: list[FoldRun]
    mean_scores: np.ndarray
    candidates: list[dict]

    def describe(self) -> str:
        folds = "; ".join(run.fold.describe() for run in self.runs)
        return (f"{self.learner.name}: {self.learner.rounds} rounds, {self.learner.params.get('num_leaves')} leaves, "
                f"chosen by rolling-origin validation ({folds})")


def pick_rounds(mean_scores: np.ndarray) -> int:
    """The fewest rounds (a multiple of CHECK_EVERY) that gain at least 1 - SELECTION_TOLERANCE of the
    best gain over the first round."""
    checked = np.arange(CHECK_EVERY, len(mean_scores) + 1, CHECK_EVERY)
    scores = mean_scores[checked - 1]
    best, start = float(np.nanmax(scores)), float(mean_scores[0])
    good_enough = scores >= best - SELECTION_TOLERANCE * max(best - start, 0.0)
    return int(checked[np.flatnonzero(good_enough)[0]])


def select(candidates: Sequence[Learner], frames: pd.DataFrame, folds: Sequence[Fold], rounds_max: int,
           progress: Callable[[str], None]) -> Selection:
    """Grow every candidate on every fold; keep the one with the best mean validation score."""
    best: Selection | None = None
    summary = []
    for learner in candidates:
        runs = [run for fold in folds if (run := grow(learner, frames, fold, rounds_max)) is not None]
        if not runs:
            raise WxriskError(f"{learner.name}: no winter to validate on has a positive ({learner.label})")
        mean_scores = np.mean([run.scores for run in runs], axis=0)
        rounds = pick_rounds(mean_scores)
        score = float(mean_scores[rounds - 1])
        summary.append({"num_leaves": learner.params.get("num_leaves"), "rounds": rounds, "score": score})
        progress(f"  {learner.name}, {learner.params.get('num_leaves')} leaves: best after {rounds} rounds, "
                 f"mean validation {learner.metric} score {score:.4g} over {len(runs)} fold(s)")
        if best is None or score > float(best.mean_scores[best.learner.rounds - 1]):
            best = Selection(replace(learner, rounds=rounds), runs, mean_scores, [])
    best.candidates = summary
    return best


def out_of_fold_margins(selection: Selection, frames: pd.DataFrame) -> pd.Series:
    """Each validated winter's rows scored by its fold model at the chosen rounds (NaN elsewhere)."""
    margins = pd.Series(np.nan, index=frames.index, dtype="float64")
    winter = frames["winter"].to_numpy()
    for run in selection.runs:
        rows = frames.loc[winter == run.fold.valid_winter]
        margins.loc[rows.index] = run.learner.margin(run.booster, rows, selection.learner.rounds)
    return margins
