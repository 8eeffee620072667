"""Stretches: contiguous risky segments of one road, merged over hours into one time window.

A segment-hour is risky when its tier is at or above `rules["stretch"]["min_tier"]`. On one road
(same `road_ref` and `route_id`, or source feature where the route is unknown; ordered by K-stake)
risky segments whose gap is at most `gap_km` join one run per hour; runs of hours at most
`gap_hours` apart whose K-stake ranges touch (within `gap_km`) join one stretch. With `max_km` set, a longer stretch is cut into equal
parts of at most `max_km`. A stretch covers every segment between its first and last K-stake, for
the hours from its onset to its end.
"""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pandas as pd

from wxrisk.config import WxriskError
from wxrisk.vocab import CONDITION_WORDS, TIER_RANK, TIER_WORDS, TIERS, haversine_km, k_stake

WEATHER_CONDITIONS = ("freezing_rain", "snow", "black_ice", "fog")
SEGMENT_COLUMNS = ("segment_id", "road_ref", "feature_id", "name", "province", "km_from", "km_to", "lon", "lat")

STRETCH_COLUMNS = [
    "stretch_id", "road_ref", "route_id", "name", "province", "km_from", "km_to", "length_km", "n_segments",
    "onset", "peak_time", "end_time", "tier", "peak_risk", "expected_incidents", "conditions",
    "lon", "lat", "segment_ids", "reasons_zh", "reasons_en", "tier_onsets", "provinces",
]


def percent_text(probability: float) -> str:
    """A probability as a percentage with two significant digits below 1 % (`0.0071%`, `15.1%`)."""
    return f"{probability:.1%}" if probability >= 0.01 else f"{probability * 100:.2g}%"


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)


def spatial_runs(km_from: np.ndarray, km_to: np.ndarray, gap_km: float) -> np.ndarray:
    """Run number of each risky segment of one road and hour, sorted by `km_from` [km]."""
    reach = np.maximum.accumulate(km_to)
    gaps = km_from[1:] - reach[:-1] > gap_km
    return np.concatenate([[0], np.cumsum(gaps)])


def road_components(hour: np.ndarray, km_from: np.ndarray, km_to: np.ndarray, gap_km: float,
                    gap_hours: float) -> np.ndarray:
    """Stretch number of each risky cell of one road.

    hour : the cell's hour [h since any origin, whole numbers]; km_from, km_to : its K-stakes [km]
    """
    order = np.lexsort((km_from, hour))
    hour_s, lo_s, hi_s = hour[order], km_from[order], km_to[order]
    runs = []  # (hour, km_lo, km_hi, first, last + 1) in sorted positions
    bounds = np.flatnonzero(np.diff(hour_s)) + 1
    for first, last in zip(np.r_[0, bounds], np.r_[bounds, len(hour_s)], strict=True):
        numbers = spatial_runs(lo_s[first:last], hi_s[first:last], gap_km)
        cuts = np.flatnonzero(np.diff(numbers)) + 1 + first
        for a, b in zip(np.r_[first, cuts], np.r_[cuts, last], strict=True):
            runs.append((hour_s[a], lo_s[a:b].min(), hi_s[a:b].max(), a, b))
    links = _UnionFind(len(runs))
    for i, (hour_i, lo_i, hi_i, _, _) in enumerate(runs):
        for j in range(i + 1, len(runs)):
            hour_j, lo_j, hi_j, _, _ = runs[j]
            if hour_j - hour_i > gap_hours + 1:
                break
            if hour_j > hour_i and lo_j - hi_i <= gap_km and lo_i - hi_j <= gap_km:
                links.union(i, j)
    labels_sorted = np.empty(len(hour_s), dtype=int)
    for i, (_, _, _, a, b) in enumerate(runs):
        labels_sorted[a:b] = links.find(i)
    labels = np.empty_like(labels_sorted)
    labels[order] = labels_sorted
    return labels


def split_long(labels: np.ndarray, km_from: np.ndarray, km_to: np.ndarray, max_km: float) -> np.ndarray:
    """Stretch numbers with every stretch longer than `max_km` [km] cut into equal parts of at most
    `max_km`, each cell going to the part holding its midpoint (a command's section of road)."""
    parts = np.zeros(len(labels), dtype=int)
    for label in np.unique(labels):
        member = labels == label
        lo, hi = km_from[member].min(), km_to[member].max()
        n_parts = max(1, math.ceil((hi - lo) / max_km - 1e-9))
        mid_km = (km_from[member] + km_to[member]) / 2
        parts[member] = np.clip(((mid_km - lo) / (hi - lo) * n_parts).astype(int), 0, n_parts - 1)
    return np.unique(np.column_stack([labels, parts]), axis=0, return_inverse=True)[1].ravel()


