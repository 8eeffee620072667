"""Stretches: the risky segments of one route over one episode of weather, as one entry each.

A segment-hour is risky when its tier is at or above `rules["stretch"]["min_tier"]`. On one route
(same `road_ref` and `route_id`, or the source feature where the route is unknown; ordered by
K-stake) risky segments whose gap is at most `gap_km` join one run per hour; runs at most
`gap_hours` apart whose K-stake ranges touch (within `gap_km`) are connected
(`scipy.sparse.csgraph.connected_components`). With `max_km` set, a longer stretch is cut into
equal parts of at most `max_km`. A stretch whose hourly tier falls below the tier of both the
waves around it for `episode_gap_hours` or more is cut there: one entry per episode. A stretch
covers every segment between its first and last K-stake, for the hours from its onset to its end.

Speed: the board's segment-hours on risky routes are laid out as a segment x hour grid; runs,
links and stretch figures are whole-array operations and one groupby, never a scan per road.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from wxrisk.board.tiers import CONDITION_COLUMNS, weather_risk
from wxrisk.config import WxriskError
from wxrisk.levels import CONDITION_WORDS, TIER_RANK, TIERS, WARNING_LEVELS, tier_word, warning_word
from wxrisk.vocab import haversine_km, k_stake, local_stamp

SEGMENT_COLUMNS = ("segment_id", "road_ref", "feature_id", "name", "province", "km_from", "km_to", "lon", "lat")
STRETCH_COLUMNS = [
    "stretch_id", "road_ref", "route_id", "name", "province", "km_from", "km_to", "length_km", "n_segments",
    "onset", "peak_time", "end_time", "tier", "peak_risk", "expected_incidents", "expected_weather_incidents",
    "icing_warning", "visibility_warning", "warning_onsets", "conditions", "lon", "lat", "segment_ids",
    "reasons_zh", "reasons_en", "tier_onsets", "provinces",
]


def percent_text(probability: float) -> str:
    """A probability as a percentage with two significant digits below 1 % (`0.0071%`, `15.1%`)."""
    return f"{probability:.1%}" if probability >= 0.01 else f"{probability * 100:.2g}%"


# --- the grid of risky routes -------------------------------------------------------------------

@dataclass(frozen=True)
class Grid:
    """The board's segment-hours on routes that reach the minimum tier, as segment x hour arrays.

    Rows are segments sorted by route then K-stake (`segments`, RangeIndex = row); columns are
    the board's hours (`times`, UTC). Cells without a scored row hold rank 0, risk 0, source -1.
    """

    segments: pd.DataFrame
    route: np.ndarray        # route code of each row (rows of one route are contiguous)
    times: np.ndarray        # datetime64 of each column
    rank: np.ndarray         # tier rank (0 none .. 4 red), int8
    weather: np.ndarray      # weather risk (`tiers.weather_risk`), float32
    risk: np.ndarray         # total risk, float32
    icing: np.ndarray        # road-icing warning rank, int8
    visibility: np.ndarray   # visibility control rank, int8
    source: np.ndarray       # row of the scored frame, int64 (-1 none)


def _clean_segments(segments_df: pd.DataFrame) -> pd.DataFrame:
    """Segments with their route (`route_id`, else the source feature), a route key, plain text
    names and provinces, filled flags [bridge bool, grade_pct %], sorted by route and K-stake."""
    segments = segments_df.copy()
    route = segments["route_id"] if "route_id" in segments else pd.Series(None, index=segments.index, dtype=object)
    segments["route"] = route.where(route.notna(), segments["feature_id"])
    segments["route_key"] = segments["road_ref"].fillna("").astype(str) + "|" + segments["route"].fillna("").astype(str)
    for column in ("segment_id", "road_ref", "feature_id", "route", "name", "province"):
        segments[column] = segments[column].astype(object).where(segments[column].notna(), "").astype(str)
    segments["bridge"] = segments["bridge"].fillna(False).astype(bool) if "bridge" in segments else False
    segments["grade_pct"] = segments["grade_pct"].astype(float).fillna(0.0) if "grade_pct" in segments else 0.0
    segments["province_code"] = pd.factorize(segments["province"].where(segments["province"] != ""))[0]
    return segments.sort_values(["route_key", "km_from"], ignore_index=True)


def _positions(ids: pd.Series, index: pd.Index) -> np.ndarray:
    """Position in `index` of each id (-1 when absent); a categorical looks up its categories once."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        by_category = index.get_indexer(ids.cat.categories.astype(str))
        codes = ids.cat.codes.to_numpy()
        return np.where(codes >= 0, by_category[np.maximum(codes, 0)], -1)
    return index.get_indexer(ids.astype(str))


