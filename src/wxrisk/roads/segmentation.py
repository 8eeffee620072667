"""Cutting a road line into pieces of at most `max_km`, with K-stakes and curvature.

Pieces start on whole multiples of `max_km` from the start of the line (K0+000, K1+000, ...),
so a K-stake reads as police read it; the last piece holds the remainder. Work per line is
O(vertices + pieces), with numpy for the geometry.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from wxrisk.vocab import haversine_km

LENGTH_TOLERANCE_KM = 1e-6  # 1 mm: a remainder shorter than this is not a piece of its own


class Piece(NamedTuple):
    """One segment of a line: K-stakes [km], path [[lon, lat], ...], midpoint and curvature."""

    km_from: float
    km_to: float
    path: np.ndarray
    lon_mid: float
    lat_mid: float
    curvature_deg_per_km: float


def drop_repeated_vertices(coords: np.ndarray) -> np.ndarray:
    """The line without consecutive duplicate vertices [lon, lat]."""
    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(np.diff(coords, axis=0) != 0, axis=1)
    return coords[keep]


def turn_angles_deg(coords: np.ndarray) -> np.ndarray:
    """Absolute change of heading [deg] at each vertex (0 at both ends) of a line [lon, lat]."""
    lat_mid = np.radians((coords[:-1, 1] + coords[1:, 1]) / 2)
    dx = np.diff(coords[:, 0]) * np.cos(lat_mid)
    dy = np.diff(coords[:, 1])
    heading = np.degrees(np.arctan2(dy, dx))
    turn = np.abs((np.diff(heading) + 180.0) % 360.0 - 180.0)
    return np.concatenate([[0.0], turn, [0.0]])


def cut_line(coords: np.ndarray, max_km: float, km_offset: float = 0.0) -> list[Piece]:
    """Pieces of at most `max_km` along a line of >= 2 distinct vertices [lon, lat in degrees].

    `km_offset` [km] is the K-stake of the line's first vertex (for later parts of a multi-line).
    """
    coords = drop_repeated_vertices(np.asarray(coords, dtype=float))
    cum_km = np.concatenate([[0.0], np.cumsum(haversine_km(
        coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1]))])
    total_km = float(cum_km[-1])
    n_pieces = max(1, math.ceil((total_km - LENGTH_TOLERANCE_KM) / max_km))
    cuts_km = np.minimum(np.arange(n_pieces + 1) * max_km, total_km)
    cuts_km[-1] = total_km
    cut_lon = np.interp(cuts_km, cum_km, coords[:, 0])
    cut_lat = np.interp(cuts_km, cum_km, coords[:, 1])
    mids_km = (cuts_km[:-1] + cuts_km[1:]) / 2
    mid_lon = np.interp(mids_km, cum_km, coords[:, 0])
    mid_lat = np.interp(mids_km, cum_km, coords[:, 1])
    turn_prefix = np.concatenate([[0.0], np.cumsum(turn_angles_deg(coords))])
    first_inside = np.searchsorted(cum_km, cuts_km[:-1], side="right")
    end_inside = np.searchsorted(cum_km, cuts_km[1:], side="left")
    pieces = []
    for j in range(n_pieces):
        lo, hi = int(first_inside[j]), int(end_inside[j])
        path = np.vstack([[cut_lon[j], cut_lat[j]], coords[lo:hi], [cut_lon[j + 1], cut_lat[j + 1]]])
        length_km = cuts_km[j + 1] - cuts_km[j]
        turn_deg = turn_prefix[hi] - turn_prefix[lo] if hi > lo else 0.0
        curvature = turn_deg / length_km if length_km > 0 else 0.0
        pieces.append(Piece(km_offset + float(cuts_km[j]), km_offset + float(cuts_km[j + 1]), path,
                            float(mid_lon[j]), float(mid_lat[j]), float(curvature)))
    return pieces