def _check_columns(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in frame]
    if missing:
        raise WxriskError(f"{what}: column(s) {', '.join(missing)} missing")


Arrays = dict[str, np.ndarray]


def _arrays(frame: pd.DataFrame, names) -> Arrays:
    """The named columns (those present) as numpy arrays."""
    return {name: frame[name].to_numpy() for name in names if name in frame}


def _subset(arrays: Arrays, mask: np.ndarray) -> Arrays:
    return {name: values[mask] for name, values in arrays.items()}


def _tier_onsets(cells: Arrays, min_rank: int) -> dict[str, pd.Timestamp]:
    """First hour at or above each tier the stretch reached [UTC]."""
    onsets = {}
    for tier in TIERS[min_rank:]:
        reached = cells["rank"] >= TIER_RANK[tier]
        if reached.any():
            onsets[tier] = pd.Timestamp(cells["valid_time"][reached].min())
    return onsets


def _conditions(cells: Arrays, members: Arrays, same_ref: Arrays, rules: dict) -> list[str]:
    """The named conditions of a stretch: weather during its risky hours, road features, border."""
    section = rules["conditions"]
    found = [name for name in WEATHER_CONDITIONS if name in cells and cells[name].any()]
    if (members["grade_pct"] >= float(section["grade_min_pct"])).any():
        found.append("grade")
    if members["bridge"].any():
        found.append("bridge")
    if _crosses_province(members, same_ref, float(section["border_km"])):
        found.append("cross_province")
    return found


def _crosses_province(members: Arrays, same_ref: Arrays, border_km: float) -> bool:
    """The stretch spans provinces, or a segment of the same road number (`same_ref`) in another
    province lies within `border_km` of its ends."""
    provinces = {p for p in members["province"] if p}
    if len(provinces) > 1:
        return True
    if not provinces:
        return False
    other = np.array([bool(p) and p not in provinces for p in same_ref["province"]], dtype=bool)
    if not other.any():
        return False
    for end in (0, -1):
        near = haversine_km(members["lon"][end], members["lat"][end], same_ref["lon"][other], same_ref["lat"][other])
        if (near <= border_km).any():
            return True
    return False


def _reasons(road: str, km_from: float, km_to: float, tier: str, peak_risk: float, peak_time: pd.Timestamp,
             expected: float, conditions: list[str], drivers: tuple[str, str], tz: str) -> tuple[str, str]:
    """Why the stretch is on the board, in Chinese and English."""
    local = peak_time.tz_localize("UTC").tz_convert(tz)
    stakes = f"{road} {k_stake(km_from)}–{k_stake(km_to)}"
    cond_zh = "、".join(CONDITION_WORDS[c][0] for c in conditions) or "风险偏高"
    cond_en = ", ".join(CONDITION_WORDS[c][1] for c in conditions) or "raised risk"
    zh = (f"{stakes}：{TIER_WORDS[tier][0]}等级，{local:%m月%d日%H时}风险峰值 {percent_text(peak_risk)}，"
          f"预计事故 {expected:.2f} 起；条件：{cond_zh}")
    en = (f"{stakes}: {TIER_WORDS[tier][1]}, peak risk {percent_text(peak_risk)} at {local:%d %b %H:%M} local, "
          f"{expected:.2f} expected incidents; conditions: {cond_en}")
    if drivers[0]:
        zh += f"；主因：{drivers[0]}"
    if drivers[1]:
        en += f"; drivers: {drivers[1]}"
    return zh, en


def _stretch_id(road: str, route: str, km_from: float, onset: pd.Timestamp, taken: set[str]) -> str:
    """`<road>[#<n>]-<K-stake>-<onset>Z`, unique within the board, e.g. `G4-K1123+000-20240202T03Z`.

    K-stakes count from the start of the route, so the route number is named from a road's second
    route on; a segment with no route names its source feature (`G4-w1-K3+000-...`).
    """
    if route == f"{road}#1":
        prefix = road
    elif route.startswith(road):
        prefix = route
    else:
        prefix = "-".join(p for p in (road, route) if p)
    base = f"{prefix}-{k_stake(km_from)}-{onset:%Y%m%dT%H}Z"
    stretch_id, n = base, 1
    while stretch_id in taken:
        n += 1
        stretch_id = f"{base}-{n}"
    taken.add(stretch_id)
    return stretch_id