def board_grid(frame: pd.DataFrame, segments: pd.DataFrame, min_rank: int) -> Grid | None:
    """The grid of the routes where some segment-hour reaches `min_rank`; None when none does.

    segments : `_clean_segments` of the segments table
    """
    position = _positions(frame["segment_id"], pd.Index(segments["segment_id"]))
    rank = np.maximum(pd.Categorical(frame["tier"], categories=TIERS).codes, 0).astype(np.int8)
    route_codes = pd.factorize(segments["route_key"])[0]
    risky = (rank >= min_rank) & (position >= 0)
    if not risky.any():
        return None
    on_risky_route = np.isin(route_codes, np.unique(route_codes[position[risky]]))
    new_row = np.full(len(segments), -1)
    new_row[on_risky_route] = np.arange(on_risky_route.sum())
    rows = np.where(position >= 0, new_row[np.maximum(position, 0)], -1)
    kept = np.flatnonzero(rows >= 0)  # the scored rows on risky routes: all the grid needs
    hours = pd.to_datetime(frame["valid_time"]).to_numpy()[kept].astype("datetime64[h]")
    first = hours.min()
    cols = (hours - first).astype(np.int64)
    shape = (int(on_risky_route.sum()), int(cols.max()) + 1)
    r = rows[kept]

    def layer(values: np.ndarray, dtype, fill=0) -> np.ndarray:
        out = np.full(shape, fill, dtype=dtype)
        out[r, cols] = values
        return out

    return Grid(
        segments=segments[on_risky_route].reset_index(drop=True),
        route=route_codes[on_risky_route],
        times=(first + np.arange(shape[1])).astype("datetime64[us]"),
        rank=layer(rank[kept], np.int8),
        weather=layer(weather_risk(frame, kept), np.float32),
        risk=layer(frame["risk"].to_numpy(dtype="float64", na_value=0.0)[kept], np.float32),
        icing=layer(_warning_codes(frame, "icing_warning")[kept], np.int8),
        visibility=layer(_warning_codes(frame, "visibility_warning")[kept], np.int8),
        source=layer(kept, np.int64, fill=-1),
    )


