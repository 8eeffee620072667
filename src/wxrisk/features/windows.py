"""Trailing-window operations along the hour axis (axis 1) of (segments x hours) arrays."""

from __future__ import annotations

import numpy as np


def rolling_sum(values, hours: int):
    """Sum over the `hours` hours ending at each hour (inclusive) [same unit as values].

    NaN where the window holds a missing value or reaches before the first hour.
    """
    return rolling_sums(values, (hours,))[hours]


def rolling_sums(values, windows_h, from_hour: int = 0) -> dict[int, np.ndarray]:
    """`rolling_sum` for several window lengths [h] at once (one cumulative sum), float32.

    Only hours from `from_hour` on are returned (shape (S, H - from_hour)).
    """
    values = np.asarray(values)
    n_rows, n_hours = values.shape
    missing = np.isnan(values)
    has_gaps = bool(missing.any())
    totals = np.zeros((n_rows, n_hours + 1), dtype=np.float64)
    np.cumsum(np.where(missing, 0.0, values) if has_gaps else values, axis=1, dtype=np.float64, out=totals[:, 1:])
    if has_gaps:
        gaps = np.zeros((n_rows, n_hours + 1), dtype=np.int32)
        np.cumsum(missing, axis=1, dtype=np.int32, out=gaps[:, 1:])
    sums = {}
    scratch = np.empty((n_rows, n_hours - from_hour), dtype=np.float64)
    for hours in windows_h:
        out = np.empty((n_rows, n_hours - from_hour), dtype=np.float32)
        first = max(hours, from_hour + 1)  # index into totals of the first full window returned
        out[:, :first - 1 - from_hour] = np.nan  # windows reaching before the first hour
        if first <= n_hours:
            window_sum = np.subtract(totals[:, first:], totals[:, first - hours:n_hours + 1 - hours],
                                     out=scratch[:, :n_hours + 1 - first])
            target = out[:, first - 1 - from_hour:]
            np.maximum(window_sum, 0.0, out=target, casting="same_kind")
            if has_gaps:
                target[gaps[:, first:] > gaps[:, first - hours:n_hours + 1 - hours]] = np.nan
        sums[hours] = out
    return sums


def hours_since_true(flag, cap_h: int):
    """Hours since the flag was last true (0 when true now), capped at cap_h [h].

    `flag` is boolean; hours before any true value within the array read as cap_h.
    """
    flag = np.asarray(flag, dtype=bool)
    hour = np.arange(flag.shape[1], dtype=np.int32)  # int32: half the memory traffic of int64
    last_true = np.maximum.accumulate(np.where(flag, hour, np.int32(-(10**9))), axis=1)
    return np.minimum(np.subtract(hour, last_true, out=last_true), cap_h).astype(np.float32)


def run_length_h(flag, cap_h: int):
    """Hours the flag has been true without a break up to and including each hour, capped [h]."""
    flag = np.asarray(flag, dtype=bool)
    hour = np.arange(flag.shape[1], dtype=np.int32)
    last_false = np.maximum.accumulate(np.where(flag, np.int32(-1), hour), axis=1)
    return np.minimum(np.subtract(hour, last_false, out=last_false), cap_h).astype(np.float32)