def _clean_segments(segments_df: pd.DataFrame) -> pd.DataFrame:
    """Segments with their route (`route_id`, else the source feature), a road key, plain text
    provinces and filled flags [bridge bool, grade_pct %]."""
    segments = segments_df.copy()
    route = segments["route_id"] if "route_id" in segments else pd.Series(None, index=segments.index, dtype=object)
    segments["route"] = route.where(route.notna(), segments["feature_id"])
    segments["road_key"] = segments["road_ref"].fillna("").astype(str) + "|" + segments["route"].fillna("").astype(str)
    for column in ("road_ref", "feature_id", "route", "name", "province"):
        segments[column] = [str(v) if isinstance(v, str) and v else "" for v in segments[column]]
    segments["bridge"] = segments["bridge"].fillna(False).astype(bool) if "bridge" in segments else False
    segments["grade_pct"] = segments["grade_pct"].astype(float).fillna(0.0) if "grade_pct" in segments else 0.0
    return segments.sort_values(["road_key", "km_from"], ignore_index=True)


SEGMENT_ARRAYS = ("segment_id", "road_ref", "feature_id", "route", "name", "province", "km_from", "km_to", "lon", "lat",
                  "bridge", "grade_pct")
CELL_ARRAYS = ("valid_time", "hour", "risk", "rank", "km_from", "km_to", "top_drivers", "top_drivers_en",
               *WEATHER_CONDITIONS)


def _on_risky_roads(risk: pd.DataFrame, segments: pd.DataFrame, min_rank: int) -> pd.DataFrame:
    """Risk rows of the roads that reach the minimum tier somewhere, with road key and K-stakes.

    A positional lookup, not a merge: a national board has ~13 million rows.
    """
    risky_ids = risk.loc[risk["rank"] >= min_rank, "segment_id"].unique()
    risky_roads = segments.loc[segments["segment_id"].isin(risky_ids), "road_key"].unique()
    road_segments = segments.loc[segments["road_key"].isin(risky_roads)]
    position = pd.Index(road_segments["segment_id"]).get_indexer(risk["segment_id"])
    found = position >= 0
    risk = risk.loc[found].reset_index(drop=True)
    for column in ("road_key", "km_from", "km_to"):
        risk[column] = road_segments[column].to_numpy()[position[found]]
    return risk


def _add_condition_flags(risk: pd.DataFrame, flags_df: pd.DataFrame | None, min_rank: int) -> None:
    """Weather conditions of the cells at or above the minimum tier (the only ones that name them)."""
    risky = (risk["rank"] >= min_rank).to_numpy()
    found = None
    if flags_df is not None and not flags_df.empty:
        flags = flags_df.assign(valid_time=pd.to_datetime(flags_df["valid_time"]),
                                segment_id=flags_df["segment_id"].astype(str))
        keys = risk.loc[risky, ["segment_id", "valid_time"]].astype({"segment_id": str})
        found = keys.merge(flags.drop_duplicates(["segment_id", "valid_time"]), on=["segment_id", "valid_time"],
                           how="left")
    for name in WEATHER_CONDITIONS:
        column = np.zeros(len(risk), dtype=bool)
        if found is not None and name in found:
            column[risky] = found[name].fillna(False).to_numpy(dtype=bool)
        risk[name] = column


