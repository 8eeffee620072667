"""Trailing windows along the hour axis, against plain loops."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from wxrisk.features import windows


def _naive_rolling_sum(values: np.ndarray, hours: int) -> np.ndarray:
    out = np.full(values.shape, np.nan)
    for s in range(values.shape[0]):
        for t in range(hours - 1, values.shape[1]):
            out[s, t] = values[s, t - hours + 1:t + 1].sum()  # NaN in the window -> NaN
    return out


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, (3, 30), elements=st.one_of(st.just(np.nan), st.floats(0, 20, width=32)))
       | arrays(np.float32, (3, 30), elements=st.floats(0, 20, width=32)),
       st.integers(1, 31), st.integers(0, 29))
def test_rolling_sum_matches_loops(values, hours, from_hour):
    expected = _naive_rolling_sum(values, hours)
    np.testing.assert_allclose(windows.rolling_sum(values, hours), expected, rtol=1e-5, atol=1e-4)
    trimmed = windows.rolling_sums(values, (hours,), from_hour=from_hour)[hours]
    np.testing.assert_allclose(trimmed, expected[:, from_hour:], rtol=1e-5, atol=1e-4)


def test_rolling_sums_of_one_millimetre_an_hour():
    sums = windows.rolling_sums(np.ones((2, 30), dtype=np.float32), (1, 3, 24))
    assert sums[3][0, 2] == 3.0 and np.isnan(sums[3][0, 1])
    assert sums[24][1, 29] == 24.0 and np.isnan(sums[24][1, 22])


def test_hours_since_true_and_run_length():
    wet = np.array([[False, True, True, False, False, False]])
    np.testing.assert_array_equal(windows.hours_since_true(wet, cap_h=48), [[48, 0, 0, 1, 2, 3]])
    cold = np.array([[True, True, False, True, True, True]])
    np.testing.assert_array_equal(windows.run_length_h(cold, cap_h=2), [[1, 2, 0, 1, 2, 2]])