def _warning_codes(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.zeros(len(frame), dtype=np.int8)
    return np.maximum(pd.Categorical(frame[column], categories=WARNING_LEVELS).codes, 0).astype(np.int8)


# --- cells -> runs -> connected stretches -> episodes --------------------------------------------

def _running_max(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    return pd.Series(values).groupby(groups).cummax().to_numpy()


def spatial_runs(cols: np.ndarray, route: np.ndarray, km_from: np.ndarray, km_to: np.ndarray,
                 gap_km: float) -> np.ndarray:
    """Run number of each risky cell; cells sorted by hour, route and K-stake [km]. A run is one
    hour of one route whose cells lie at most `gap_km` apart."""
    if len(cols) == 0:
        return np.zeros(0, dtype=np.int64)
    new_group = np.r_[True, (cols[1:] != cols[:-1]) | (route[1:] != route[:-1])]
    reach = _running_max(km_to, np.cumsum(new_group))
    new_run = new_group.copy()
    new_run[1:] |= km_from[1:] - reach[:-1] > gap_km
    return np.cumsum(new_run) - 1


def hour_links(route: np.ndarray, col: np.ndarray, lo: np.ndarray, hi: np.ndarray, gap_km: float,
               gap_hours: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of runs (a, b) of one route, 1 to `gap_hours` + 1 hours apart, whose K-stake ranges
    [km] come within `gap_km`: the runs of one hour and of a later one, each widened by half the
    gap, sorted along the road; overlapping neighbours are linked (runs of one hour never overlap)."""
    index = np.arange(len(route))
    firsts, seconds = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for delta in range(1, gap_hours + 2) if len(route) else ():
        later = col >= delta
        who = np.r_[index, index[later]]
        pair_col = np.r_[col, col[later] - delta]
        pair_route = np.r_[route, route[later]]
        start = np.r_[lo, lo[later]] - gap_km / 2
        end = np.r_[hi, hi[later]] + gap_km / 2
        order = np.lexsort((start, pair_col, pair_route))
        who, pair_col, pair_route, start, end = who[order], pair_col[order], pair_route[order], start[order], end[order]
        new_pair = np.r_[True, (pair_col[1:] != pair_col[:-1]) | (pair_route[1:] != pair_route[:-1])]
        reach = _running_max(end, np.cumsum(new_pair))
        joined = ~new_pair[1:] & (start[1:] <= reach[:-1])
        firsts.append(who[:-1][joined])
        seconds.append(who[1:][joined])
    return np.concatenate(firsts), np.concatenate(seconds)


def connected(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component number of each of `n` nodes linked by the pairs (a, b)."""
    graph = coo_array((np.ones(len(a), dtype=np.int32), (a, b)), shape=(n, n)).tocsr()
    return connected_components(graph, directed=False)[1]


def renumber(labels: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """One number 0..n-1 per distinct (label, part) pair, in order of first appearance."""
    return pd.factorize(labels.astype(np.int64) * (int(parts.max(initial=0)) + 1) + parts)[0]


def split_long(labels: np.ndarray, km_from: np.ndarray, km_to: np.ndarray, max_km: float) -> np.ndarray:
    """Stretch numbers with every stretch longer than `max_km` [km] cut into equal parts of at most
    `max_km`, each cell going to the part holding its midpoint (a command's section of road)."""
    frame = pd.DataFrame({"label": labels, "lo": km_from, "hi": km_to})
    lo = frame.groupby("label")["lo"].transform("min").to_numpy()
    hi = frame.groupby("label")["hi"].transform("max").to_numpy()
    n_parts = np.maximum(1, np.ceil((hi - lo) / max_km - 1e-9)).astype(np.int64)
    mid = (km_from + km_to) / 2
    part = np.clip(((mid - lo) / np.where(hi > lo, hi - lo, 1.0) * n_parts).astype(np.int64), 0, n_parts - 1)
    return renumber(labels, part)


def episode_cuts(hourly: np.ndarray, gap_hours: int) -> list[int]:
    """Where one stretch's hours split into episodes (indices starting a new episode).

    hourly : the stretch's highest tier rank in each hour of its span (0 where none). A valley of
    `gap_hours` or more in which the tier stays below level L, between hours at or above L, is
    cut once, in the middle of its lowest hours; lower levels first, so a valley between two
    waves is cut once even where a higher level spans it too.
    """
    cuts: list[int] = []
    for level in range(1, int(hourly.max()) + 1):
        at_level = np.flatnonzero(hourly >= level)
        for left, right in zip(at_level[:-1], at_level[1:], strict=True):
            if right - left - 1 < gap_hours or any(left < cut <= right for cut in cuts):
                continue
            valley = hourly[left + 1:right]
            lowest = np.flatnonzero(valley == valley.min()) + left + 1
            cuts.append(int(lowest[len(lowest) // 2]))
    return sorted(cuts)


def split_episodes(labels: np.ndarray, cols: np.ndarray, rank: np.ndarray, gap_hours: int) -> np.ndarray:
    """Stretch numbers with each stretch cut into its episodes (`episode_cuts` of its hourly tier)."""
    hourly = pd.DataFrame({"label": labels, "col": cols, "rank": rank}).groupby(["label", "col"])["rank"].max()
    label_of, col_of, rank_of = (hourly.index.get_level_values(0).to_numpy(),
                                 hourly.index.get_level_values(1).to_numpy(), hourly.to_numpy())
    bounds = np.r_[0, np.flatnonzero(np.diff(label_of)) + 1, len(label_of)]
    width = int(cols.max()) + 2
    cut_keys = []  # label * width + the hour each new episode starts
    for first, last in zip(bounds[:-1], bounds[1:], strict=True):
        span = col_of[last - 1] - col_of[first] + 1
        if span < gap_hours + 2:
            continue
        series = np.zeros(span, dtype=np.int8)
        series[col_of[first:last] - col_of[first]] = rank_of[first:last]
        cut_keys += [label_of[first] * width + col_of[first] + cut for cut in episode_cuts(series, gap_hours)]
    cut_keys = np.asarray(cut_keys, dtype=np.int64)
    episode = (np.searchsorted(cut_keys, labels * width + cols, side="right")
               - np.searchsorted(cut_keys, labels * width, side="right"))
    return renumber(labels, episode)


# --- stretch rows ----------------------------------------------------------------------------------

def stretch_labels(grid: Grid, section: dict, min_rank: int) -> pd.DataFrame:
    """The risky cells of the grid (`row`, `col`) with their stretch number `label`."""
    risky = grid.rank >= min_rank
    cols, rows = np.nonzero(risky.transpose())  # by hour, then route and K-stake
    km_from, km_to = grid.segments["km_from"].to_numpy(float), grid.segments["km_to"].to_numpy(float)
    lo, hi, route = km_from[rows], km_to[rows], grid.route[rows]
    gap_km = float(section["gap_km"])
    run = spatial_runs(cols, route, lo, hi, gap_km)
    starts = np.flatnonzero(np.r_[True, run[1:] != run[:-1]])
    run_hi = np.maximum.reduceat(hi, starts)
    a, b = hour_links(route[starts], cols[starts], lo[starts], run_hi, gap_km, int(section["gap_hours"]))
    labels = connected(len(starts), a, b)[run]
    if section.get("max_km"):
        labels = split_long(labels, lo, hi, float(section["max_km"]))
    rank = grid.rank[rows, cols]
    labels = split_episodes(labels, cols, rank, int(section.get("episode_gap_hours") or 10**6))
    return pd.DataFrame({"label": labels, "row": rows, "col": cols, "rank": rank,
                         "weather": grid.weather[rows, cols], "source": grid.source[rows, cols]})


def _summaries(cells: pd.DataFrame, frame: pd.DataFrame, min_rank: int) -> pd.DataFrame:
    """One row per stretch from its risky cells: extent, hours, tier, peak cell, first hour at each
    tier, and the weather conditions met in its risky hours (one groupby)."""
    for name in CONDITION_COLUMNS:
        cells[name] = frame[name].to_numpy(dtype=bool)[cells["source"]] if name in frame else False
    groups = cells.groupby("label", sort=True)
    summary = groups.agg(row_lo=("row", "min"), row_hi=("row", "max"), col_lo=("col", "min"),
                         col_hi=("col", "max"), rank=("rank", "max"), peak=("weather", "idxmax"),
                         **{name: (name, "any") for name in CONDITION_COLUMNS})
    for tier in TIERS[min_rank:]:
        summary[f"onset_{tier}"] = cells["col"].where(cells["rank"] >= TIER_RANK[tier]).groupby(cells["label"]).min()
    summary["peak_col"] = cells["col"].to_numpy()[summary["peak"].to_numpy()]
    summary["peak_source"] = cells["source"].to_numpy()[summary["peak"].to_numpy()]
    summary["peak_weather"] = cells["weather"].to_numpy()[summary["peak"].to_numpy()]
    for column in ("top_drivers", "top_drivers_en"):
        texts = frame[column].take(summary["peak_source"].to_numpy()).to_numpy(dtype=object) if column in frame else None
        summary[column] = [t if isinstance(t, str) else "" for t in texts] if texts is not None else ""
    return summary


def _level_onsets(levels: np.ndarray, times: np.ndarray) -> dict[str, str]:
    """First hour [UTC ISO] at or above each warning level reached, from the per-hour highest level."""
    return {WARNING_LEVELS[level]: f"{pd.Timestamp(times[np.argmax(levels >= level)]):%Y-%m-%dT%H:%M:%S}"
            for level in range(1, int(levels.max(initial=0)) + 1)}


Arrays = dict[str, np.ndarray]
SEGMENT_ARRAYS = ("segment_id", "road_ref", "feature_id", "route", "name", "province", "province_code", "km_from",
                  "km_to", "lon", "lat", "bridge", "grade_pct")


TEXT_COLUMNS = ("segment_id", "road_ref", "feature_id", "route", "name", "province")


def _arrays(frame: pd.DataFrame, names) -> Arrays:
    """The named columns as numpy arrays (text as Python strings): per-stretch slices stay cheap."""
    return {name: frame[name].to_numpy(dtype=object if name in TEXT_COLUMNS else None) for name in names}


def _crosses_province(members: Arrays, same_ref: Arrays, border_km: float) -> bool:
    """The stretch spans provinces, or a segment of the same road number (`same_ref`) in another
    province lies within `border_km` of its ends (`province_code`: -1 where unnamed)."""
    provinces = np.unique(members["province_code"][members["province_code"] >= 0])
    if len(provinces) != 1:
        return len(provinces) > 1
    other = (same_ref["province_code"] >= 0) & (same_ref["province_code"] != provinces[0])
    if not other.any():
        return False
    near = haversine_km(members["lon"][[0, -1], None], members["lat"][[0, -1], None],
                        same_ref["lon"][None, other], same_ref["lat"][None, other])
    return bool((near <= border_km).any())


def _conditions(summary, members: Arrays, same_ref: Arrays, rules: dict) -> list[str]:
    """The named conditions of a stretch: weather during its risky hours, road features, border."""
    section = rules["conditions"]
    found = [name for name in CONDITION_COLUMNS if bool(getattr(summary, name))]
    if (members["grade_pct"] >= float(section["grade_min_pct"])).any():
        found.append("grade")
    if members["bridge"].any():
        found.append("bridge")
    if _crosses_province(members, same_ref, float(section["border_km"])):
        found.append("cross_province")
    return found


@dataclass(frozen=True)
class Figures:
    """What a stretch's reasons say."""

    road: str
    km_from: float
    km_to: float
    tier: str
    peak_weather: float
    peak_time: pd.Timestamp
    expected: float
    expected_weather: float
    warnings: dict[str, str]
    conditions: list[str]
    drivers: tuple[str, str]


def reasons(f: Figures, tz: str) -> tuple[str, str]:
    """Why the stretch is on the board, in Chinese and English."""
    local = local_stamp(f.peak_time, tz)
    stakes = f"{f.road} {k_stake(f.km_from)}–{k_stake(f.km_to)}"
    cond_zh = "、".join(CONDITION_WORDS[c][0] for c in f.conditions) or "风险偏高"
    cond_en = ", ".join(CONDITION_WORDS[c][1] for c in f.conditions) or "raised risk"
    zh = (f"{stakes}：{tier_word(f.tier)}等级，{local:%m月%d日%H时}天气风险峰值 {percent_text(f.peak_weather)}，"
          f"预计天气事故 {f.expected_weather:.2f} 起（全部事故 {f.expected:.2f} 起）；条件：{cond_zh}")
    en = (f"{stakes}: {tier_word(f.tier, 'en')}, peak weather risk {percent_text(f.peak_weather)} at "
          f"{local:%d %b %H:%M} local, {f.expected_weather:.2f} expected weather incidents ({f.expected:.2f} "
          f"of any kind); conditions: {cond_en}")
    warned = [(kind, level) for kind, level in f.warnings.items() if level != "none"]
    if warned:
        zh += "；" + "、".join(warning_word(kind, level) for kind, level in warned)
        en += "; " + "; ".join(warning_word(kind, level, "en") for kind, level in warned)
    if f.drivers[0]:
        zh += f"；主因：{f.drivers[0]}"
    if f.drivers[1]:
        en += f"; drivers: {f.drivers[1]}"
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


class _StretchWriter:
    """Turns stretch summaries into `STRETCH_COLUMNS` rows, reading the grid box of each stretch."""

    def __init__(self, grid: Grid, segments: pd.DataFrame, rules: dict, min_rank: int, tz: str) -> None:
        self.grid, self.rules, self.min_rank, self.tz = grid, rules, min_rank, tz
        self.segments = _arrays(grid.segments, SEGMENT_ARRAYS)
        self.by_ref = {ref: _arrays(group, ("province_code", "lon", "lat")) for ref, group in segments.groupby("road_ref")}
        self.taken: set[str] = set()

    def row(self, s) -> dict:
        grid = self.grid
        members = {name: values[s.row_lo:s.row_hi + 1] for name, values in self.segments.items()}
        rows, hours = slice(s.row_lo, s.row_hi + 1), slice(int(s.col_lo), int(s.col_hi) + 1)
        km_from, km_to = float(members["km_from"].min()), float(members["km_to"].max())
        onset, end_time = pd.Timestamp(grid.times[s.col_lo]), pd.Timestamp(grid.times[s.col_hi])
        peak_time = pd.Timestamp(grid.times[s.peak_col])
        tier = TIERS[int(s.rank)]
        icing_hourly = grid.icing[rows, hours].max(axis=0)
        visibility_hourly = grid.visibility[rows, hours].max(axis=0)
        warnings = {"icing": WARNING_LEVELS[int(icing_hourly.max())],
                    "visibility": WARNING_LEVELS[int(visibility_hourly.max())]}
        road_name = members["road_ref"][0] or members["feature_id"][0]
        conditions = _conditions(s, members, self.by_ref.get(members["road_ref"][0], members), self.rules)
        expected = float(grid.risk[rows, hours].sum(dtype=np.float64))
        expected_weather = float(grid.weather[rows, hours].sum(dtype=np.float64))
        drivers = (s.top_drivers, s.top_drivers_en)
        zh, en = reasons(Figures(road_name, km_from, km_to, tier, float(s.peak_weather), peak_time, expected,
                                 expected_weather, warnings, conditions, drivers), self.tz)
        provinces = [p for p, _ in Counter(p for p in members["province"] if p).most_common()]
        centre = int(np.argmin(np.abs((members["km_from"] + members["km_to"]) / 2 - (km_from + km_to) / 2)))
        onsets = {t: pd.Timestamp(grid.times[int(getattr(s, f"onset_{t}"))]) for t in TIERS[self.min_rank:]
                  if not pd.isna(getattr(s, f"onset_{t}"))}
        return {
            "stretch_id": _stretch_id(road_name, members["route"][0], km_from, onset, self.taken),
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
            "peak_risk": float(s.peak_weather),
            "expected_incidents": expected,
            "expected_weather_incidents": expected_weather,
            "icing_warning": warnings["icing"],
            "visibility_warning": warnings["visibility"],
            "warning_onsets": json.dumps({"icing": _level_onsets(icing_hourly, grid.times[hours]),
                                          "visibility": _level_onsets(visibility_hourly, grid.times[hours])}),
            "conditions": json.dumps(conditions),
            "lon": float(members["lon"][centre]),
            "lat": float(members["lat"][centre]),
            "segment_ids": json.dumps([str(v) for v in members["segment_id"]]),
            "reasons_zh": zh,
            "reasons_en": en,
            "tier_onsets": json.dumps({t: f"{ts:%Y-%m-%dT%H:%M:%S}" for t, ts in onsets.items()}),
            "provinces": json.dumps(provinces, ensure_ascii=False),
        }


def _check_columns(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in frame]
    if missing:
        raise WxriskError(f"{what}: column(s) {', '.join(missing)} missing")


def build_stretches(frame: pd.DataFrame, segments_df: pd.DataFrame, rules: dict, tz: str) -> pd.DataFrame:
    """Stretches of the board, one row per stretch and episode (columns `STRETCH_COLUMNS`).

    frame       : the scored segment-hours (`wxrisk.scored.ScoredRun.frame`): `segment_id`,
                  `valid_time` [UTC], `risk`, `tier`; optionally `ice_risk`, `baseline_risk`,
                  `top_drivers`, `top_drivers_en`, the warnings `icing_warning`,
                  `visibility_warning` and the conditions `freezing_rain`, `snow`, `black_ice`, `fog`
    segments_df : the `segments` table (K-stakes [km] along `route_id` when present, province,
                  midpoint, bridge, grade_pct)
    tz          : time zone of the times written in the reasons
    Times are naive UTC; `onset`/`end_time` are the first/last hour at or above the minimum tier;
    `tier_onsets` (JSON) the first hour at or above each tier reached; `warning_onsets` (JSON) the
    first hour at each warning level on the stretch's segments in its window.
    """
    _check_columns(frame, ("segment_id", "valid_time", "risk", "tier"), "risk table")
    _check_columns(segments_df, SEGMENT_COLUMNS, "segments table")
    section = rules["stretch"]
    min_rank = TIER_RANK[section["min_tier"]]
    segments = _clean_segments(segments_df)
    grid = board_grid(frame, segments, min_rank)
    if grid is None:
        return pd.DataFrame(columns=STRETCH_COLUMNS)
    cells = stretch_labels(grid, section, min_rank)
    writer = _StretchWriter(grid, segments, rules, min_rank, tz)
    rows = [writer.row(s) for s in _summaries(cells, frame, min_rank).itertuples()]
    stretches = pd.DataFrame(rows, columns=STRETCH_COLUMNS)
    return stretches.sort_values(["road_ref", "km_from", "onset"], ignore_index=True)
