"""Exposure: AADT, the travel-rush factor and the hour-of-day profile."""

from __future__ import annotations

import numpy as np
import pytest

from wxrisk.features import exposure


def test_hour_shares_sum_to_one_day():
    assert exposure.HOUR_SHARE.sum() == pytest.approx(1.0)
    assert exposure.hour_share(np.arange(24)).sum() == pytest.approx(1.0)


def test_segment_aadt_falls_back_to_class_default():
    aadt = exposure.segment_aadt(np.array([42000.0, np.nan, 0.0]), ["motorway", "motorway", None])
    np.testing.assert_array_equal(aadt, [42000.0, exposure.DEFAULT_AADT_BY_CLASS["motorway"],
                                         exposure.DEFAULT_AADT_OTHER])


def test_rush_factor_peaks_in_the_return_wave_and_is_one_outside():
    factor = exposure.travel_rush_factor(np.array([np.nan, -10, -3, 1, 6, 20, np.nan]),
                                         np.array([0, 0, 0, 1, 0, 0, 1]))
    np.testing.assert_allclose(factor, [1.0, 1.3, 1.8, 1.1, 2.0, 1.2, exposure.HOLIDAY_FACTOR])


def test_traffic_is_aadt_times_factor_times_share():
    vph = exposure.traffic_vph(24000.0, 2.0, 1 / 24)
    assert float(vph) == pytest.approx(2000.0)
