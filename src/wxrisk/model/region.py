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
over the sample lies between hours rather than between segments within an hour. When the weather
itself is region-uniform the region rate takes every input at least MOSTLY_HOURLY_SHARE hourly
(`region_inputs`); otherwise it is the hour-of-week profile alone. The local clock (`CLOCK`) is
always on the region side.
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
MOSTLY_HOURLY_SHARE = 0.15  # in a region that shares its weather, inputs this hourly also go to the region rate
CLOCK = ("hour_local", "dow_local")  # always on the region side: the hour-of-week profile or the region rate
SHARED_WEATHER = ("t2m_c", "precip_mm_1h")  # either one region-uniform: the segments share their weather
REGION_LEAVES = (3, 7)
REGION_MIN_HOURS_IN_LEAF = 50  # a region leaf holds at least this many hours [h]


def between_hour_share(hours: pd.DataFrame, names: Sequence[str]) -> dict[str, float]:
    """Per input, the share of its variance that lies between hours rather than between segments within
    an hour (`hours`: per-hour means and `<name>__var` over the drawn segments); inputs unknown or
    constant everywhere are left out."""
    shares = {}
    for name in names:
        if name not in hours or f"{name}__var" not in hours:
            continue
        means, within = hours[name].to_numpy(dtype="float64"), hours[f"{name}__var"].to_numpy(dtype="float64")
        known = np.isfinite(means) & np.isfinite(within)
        if known.sum() < 2:
            continue
        between, inside = float(np.var(means[known])), float(np.mean(within[known]))
        if between > 0:
            shares[name] = between / (between + inside)
    return shares


def region_inputs(shares: dict[str, float], progress) -> list[str]:
    """The region rate's inputs: when the segments share their weather (a region-uniform
    SHARED_WEATHER input), every input at least MOSTLY_HOURLY_SHARE hourly (the segment trees would
    learn their hourly part from far fewer incidents); else none.

    Where the weather differs between segments, a region-wide rate on the calendar alone would
    credit the calendar with the storms (the demo world's icing episodes fall in the travel rush),
    so the region rate is then the hour-of-week profile and the trees learn calendar and weather
    together.
    """
    if any(shares.get(name, 0.0) >= UNIFORM_SHARE for name in SHARED_WEATHER):
        return [name for name, share in shares.items() if share >= MOSTLY_HOURLY_SHARE]
    progress("region rate: the weather differs between segments, so the hour-of-week profile alone "
             "(the segment trees learn calendar and weather together)")
    return []


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