def build_stretches(
    risk_df: pd.DataFrame,
    segments_df: pd.DataFrame,
    rules: dict,
    flags_df: pd.DataFrame | None = None,
    tz: str = "Asia/Shanghai",
) -> pd.DataFrame:
    """Stretches of the board, one row each (columns `STRETCH_COLUMNS`).

    risk_df     : `segment_id`, `valid_time` [UTC], `risk` [probability per segment-hour], `tier`,
                  optionally `top_drivers`, `top_drivers_en`
    segments_df : the `segments` table (K-stakes [km] along `route_id` when present, province,
                  midpoint, bridge, grade_pct)
    flags_df    : weather conditions per segment-hour (`tiers.condition_flags`), or None
    tz          : time zone of the times written in the reasons
    Times are naive UTC; `onset`/`end_time` are the first/last hour at or above the minimum tier;
    `tier_onsets` (JSON) the first hour at or above each tier reached.
    """
    _check_columns(risk_df, ("segment_id", "valid_time", "risk", "tier"), "risk table")
    _check_columns(segments_df, SEGMENT_COLUMNS, "segments table")
    section = rules["stretch"]
    min_rank = TIER_RANK[section["min_tier"]]
    keep = [c for c in ("segment_id", "valid_time", "risk", "tier", "top_drivers", "top_drivers_en") if c in risk_df]
    risk = risk_df[keep].copy()
    risk["valid_time"] = pd.to_datetime(risk["valid_time"])
    risk["rank"] = np.maximum(pd.Categorical(risk["tier"], categories=TIERS).codes, 0).astype(int)
    segments = _clean_segments(segments_df)
    risk = _on_risky_roads(risk, segments, min_rank)
    if risk.empty:
        return pd.DataFrame(columns=STRETCH_COLUMNS)
    _add_condition_flags(risk, flags_df, min_rank)
    risk["hour"] = (risk["valid_time"] - risk["valid_time"].min()) // pd.Timedelta(hours=1)
    by_ref = {ref: _arrays(group, SEGMENT_ARRAYS) for ref, group in segments.groupby("road_ref")}

    rows, taken = [], set()
    for road_key, road_risk in risk.groupby("road_key", sort=True):
        road = _arrays(road_risk, CELL_ARRAYS)
        cells = _subset(road, road["rank"] >= min_rank)
        labels = road_components(cells["hour"].astype(float), cells["km_from"].astype(float),
                                 cells["km_to"].astype(float), float(section["gap_km"]), float(section["gap_hours"]))
        if section.get("max_km"):
            labels = split_long(labels, cells["km_from"].astype(float), cells["km_to"].astype(float),
                                float(section["max_km"]))
        road_segments = _arrays(segments[segments["road_key"] == road_key], SEGMENT_ARRAYS)
        same_ref = by_ref[road_segments["road_ref"][0]]
        for label in np.unique(labels):
            rows.append(_stretch_row(_subset(cells, labels == label), road_segments, same_ref, road, rules, min_rank,
                                     tz, taken))
    stretches = pd.DataFrame(rows, columns=STRETCH_COLUMNS)
    return stretches.sort_values(["road_ref", "km_from", "onset"], ignore_index=True)


def _stretch_row(cells: Arrays, road_segments: Arrays, same_ref: Arrays, road: Arrays, rules: dict, min_rank: int,
                 tz: str, taken: set[str]) -> dict:
    """One stretch from its risky cells, the segments of its road and all risk rows of that road."""
    km_from, km_to = float(cells["km_from"].min()), float(cells["km_to"].max())
    members = _subset(road_segments, (road_segments["km_from"] >= km_from - 1e-9)
                      & (road_segments["km_to"] <= km_to + 1e-9))
    onset, end_time = pd.Timestamp(cells["valid_time"].min()), pd.Timestamp(cells["valid_time"].max())
    in_window = ((road["km_from"] >= km_from - 1e-9) & (road["km_to"] <= km_to + 1e-9)
                 & (road["valid_time"] >= onset.to_datetime64()) & (road["valid_time"] <= end_time.to_datetime64()))
    expected = float(road["risk"][in_window].sum())
    peak = int(np.argmax(cells["risk"]))
    peak_time = pd.Timestamp(cells["valid_time"][peak])
    tier = TIERS[int(cells["rank"].max())]
    conditions = _conditions(cells, members, same_ref, rules)
    road_name = members["road_ref"][0] or members["feature_id"][0]
    provinces = [p for p, _ in Counter(p for p in members["province"] if p).most_common()]
    drivers = tuple(str(cells[k][peak]) if k in cells and isinstance(cells[k][peak], str) else ""
                    for k in ("top_drivers", "top_drivers_en"))
    reasons_zh, reasons_en = _reasons(road_name, km_from, km_to, tier, float(cells["risk"][peak]), peak_time,
                                      expected, conditions, drivers, tz)
    mid_km = (members["km_from"] + members["km_to"]) / 2
    centre = int(np.argmin(np.abs(mid_km - (km_from + km_to) / 2)))
    onsets = _tier_onsets(cells, min_rank)
    return {
        "stretch_id": _stretch_id(road_name, members["route"][0], km_from, onset, taken),
        "road_ref": road_name,
        "route_id": members["route"][0] or None,
        "name": next((n for n in members["name"] if n), None),
        "province": provinces[0] if provinces else None,
        "km_from": km_from,
        "km_to": km_to,
        "length_km": km_to - km_from,
        "n_segments": len(members["segment_id"]),
        "onset": onset,
        "peak_time": peak_time,
        "end_time": end_time,
        "tier": tier,
        "peak_risk": float(cells["risk"][peak]),
        "expected_incidents": expected,
        "conditions": json.dumps(conditions),
        "lon": float(members["lon"][centre]),
        "lat": float(members["lat"][centre]),
        "segment_ids": json.dumps([str(v) for v in members["segment_id"]]),
        "reasons_zh": reasons_zh,
        "reasons_en": reasons_en,
        "tier_onsets": json.dumps({t: f"{ts:%Y-%m-%dT%H:%M:%S}" for t, ts in onsets.items()}),
        "provinces": json.dumps(provinces, ensure_ascii=False),
    }
