"""Exposure: hourly traffic on a segment = AADT x travel-rush factor x hour-of-day share.

The defaults below are planning assumptions, not measurements: an operator's counts (the
segment's `aadt`) override the class default, and the profiles can be replaced by passing
other arrays to the functions.
"""

from __future__ import annotations

import numpy as np

# Annual average daily traffic by OSM highway class when a segment has none [vehicles/day].
DEFAULT_AADT_BY_CLASS = {
    "motorway": 30000.0, "trunk": 15000.0, "primary": 10000.0, "secondary": 5000.0,
    "tertiary": 2000.0, "motorway_link": 8000.0, "trunk_link": 5000.0, "primary_link": 3000.0,
    "secondary_link": 2000.0, "tertiary_link": 1000.0,
}
DEFAULT_AADT_OTHER = 1000.0

# Share of the daily traffic in each local hour 0..23 of an intercity expressway (two daytime
# humps, quiet small hours); sums to 1.
HOUR_SHARE = np.array([1.2, 0.9, 0.8, 0.8, 1.0, 1.6, 2.8, 4.4, 5.6, 6.0, 6.1, 6.0,
                       5.7, 5.8, 6.0, 6.1, 6.2, 6.1, 5.6, 4.8, 3.9, 3.2, 2.4, 1.7], dtype=np.float64)
HOUR_SHARE = HOUR_SHARE / HOUR_SHARE.sum()

# Traffic multiplier by day of the travel rush (days relative to the Spring Festival): the
# outbound wave before the festival, the quiet festival days, the return wave after.
RUSH_FACTOR_BY_PHASE = (  # (first day, last day, factor)
    (-15, -8, 1.3), (-7, -1, 1.8), (0, 3, 1.1), (4, 8, 2.0), (9, 15, 1.5), (16, 24, 1.2),
)
HOLIDAY_FACTOR = 1.3  # other official days off (toll-free holiday travel)


def default_aadt(highway) -> np.ndarray:
    """Class default AADT [vehicles/day] for OSM `highway` values (None -> DEFAULT_AADT_OTHER)."""
    return np.array([DEFAULT_AADT_BY_CLASS.get(h, DEFAULT_AADT_OTHER) for h in highway], dtype=np.float64)


def segment_aadt(aadt, highway) -> np.ndarray:
    """The segment's own AADT where known and positive, else its class default [vehicles/day]."""
    own = np.asarray(aadt, dtype=np.float64)
    return np.where(np.isfinite(own) & (own > 0), own, default_aadt(highway))


def travel_rush_factor(rush_day, is_holiday) -> np.ndarray:
    """Traffic multiplier [×] for a day of the travel rush (NaN outside) or an official day off."""
    day = np.asarray(rush_day, dtype=np.float64)
    factor = np.where(np.asarray(is_holiday, dtype=np.float64) > 0, HOLIDAY_FACTOR, 1.0)
    for first, last, value in RUSH_FACTOR_BY_PHASE:
        factor = np.where((day >= first) & (day <= last), value, factor)
    return factor.astype(np.float32)


def hour_share(hour_local) -> np.ndarray:
    """Fraction of the day's traffic in the local hour 0..23 [1]."""
    return HOUR_SHARE[np.asarray(hour_local, dtype=np.int64)]


def traffic_vph(aadt_vpd, rush_factor, share) -> np.ndarray:
    """Vehicles per hour [veh/h] = AADT [veh/day] x rush factor [×] x hour share [1]."""
    return (np.asarray(aadt_vpd, dtype=np.float64) * np.asarray(rush_factor, dtype=np.float64)
            * np.asarray(share, dtype=np.float64)).astype(np.float32)
