"""When and where: the region's hourly incident rate, learnt from every incident, under every segment's risk.

Some inputs are the same on every segment in an hour: the clock and the calendar everywhere, and
in a small region the weather itself (one point series for all of central Leeds). What they do to
the number of incidents is learnt where the evidence is, from the hourly count of **every**
incident of the region (matched to a segment or not): a Poisson model of the region's incidents
per hour on these region-uniform inputs, started from the region's hour-of-week profile. The
segment trees then learn, from the incidents matched to segments, how the inputs that differ
between segments (road, history, local weather) spread that rate over the network:

    logit risk(s, h) = ln E[region incidents in h] + c + trees(inputs of s in h that vary between segments)

`c` puts the region's rate on the scale of one segment (the network's share of the region's
incidents per segment). An input is region-uniform when at least UNIFORM_SHARE of its variance
over the sample lies between hours rather than between segments within an hour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from wxrisk.features.spec import FeatureSpec
from wxrisk.model.exposure import WeekProfile
from wxrisk.model.folds import Learner, Selection

UNIFORM_SHARE = 0.95  # share of an input's variance between hours that makes it region-uniform
REGION_LEAVES = (3, 7)
REGION_MIN_HOURS_IN_LEAF = 50  # a region leaf holds at least this many hours [h]


def uniform_features(hours: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """The inputs whose variance lies mostly between hours (`hours`: per-hour means and `__var`)."""
    uniform = []
    for name in names:
        if name not in hours or f"{name}__var" not in hours:
            continue
        means, within = hours[name].to_numpy(dtype="float64"), hours[f"{name}__var"].to_numpy(dtype="float64")
        known = np.isfinite(means) & np.isfinite(within)
        if known.sum() < 2:
            continue
        between, inside = float(np.var(means[known])), float(np.mean(within[known]))
        if between > 0 and between / (between + inside) >= UNIFORM_SHARE:
            uniform.append(name)
    return uniform


def region_candidates(uniform: Sequence[str], specs: Sequence[FeatureSpec], params: dict,
                      offset_for: Callable) -> list[Learner]:
    """Poisson learners of the region's incidents per hour on the region-uniform inputs."""
    monotone = {s.name: int(s.monotone) for s in specs}
    region_params = {**params, "objective": "poisson", "min_data_in_leaf": REGION_MIN_HOURS_IN_LEAF}
    return [Learner("region rate", tuple(uniform), tuple(monotone[n] for n in uniform), "incidents",
                    {**region_params, "num_leaves": leaves}, "poisson", offset_for=offset_for)
            for leaves in REGION_LEAVES]


@dataclass(frozen=True)
class RegionRate:
    """The fitted region model of one set of periods: log E[incidents in the hour] per row."""

    learner: Learner | None     # None when no input is region-uniform: the hour-of-week profile alone
    booster: object | None
    profile: WeekProfile

    def log_rate(self, frame: pd.DataFrame) -> np.ndarray:
        if self.booster is None:
            return self.profile.log_rate(frame["valid_time"].to_numpy())
        return self.learner.margin(self.booster, frame)


def segment_scale(region: RegionRate, rows: pd.DataFrame) -> float:
    """c: ln(incident-hours on segments) - ln(sum of the region's rate over the same weighted rows)."""
    weight = rows["weight"].to_numpy()
    expected = np.exp(region.log_rate(rows))
    incident_hours = max(float(np.sum(weight * rows["label"].to_numpy())), 0.5)  # never ln 0
    return float(np.log(incident_hours) - np.log(np.sum(weight * expected)))


def fold_rates(selection: Selection | None, profile_for) -> dict[tuple[int, ...], RegionRate]:
    """The region model of each fold's training periods, by those periods."""
    if selection is None:
        return {}
    rates = {}
    for run in selection.runs:
        learner = replace(run.learner, rounds=selection.learner.rounds)
        rates[run.fold.train_winters] = RegionRate(learner, run.booster, profile_for(run.fold.train_winters))
    return rates
