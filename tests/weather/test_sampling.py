"""Sampling weights, unit conversion and accumulation arithmetic on small hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest

from wxrisk.config import WxriskError
from wxrisk.weather.sampling import (
    GridAxes,
    SamplePoints,
    apply_weights,
    build_weights,
    cached_weights,
    weights_cache_info,
)
from wxrisk.weather.units import (
    hourly_from_accumulated_since_issue,
    hourly_from_interval_amount,
    ptype_from_ncep_flags,
    unit_scale_offset,
)

LAT = np.array([50.0, 51.0, 52.0])
LON = np.array([-2.0, -1.0, 0.0, 1.0])
FIELD = np.arange(12, dtype=np.float32).reshape(1, 3, 4)  # value = 4 * lat index + lon index


def test_bilinear_weights_average_the_four_corners():
    weights = build_weights(GridAxes(LAT, LON), np.array([-1.5, 0.0]), np.array([50.5, 52.0]))
    # (-1.5, 50.5): mean of 0, 1, 4, 5; (0.0, 52.0) is the grid node of value 10
    np.testing.assert_allclose(apply_weights(weights, FIELD), [[2.5, 10.0]])
    assert weights.matrix.nnz == 4 + 1  # zero weights are not stored


def test_descending_latitudes_give_the_same_values():
    lon, lat = np.array([-1.25, 0.6]), np.array([51.3, 50.2])
    ascending = apply_weights(build_weights(GridAxes(LAT, LON), lon, lat), FIELD)
    descending = apply_weights(build_weights(GridAxes(LAT[::-1], LON), lon, lat), FIELD[:, ::-1, :])
    np.testing.assert_allclose(ascending, descending, rtol=1e-6)


def test_global_0_360_grid_wraps_across_greenwich():
    lon = np.arange(0.0, 360.0, 10.0)  # 0 .. 350
    lat = np.array([0.0, 10.0])
    field = np.zeros((1, 2, lon.size), dtype=np.float32)
    field[..., -1] = 350.0  # column 350°E
    weights = build_weights(GridAxes(lat, lon), np.array([-5.0, 175.0]), np.array([0.0, 0.0]))
    np.testing.assert_allclose(apply_weights(weights, field), [[175.0, 0.0]])  # halfway 350° and 0°


def test_regional_0_360_grid_takes_negative_longitudes():
    lon = np.array([350.0, 351.0, 352.0])
    weights = build_weights(GridAxes(np.array([0.0, 1.0]), lon), np.array([-9.5]), np.array([0.0]))
    field = np.array([[[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]], dtype=np.float32)
    np.testing.assert_allclose(apply_weights(weights, field), [[1.5]])


def test_outside_points_and_missing_cells_are_nan():
    field = FIELD.copy()
    field[0, 0, 0] = np.nan
    weights = build_weights(GridAxes(LAT, LON), np.array([5.0, -1.8, -1.0]), np.array([51.0, 50.2, 51.0]))
    sampled = apply_weights(weights, field)
    assert np.isnan(sampled[0, 0]) and np.isnan(sampled[0, 1])  # outside; next to the NaN cell
    assert sampled[0, 2] == 5.0  # on a node: the NaN cell has weight 0 and is not used
    assert weights.outside_count == 1


def test_nearest_takes_one_cell():
    weights = build_weights(GridAxes(LAT, LON), np.array([-1.4, 0.6]), np.array([50.4, 51.6]), "nearest")
    np.testing.assert_array_equal(apply_weights(weights, FIELD), [[1.0, 11.0]])


def test_weights_read_only_the_window_and_accept_it():
    weights = build_weights(GridAxes(LAT, LON), np.array([-0.5]), np.array([51.5]))
    assert weights.window == (1, 3, 1, 3)
    np.testing.assert_allclose(apply_weights(weights, FIELD[:, 1:3, 1:3]), apply_weights(weights, FIELD))
    with pytest.raises(ValueError, match="fits neither"):
        apply_weights(weights, np.zeros((1, 5, 5)))


def test_cache_builds_once_per_grid_and_points():
    points = SamplePoints(np.array(["a", "b"], dtype=object), np.array([-1.5, 0.2]), np.array([50.5, 51.0]))
    first = cached_weights(GridAxes(LAT, LON), points)
    again = cached_weights(GridAxes(LAT.copy(), LON.copy()), points)
    other = cached_weights(GridAxes(LAT + 0.5, LON), points)
    assert first is again and other is not first
    info = weights_cache_info()
    assert (info.misses, info.hits, info.size) == (2, 1, 2)


def test_accumulations_since_issue_become_hourly_amounts():
    # ECMWF tp accumulates from the run start: 0.5 mm by +1 h, 1.5 by +2 h, 1.5 by +3 h, 4.5 by +6 h;
    # a second run (12 h later) listed first: 2 mm by +1 h.
    issued = np.array(["2024-02-01T12", "2024-02-01T00", "2024-02-01T00", "2024-02-01T00", "2024-02-01T00"],
                      dtype="datetime64[ns]")
    lead_h = np.array([1.0, 1.0, 2.0, 3.0, 6.0])
    amount_mm = np.array([[2.0], [0.5], [1.5], [1.5], [4.5]])
    per_hour = hourly_from_accumulated_since_issue(amount_mm, issued, lead_h)
    np.testing.assert_allclose(per_hour.ravel(), [2.0, 0.5, 1.0, 0.0, 1.0])


def test_interval_amounts_are_spread_over_their_hours():
    valid = np.array(["2024-02-01T03", "2024-02-01T06", "2024-02-01T09"], dtype="datetime64[ns]")
    np.testing.assert_allclose(hourly_from_interval_amount(np.array([[3.0], [6.0], [0.0]]), valid).ravel(),
                               [1.0, 2.0, 0.0])


def test_ncep_flags_pick_the_most_hazardous_type():
    flags = {"crain": np.array([1.0, 1.0, 0.0, 1.0, 0.0, np.nan]),
             "csnow": np.array([0.0, 1.0, 1.0, 0.0, 0.0, 0.0]),
             "cfrzr": np.array([0.0, 0.0, 0.0, 1.0, 0.0, 0.0])}
    # ECMWF code table 4.201: 1 rain, 7 rain/snow mix, 5 snow, 3 freezing rain, 0 none
    np.testing.assert_array_equal(ptype_from_ncep_flags(flags)[:5], [1, 7, 5, 3, 0])
    assert np.isnan(ptype_from_ncep_flags(flags)[5])


@pytest.mark.parametrize(("quantity", "units", "expected"), [
    ("temperature", "K", (1.0, -273.15)),
    ("rate", "kg m**-2 s**-1", (3600.0, 0.0)),  # 1 kg/m² of water = 1 mm; 3600 s in an hour
    ("accumulation", "m", (1000.0, 0.0)),
    ("speed", "knots", (0.514444, 0.0)),  # 1 kn = 1852 m / 3600 s
])
def test_unit_conversions(quantity, units, expected):
    assert unit_scale_offset(quantity, units, "x.nc: variable v") == pytest.approx(expected)


def test_unknown_units_name_the_variable():
    with pytest.raises(WxriskError, match=r"x\.nc: variable t2m: unknown units 'furlongs'"):
        unit_scale_offset("temperature", "furlongs", "x.nc: variable t2m")
