"""Routes: the features of one road number chained end to end, so K-stakes run along the whole road.

Road files cut a road into many features (at province borders, bridges, tunnels, mountain
stretches). Two features of the same `ref` are linked when an end point of one lies within
`tolerance_km` of an end point of the other and no third end point of that ref is there (a
junction where three or more pieces meet is a branch: the routes stop there). End points that
share a node (within 1 m) are joined by that node alone, so the near end of the opposite
carriageway 20-40 m away does not turn every joint of a dual carriageway into a branch. When both features
are one-way, only head-to-tail links count (the other carriageway is another route). A feature
may be walked against its drawing direction. Features with no ref are routes of their own.

End points are matched with a k-d tree on unit vectors (O(n log n)), grouped into junctions as
connected components; the walk along the chains is O(n).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from wxrisk.vocab import EARTH_RADIUS_KM

JOIN_TOLERANCE_KM = 0.05  # end points closer than 50 m are one junction
SHARED_NODE_KM = 0.001  # end points closer than 1 m are the same node (OSM ways share nodes)
START, END = 0, 1


@dataclass(frozen=True)
class FeatureEnds:
    """What chaining needs of a feature: id, road number, one-way flag, end points [lon, lat], length [km]."""

    feature_id: str
    road_ref: str | None
    oneway: bool
    start: tuple[float, float]
    end: tuple[float, float]
    length_km: float


def unit_vectors(lon_deg: np.ndarray, lat_deg: np.ndarray) -> np.ndarray:
    """Points on the unit sphere (n, 3) for lon/lat [degrees]."""
    lon, lat = np.radians(lon_deg), np.radians(lat_deg)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def close_end_pairs(features: list[FeatureEnds], tolerance_km: float) -> np.ndarray:
    """Pairs (p, q) of end-point numbers (2 * feature + START/END) of the same ref within `tolerance_km`."""
    if not features:
        return np.empty((0, 2), dtype=int)
    lon = np.array([f.start[0] for f in features] + [f.end[0] for f in features])
    lat = np.array([f.start[1] for f in features] + [f.end[1] for f in features])
    n = len(features)
    # end point number k: feature k % n; START for k < n; renumbered to 2 * feature + side below
    point_number = np.concatenate([2 * np.arange(n) + START, 2 * np.arange(n) + END])
    chord = 2 * np.sin(tolerance_km / EARTH_RADIUS_KM / 2)
    pairs = cKDTree(unit_vectors(lon, lat)).query_pairs(chord, output_type="ndarray")
    pairs = point_number[pairs]
    refs = np.array([f.road_ref or "" for f in features], dtype=object)
    same_ref = refs[pairs[:, 0] // 2] == refs[pairs[:, 1] // 2]
    return pairs[same_ref & (pairs[:, 0] // 2 != pairs[:, 1] // 2)]


def end_links(features: list[FeatureEnds], tolerance_km: float = JOIN_TOLERANCE_KM) -> dict[int, int]:
    """For each linked end point (2 * feature + START/END), the end point it joins."""
    if not features:
        return {}
    n_points = 2 * len(features)
    shared = close_end_pairs(features, min(SHARED_NODE_KM, tolerance_km))
    near = close_end_pairs(features, tolerance_km)
    on_node = np.zeros(n_points, dtype=bool)
    on_node[shared.ravel()] = True
    pairs = np.concatenate([shared, near[~on_node[near].any(axis=1)]])
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n_points, n_points))
    junction = connected_components(graph, directed=False)[1]
    # a junction of three or more end points is a branch, of one a loose end: only pairs link
    in_pair = np.flatnonzero(np.bincount(junction, minlength=n_points)[junction] == 2)
    in_pair = in_pair[np.argsort(junction[in_pair], kind="stable")]
    p, q = in_pair[0::2], in_pair[1::2]
    oneway = np.array([f.oneway for f in features], dtype=bool)
    opposite = oneway[p // 2] & oneway[q // 2] & (p % 2 == q % 2)  # head to head: other carriageway
    p, q = p[~opposite].tolist(), q[~opposite].tolist()
    return dict(zip(p + q, q + p, strict=True))


def _walk(first: int, entry_side: int, links: dict[int, int]) -> list[tuple[int, bool]]:
    """Features (index, reversed) from `first`, entered at its `entry_side`, to the end of the chain."""
    chain, feature, side = [], first, entry_side
    while True:
        chain.append((feature, side == END))
        exit_point = 2 * feature + (1 - side)
        nxt = links.get(exit_point)
        if nxt is None or nxt // 2 == first:
            return chain
        feature, side = nxt // 2, nxt % 2


def _oriented(chain: list[tuple[int, bool]], features: list[FeatureEnds]) -> list[tuple[int, bool]]:
    """The chain in the direction most of its length is drawn in (ties: the smaller first feature id)."""
    backwards = [(i, not rev) for i, rev in reversed(chain)]
    forward_km = sum(features[i].length_km * (1 if not rev else -1) for i, rev in chain)
    if forward_km != 0:
        return chain if forward_km > 0 else backwards
    return min(chain, backwards, key=lambda c: features[c[0][0]].feature_id)


def chains(features: list[FeatureEnds], links: dict[int, int]) -> list[list[tuple[int, bool]]]:
    """Every feature in exactly one chain of (feature index, walked reversed)."""
    done = np.zeros(len(features), dtype=bool)
    found = []
    open_ends = [i for i in range(len(features)) if (2 * i + START) not in links or (2 * i + END) not in links]
    on_rings = sorted(set(range(len(features))) - set(open_ends), key=lambda k: features[k].feature_id)
    for i in open_ends + on_rings:
        if done[i]:
            continue
        enter_at_end = (2 * i + START) in links and (2 * i + END) not in links
        chain = _walk(i, END if enter_at_end else START, links)
        done[[k for k, _ in chain]] = True
        found.append(_oriented(chain, features))
    return found


def assign_routes(features: list[FeatureEnds], tolerance_km: float = JOIN_TOLERANCE_KM) -> pd.DataFrame:
    """Per feature: `feature_id`, `route_id`, `offset_km` (K-stake where the route enters it) and
    `reversed` (walked against its drawing direction).

    Route ids are `<ref>#<n>`, numbered within a ref by the smallest feature id of each route, or
    the feature id for features with no ref.
    """
    with_ref = [f for f in features if f.road_ref]
    rows = [(f.feature_id, f.feature_id, 0.0, False) for f in features if not f.road_ref]
    by_ref: dict[str, list[list[tuple[int, bool]]]] = defaultdict(list)
    for chain in chains(with_ref, end_links(with_ref, tolerance_km)):
        by_ref[with_ref[chain[0][0]].road_ref].append(chain)
    for ref, ref_chains in by_ref.items():
        ref_chains.sort(key=lambda c: min(with_ref[i].feature_id for i, _ in c))
        for number, chain in enumerate(ref_chains, start=1):
            offset_km = 0.0
            for i, rev in chain:
                rows.append((with_ref[i].feature_id, f"{ref}#{number}", offset_km, rev))
                offset_km += with_ref[i].length_km
    return pd.DataFrame(rows, columns=["feature_id", "route_id", "offset_km", "reversed"])


def route_k_stakes(km_from: np.ndarray, km_to: np.ndarray, offset_km: np.ndarray, feature_km: np.ndarray,
                   reversed_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """K-stakes along the route [km] of pieces with K-stakes along their feature [km].

    offset_km : route K-stake where the route enters the feature; feature_km : the feature's length;
    reversed_ : the route walks the feature against its drawing direction.
    """
    route_from = np.where(reversed_, offset_km + feature_km - km_to, offset_km + km_from)
    route_to = np.where(reversed_, offset_km + feature_km - km_from, offset_km + km_to)
    return route_from, route_to
