"""Incident history: counts strictly before the hour and empirical-Bayes shrinkage."""

from __future__ import annotations

import numpy as np
import pytest

from wxrisk.features import history


def test_counts_before_are_strict():
    counts = history.counts_before([0, 0, 1], [1.0, 3.0, 2.5], 2, np.array([1.0, 1.5, 3.0, 4.0]))
    np.testing.assert_array_equal(counts, [[0, 1, 1, 2], [0, 0, 1, 1]])


def test_shrunk_rate_formula():
    # Gamma-Poisson posterior mean (Hauer 1997, Observational Before-After Studies in Road Safety):
    # (count + m x prior) / (exposure + m).
    assert history.shrunk_rate(3, 1000.0, 0.001, 1000.0) == pytest.approx((3 + 1) / 2000)
    assert history.shrunk_rate(0, 0.0, 0.002, 500.0) == pytest.approx(0.002)  # no data: the prior


def test_segment_rate_moves_from_road_rate_towards_its_own():
    # two segments on one road; segment 0 has 4 incidents, segment 1 none, over 8760 h
    rates, road = history.history_rates_per_year([0, 0, 0, 0], [10.0, 20.0, 30.0, 40.0], [0, 0], [0, 1],
                                                 np.array([8760.0]), history_start_h=0.0)
    assert road[0, 0] == pytest.approx(road[1, 0])
    assert rates[0, 0] > road[0, 0] > rates[1, 0]
