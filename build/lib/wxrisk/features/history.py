"""Incident history: a segment's past incident rate, from incidents strictly before the hour scored.

Empirical Bayes (Gamma-Poisson) shrinkage: a segment with few hours of history is pulled
towards its road's rate, a road towards the rate of all segments. All times are hours [h]
counted from one origin; an incident at time t counts for hour h only when t < h.
"""

from __future__ import annotations

import numpy as np

HOURS_PER_YEAR = 8760.0
PRIOR_STRENGTH_H = 8760.0  # weight of the prior, in segment-hours of evidence [h]


def counts_before(group_of_incident, incident_time_h, n_groups: int, hour_h) -> np.ndarray:
    """(n_groups, H) number of incidents of each group with time < each hour start [count]."""
    group = np.asarray(group_of_incident, dtype=np.int64)
    time_h = np.asarray(incident_time_h, dtype=np.float64)
    hours = np.asarray(hour_h, dtype=np.float64)
    span = max(float(np.max(np.abs(time_h), initial=0.0)), float(np.max(np.abs(hours), initial=0.0))) * 2 + 1.0
    keys = np.sort(group * span + time_h)
    base = np.arange(n_groups, dtype=np.float64)[:, None] * span
    return (np.searchsorted(keys, base + hours[None, :], side="left")
            - np.searchsorted(keys, base - span / 2, side="left"))


def shrunk_rate(count, exposure_h, prior_rate_per_h, prior_strength_h: float = PRIOR_STRENGTH_H):
    """Posterior mean rate [1/h] = (count + m x prior) / (exposure + m), m = prior_strength_h [h]."""
    return ((np.asarray(count, dtype=np.float64) + prior_strength_h * np.asarray(prior_rate_per_h))
            / (np.asarray(exposure_h, dtype=np.float64) + prior_strength_h))


def history_rates_per_year(incident_segment, incident_time_h, segment_road, target_segments,
                           hour_h, history_start_h: float):
    """Smoothed incident rates of the target segments and of their roads [incidents/segment/year].

    incident_segment : index of each incident's segment into the list of all segments
    incident_time_h  : incident times [h from the origin]
    segment_road     : road index of every segment (length = all segments)
    target_segments  : indices of the segments scored (S,)
    hour_h           : start of each hour scored [h from the origin] (H,)
    history_start_h  : when the incident record starts [h from the origin]
    Returns (segment_rate, road_rate), both (S, H) float32; NaN for hours with no history yet.
    """
    incident_segment = np.asarray(incident_segment, dtype=np.int64)
    segment_road = np.asarray(segment_road, dtype=np.int64)
    target = np.asarray(target_segments, dtype=np.int64)
    hours = np.asarray(hour_h, dtype=np.float64)
    exposure_h = hours - history_start_h
    n_roads = int(segment_road.max(initial=-1)) + 1
    segs_per_road = np.bincount(segment_road, minlength=n_roads).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        all_count = counts_before(np.zeros(len(incident_segment)), incident_time_h, 1, hours)[0]
        global_rate = np.where(exposure_h > 0, all_count / (len(segment_road) * exposure_h), np.nan)
        road_count = counts_before(segment_road[incident_segment], incident_time_h, n_roads, hours)
        road_rate = shrunk_rate(road_count, segs_per_road[:, None] * exposure_h, global_rate)
        position = np.full(len(segment_road), -1, dtype=np.int64)
        position[target] = np.arange(len(target))
        mine = position[incident_segment] >= 0
        seg_count = counts_before(position[incident_segment[mine]], np.asarray(incident_time_h)[mine],
                                  len(target), hours)
        target_road_rate = road_rate[segment_road[target]]
        seg_rate = shrunk_rate(seg_count, exposure_h[None, :], target_road_rate)
    return ((seg_rate * HOURS_PER_YEAR).astype(np.float32), (target_road_rate * HOURS_PER_YEAR).astype(np.float32))
