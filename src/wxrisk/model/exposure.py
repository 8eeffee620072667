"""The region's hour-of-week shape of incidents, the starting point of its hourly rate (`region`).

People drive, and crash, by the clock. The share of a week's incidents that falls in each local
hour of the week is estimated from **every** incident of the region (matched to a segment or
not, thousands where a segment has a handful) over the analysed hours.

Estimates are shrunk, so an empty cell never means "never": the rate of an hour of the week is
pulled toward its hour of the day by WEEK_PRIOR_H hours of exposure, the hour of the day toward
the overall rate by DAY_PRIOR_H.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wxrisk.model.dataset import winter_of

HOURS_PER_WEEK = 168
WEEK_PRIOR_H = 4.0  # four weeks of one hour-of-week cell [h]
DAY_PRIOR_H = 28.0  # four weeks of one hour-of-day [h]


def hour_of_week(valid_time, timezone: str) -> np.ndarray:
    """Local hour of the week (Monday 00-01 = 0) of the hour ending at each naive-UTC `valid_time`.

    Computed once per distinct time (a board has 72 of them in millions of rows)."""
    codes, distinct = pd.factorize(pd.DatetimeIndex(pd.to_datetime(np.asarray(valid_time))), use_na_sentinel=False)
    local = (pd.DatetimeIndex(distinct) - pd.Timedelta(hours=1)).tz_localize("UTC").tz_convert(timezone)
    return (local.day_of_week * 24 + local.hour).to_numpy(dtype=np.int64)[codes]


@dataclass(frozen=True)
class WeekProfile:
    """The offset of a model: base segment-hour rate and the relative rate of each hour of the week."""

    timezone: str
    base_rate: float
    relative_rate: tuple[float, ...]  # 168 values, exposure-weighted mean 1

    def log_rate(self, valid_time) -> np.ndarray:
        """ln(base rate) + ln(relative rate of the hour of week) per row."""
        return np.log(self.base_rate) + np.log(np.asarray(self.relative_rate))[hour_of_week(valid_time, self.timezone)]

    @classmethod
    def flat(cls, base_rate: float) -> WeekProfile:
        """The same rate in every hour of the week (no local clock to tell them apart)."""
        return cls("UTC", base_rate, (1.0,) * HOURS_PER_WEEK)

    def to_json(self) -> dict:
        return {"timezone": self.timezone, "base_rate": self.base_rate, "relative_rate": list(self.relative_rate)}

    @classmethod
    def from_json(cls, data: dict) -> WeekProfile:
        return cls(data["timezone"], float(data["base_rate"]), tuple(float(v) for v in data["relative_rate"]))


class WeekCounts:
    """Incidents and analysed hours per period (winter) and hour of week, to profile any set of periods.

    `period_of` maps times to period keys (default: `dataset.winter_of`).
    """

    def __init__(self, incident_times, analysed_hours, timezone: str,
                 period_of: Callable[[pd.Series], np.ndarray] | None = None):
        self.timezone = timezone
        self.period_of = period_of or (lambda times: winter_of(times).to_numpy())
        self.incidents = self._per_period(incident_times)
        self.exposure = self._per_period(analysed_hours)

    def _per_period(self, times) -> dict[int, np.ndarray]:
        times = pd.Series(pd.to_datetime(np.asarray(times)))
        cells = hour_of_week(times, self.timezone)
        periods = np.asarray(self.period_of(times))
        return {int(p): np.bincount(cells[periods == p], minlength=HOURS_PER_WEEK).astype("float64")
                for p in np.unique(periods)}

    def profile(self, winters: Iterable[int], base_rate: float) -> WeekProfile:
        """The shrunk relative rates of `winters` together, with the segment-hour `base_rate`."""
        winters = list(winters)
        zero = np.zeros(HOURS_PER_WEEK)
        counts = sum((self.incidents.get(w, zero) for w in winters), zero)
        exposure = sum((self.exposure.get(w, zero) for w in winters), zero)
        overall = counts.sum() / max(exposure.sum(), 1.0)
        day_counts, day_exposure = counts.reshape(7, 24).sum(axis=0), exposure.reshape(7, 24).sum(axis=0)
        day_rate = (day_counts + DAY_PRIOR_H * overall) / (day_exposure + DAY_PRIOR_H)
        week_rate = (counts + WEEK_PRIOR_H * np.tile(day_rate, 7)) / (exposure + WEEK_PRIOR_H)
        if overall <= 0:
            return WeekProfile(self.timezone, base_rate, (1.0,) * HOURS_PER_WEEK)
        relative = week_rate / (np.average(week_rate, weights=exposure) if exposure.sum() else overall)
        return WeekProfile(self.timezone, base_rate, tuple(float(v) for v in relative))
