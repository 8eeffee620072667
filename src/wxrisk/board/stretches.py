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
from dataclasses import dataclass
from functools import lru_cache
from json.encoder import encode_basestring_ascii

import numpy as np
import pandas as pd
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from wxrisk.board.tiers import CONDITION_COLUMNS, weather_risk
from wxrisk.config import WxriskError
from wxrisk.levels import (
    CONDITION_WORDS,
    TIER_RANK,
    TIERS,
    WARNING_KINDS,
    WARNING_LEVELS,
    tier_word,
    warning_word,
)
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
        by_category = np.r_[index.get_indexer(ids.cat.categories.astype(str)), -1]
        return by_category[ids.cat.codes.to_numpy()]  # code -1 (missing) reads the -1 at the end
    return index.get_indexer(ids.astype(str))


HOUR_US = 3_600_000_000


def _hours(valid_time: pd.Series) -> np.ndarray:
    """Whole hours since 1970 [UTC] of naive UTC times."""
    if not pd.api.types.is_datetime64_dtype(valid_time.dtype):
        valid_time = pd.to_datetime(valid_time)
    return valid_time.to_numpy().astype("datetime64[us]", copy=False).view(np.int64) // HOUR_US


def board_grid(frame: pd.DataFrame, segments: pd.DataFrame, min_rank: int, weather: np.ndarray | None = None
               ) -> Grid | None:
    """The grid of the routes where some segment-hour reaches `min_rank`; None when none does.

    segments : `_clean_segments` of the segments table
    weather  : `tiers.weather_risk(frame)` when already at hand
    """
    position = _positions(frame["segment_id"], pd.Index(segments["segment_id"]))
    rank = np.maximum(category_codes(frame["tier"], TIERS), 0).astype(np.int8)
    route_codes = pd.factorize(segments["route_key"])[0]
    risky = (rank >= min_rank) & (position >= 0)
    if not risky.any():
        return None
    on_risky_route = np.isin(route_codes, np.unique(route_codes[position[risky]]))
    new_row = np.r_[np.full(len(segments), -1), -1]
    new_row[np.flatnonzero(on_risky_route)] = np.arange(on_risky_route.sum())
    rows = new_row[position]  # position -1 reads the -1 at the end
    hours = _hours(frame["valid_time"])
    n_hours = _whole_blocks(position, hours)
    if n_hours:  # a complete segment x hour matrix: lay whole rows out
        first = int(hours[0])
        block_rows = rows[::n_hours]
        laid = np.flatnonzero(block_rows >= 0)
        shape = (int(on_risky_route.sum()), n_hours)

        def layer(values: np.ndarray, dtype, fill=0) -> np.ndarray:
            out = np.full(shape, fill, dtype=dtype)
            out[block_rows[laid]] = values.reshape(-1, n_hours)[laid]
            return out
    else:
        kept = np.flatnonzero(rows >= 0)  # the scored rows on risky routes: all the grid needs
        first = int(hours[kept].min())
        cols = hours[kept] - first
        shape = (int(on_risky_route.sum()), int(cols.max()) + 1)
        cells = rows[kept] * shape[1] + cols

        def layer(values: np.ndarray, dtype, fill=0) -> np.ndarray:
            out = np.full(shape, fill, dtype=dtype)
            out.reshape(-1)[cells] = values[kept]
            return out

    return Grid(
        segments=segments[on_risky_route].reset_index(drop=True),
        route=route_codes[on_risky_route],
        times=(np.datetime64(first, "h") + np.arange(shape[1])).astype("datetime64[us]"),
        rank=layer(rank, np.int8),
        weather=layer(weather if weather is not None else weather_risk(frame), np.float32),
        risk=layer(frame["risk"].to_numpy(dtype="float64", na_value=0.0), np.float32),
        icing=layer(_warning_codes(frame, "icing_warning"), np.int8),
        visibility=layer(_warning_codes(frame, "visibility_warning"), np.int8),
        source=layer(np.arange(len(frame)), np.int64, fill=-1),
    )


def _whole_blocks(position: np.ndarray, hours: np.ndarray) -> int | None:
    """The number of hours when the rows are whole blocks of one segment each, every hour of the
    board in order, no segment twice (the layout of a complete run); else None.

    position : each row's segment (-1 unknown); hours : each row's hour [h since 1970]
    """
    n_hours = int(hours.max() - hours.min()) + 1
    if len(hours) % n_hours:
        return None
    by_block = position.reshape(-1, n_hours)
    if not ((hours.reshape(-1, n_hours) == hours[:n_hours]).all() and (hours[:n_hours] == hours[0] + np.arange(n_hours)).all()
            and (by_block == by_block[:, :1]).all()):
        return None
    known = by_block[:, 0][by_block[:, 0] >= 0]
    return n_hours if len(np.unique(known)) == len(known) else None


def category_codes(values: pd.Series, categories) -> np.ndarray:
    """Position of each value in `categories` (-1 for others); a categorical of just those
    categories is read as it is."""
    if isinstance(values.dtype, pd.CategoricalDtype) and list(values.cat.categories) == list(categories):
        return values.cat.codes.to_numpy()
    return pd.Categorical(values, categories=categories).codes


def _warning_codes(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.zeros(len(frame), dtype=np.int8)
    return np.maximum(category_codes(frame[column], WARNING_LEVELS), 0).astype(np.int8)


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
    lo_rank = np.unique(lo, return_inverse=True)[1].astype(np.int64)  # sorts like lo, as one exact integer key
    routes = int(route.max(initial=0)) + 1
    for delta in range(1, gap_hours + 2) if len(route) else ():
        later = col >= delta
        who = np.r_[index, index[later]]
        pair_col = np.r_[col, col[later] - delta]
        pair_route = np.r_[route, route[later]]
        # by hour, route and start along the road: two runs already in that order, merged
        order = np.argsort((pair_col.astype(np.int64) * routes + pair_route) * len(lo) + lo_rank[who], kind="stable")
        who, pair_col, pair_route = who[order], pair_col[order], pair_route[order]
        start, end = lo[who] - gap_km / 2, hi[who] + gap_km / 2
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
    lo, hi = np.full(int(labels.max()) + 1, np.nan), np.full(int(labels.max()) + 1, np.nan)
    np.fmin.at(lo, labels, km_from)  # each stretch's extent, NaN skipped
    np.fmax.at(hi, labels, km_to)
    lo, hi = lo[labels], hi[labels]
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
        wide = np.flatnonzero(np.diff(at_level) - 1 >= gap_hours)
        for left, right in zip(at_level[wide].tolist(), at_level[wide + 1].tolist(), strict=True):
            if any(left < cut <= right for cut in cuts):
                continue
            valley = hourly[left + 1:right]
            lowest = np.flatnonzero(valley == valley.min()) + left + 1
            cuts.append(int(lowest[len(lowest) // 2]))
    return sorted(cuts)


def split_episodes(labels: np.ndarray, cols: np.ndarray, rank: np.ndarray, gap_hours: int) -> np.ndarray:
    """Stretch numbers with each stretch cut into its episodes (`episode_cuts` of its hourly tier)."""
    hourly = np.zeros((int(labels.max()) + 1, int(cols.max()) + 1), dtype=np.int8)  # stretch x hour: top rank
    present = np.zeros(hourly.shape, dtype=bool)
    present[labels, cols] = True
    for level in range(1, int(rank.max(initial=0)) + 1):
        at_level = rank >= level
        hourly[labels[at_level], cols[at_level]] = level
    first = present.argmax(axis=1)
    spans = hourly.shape[1] - present[:, ::-1].argmax(axis=1) - first
    at_top = (hourly == hourly.max(axis=1)[:, None]).sum(axis=1)
    # a valley is gap_hours or more below some level, so below the stretch's top tier
    may_cut = np.flatnonzero((spans >= gap_hours + 2) & (spans - at_top >= gap_hours))
    cut_label, cut_col = [], []  # where each new episode starts
    for label, start, span in zip(may_cut.tolist(), first[may_cut].tolist(), spans[may_cut].tolist(), strict=True):
        cuts = episode_cuts(hourly[label, start:start + span], gap_hours)
        cut_label += [label] * len(cuts)
        cut_col += [start + cut for cut in cuts]
    starts_here = np.zeros(hourly.shape, dtype=np.int32)
    np.add.at(starts_here, (np.asarray(cut_label, dtype=np.int64), np.asarray(cut_col, dtype=np.int64)), 1)
    episode = np.cumsum(starts_here, axis=1)[labels, cols] if cut_label else np.zeros(len(labels), dtype=np.int64)
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
    """One row per stretch (by label) from its risky cells: extent, hours, tier, peak cell (the first
    with the highest weather risk), first hour at each tier (NaN where never), and the weather
    conditions met in its risky hours."""
    label = cells["label"].to_numpy()
    order = np.argsort(label, kind="stable")  # each stretch's cells together, in cell order
    starts = np.flatnonzero(np.r_[True, label[order][1:] != label[order][:-1]])
    row, col, rank, weather, source = (cells[c].to_numpy()[order] for c in ("row", "col", "rank", "weather", "source"))
    summary = pd.DataFrame({"row_lo": np.minimum.reduceat(row, starts), "row_hi": np.maximum.reduceat(row, starts),
                            "col_lo": np.minimum.reduceat(col, starts), "col_hi": np.maximum.reduceat(col, starts),
                            "rank": np.maximum.reduceat(rank, starts)})
    for name in CONDITION_COLUMNS:
        summary[name] = np.logical_or.reduceat(frame[name].to_numpy(dtype=bool)[source], starts) if name in frame else False
    never = np.iinfo(np.int64).max
    for tier in TIERS[min_rank:]:
        first = np.minimum.reduceat(np.where(rank >= TIER_RANK[tier], col, never), starts)
        summary[f"onset_{tier}"] = np.where(first == never, np.nan, first)
    highest = np.fmax.reduceat(weather, starts).repeat(np.diff(np.r_[starts, len(weather)]))
    peak = np.minimum(_first_where(weather == highest, starts), np.r_[starts[1:], len(weather)] - 1)
    summary["peak_col"], summary["peak_source"], summary["peak_weather"] = col[peak], source[peak], weather[peak]
    for column in ("top_drivers", "top_drivers_en"):
        texts = frame[column].take(source[peak]).to_numpy(dtype=object) if column in frame else None
        summary[column] = [t if isinstance(t, str) else "" for t in texts] if texts is not None else ""
    return summary


# --- stretch rows, column by column ---------------------------------------------------------------

@lru_cache(maxsize=4096)
def local_hour_words(moment: pd.Timestamp, tz: str) -> tuple[str, str]:
    """A naive UTC time in local words: (`02月02日05时`, `02 Feb 05:00`)."""
    local = local_stamp(moment, tz)
    return f"{local:%m月%d日%H时}", f"{local:%d %b %H:%M}"


def _spans(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every integer of the non-empty inclusive ranges [lo, hi], range after range: the range each
    belongs to, the integer, and where each range starts in that listing."""
    counts = hi - lo + 1
    starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    owner = np.repeat(np.arange(len(lo)), counts)
    return owner, np.arange(int(counts.sum())) - starts[owner] + lo[owner], starts


def _first_where(mask: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Position of the first True of each group (groups start at `starts`); len(mask) when none."""
    return np.minimum.reduceat(np.where(mask, np.arange(len(mask)), len(mask)), starts)


def _any_in(flags: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Whether any of `flags` [lo..hi] is set, for each inclusive range."""
    before = np.r_[0, np.cumsum(flags, dtype=np.int64)]
    return before[hi + 1] > before[lo]


@dataclass(frozen=True)
class Members:
    """The segments of each stretch (grid rows row_lo..row_hi), listed stretch after stretch."""

    lo: np.ndarray      # first grid row of each stretch
    hi: np.ndarray      # last grid row of each stretch
    owner: np.ndarray   # stretch of each listed segment
    row: np.ndarray     # grid row of each listed segment
    starts: np.ndarray  # where each stretch's segments start in the listing

    @classmethod
    def of(cls, summary: pd.DataFrame) -> Members:
        lo, hi = summary["row_lo"].to_numpy(np.int64), summary["row_hi"].to_numpy(np.int64)
        return cls(lo, hi, *_spans(lo, hi))


def _extent(members: Members, segments: pd.DataFrame) -> dict[str, np.ndarray]:
    """K-stakes [km], the midpoint of the segment nearest the stretch's middle, the first name."""
    km_from_of, km_to_of = segments["km_from"].to_numpy()[members.row], segments["km_to"].to_numpy()[members.row]
    km_from, km_to = np.minimum.reduceat(km_from_of, members.starts), np.maximum.reduceat(km_to_of, members.starts)
    distance = np.abs((km_from_of + km_to_of) / 2 - ((km_from + km_to) / 2)[members.owner])
    nearest = np.minimum.reduceat(distance, members.starts)[members.owner]
    centre = members.row[_first_where((distance == nearest) | np.isnan(distance), members.starts)]
    names = segments["name"].to_numpy(dtype=object)
    first_named = _first_where((names != "")[members.row], members.starts)
    named = first_named < len(members.row)
    return {"km_from": km_from, "km_to": km_to,
            "lon": segments["lon"].to_numpy(float)[centre], "lat": segments["lat"].to_numpy(float)[centre],
            "name": np.where(named, names[members.row[np.minimum(first_named, len(members.row) - 1)]], None)}


def _province_codes(members: Members, segments: pd.DataFrame) -> list[list[int]]:
    """The province codes of each stretch's named segments, most segments first (ties: first met)."""
    codes = segments["province_code"].to_numpy()[members.row]
    named = np.flatnonzero(codes >= 0)
    keys = members.owner[named] * (int(codes.max(initial=0)) + 1) + codes[named]
    _, first, count = np.unique(keys, return_index=True, return_counts=True)
    owner, code = members.owner[named][first], codes[named][first]
    order = np.lexsort((first, -count, owner))
    found: list[list[int]] = [[] for _ in members.starts]
    for stretch, province in zip(owner[order].tolist(), code[order].tolist(), strict=True):
        found[stretch].append(province)
    return found


def _near_other_province(members: Members, codes: list[list[int]], grid: Grid, all_segments: pd.DataFrame,
                         border_km: float, chunk: int = 512) -> np.ndarray:
    """For the stretches within one province: whether a segment of the same road number in another
    province lies within `border_km` of either end."""
    near = np.zeros(len(codes), dtype=bool)
    single = np.flatnonzero([len(c) == 1 for c in codes])
    if not len(single):
        return near
    ends = np.stack([members.lo[single], members.hi[single]], axis=1)
    ends_lon, ends_lat = grid.segments["lon"].to_numpy(float)[ends], grid.segments["lat"].to_numpy(float)[ends]
    refs = grid.segments["road_ref"].to_numpy(dtype=object)[members.lo[single]]
    named = all_segments[all_segments["province_code"] >= 0]
    by_ref = dict(tuple(named.groupby("road_ref")))
    groups = pd.DataFrame({"ref": refs, "code": [codes[s][0] for s in single]}).groupby(["ref", "code"]).indices
    for (ref, code), which in groups.items():
        same_ref = by_ref.get(ref)
        other = same_ref[same_ref["province_code"] != code] if same_ref is not None else ()
        for part in np.array_split(which, -(-len(which) // chunk)) if len(other) else ():
            distance = haversine_km(ends_lon[part][:, :, None], ends_lat[part][:, :, None],
                                    other["lon"].to_numpy(float)[None, None, :], other["lat"].to_numpy(float)[None, None, :])
            near[single[part]] = (distance <= border_km).any(axis=(1, 2))
    return near


def _conditions(summary: pd.DataFrame, members: Members, grid: Grid, codes: list[list[int]],
                all_segments: pd.DataFrame, rules: dict) -> list[tuple[str, ...]]:
    """The named conditions of each stretch: weather during its risky hours, road features, and a
    province border (the stretch spans provinces, or its road number enters another province
    within `border_km` of its ends)."""
    section = rules["conditions"]
    grade = _any_in(grid.segments["grade_pct"].to_numpy(float) >= float(section["grade_min_pct"]), members.lo, members.hi)
    bridge = _any_in(grid.segments["bridge"].to_numpy(bool), members.lo, members.hi)
    crosses = np.array([len(c) > 1 for c in codes], dtype=bool)
    crosses |= _near_other_province(members, codes, grid, all_segments, float(section["border_km"]))
    flags = {**{name: summary[name].to_numpy(bool) for name in CONDITION_COLUMNS},
             "grade": grade, "bridge": bridge, "cross_province": crosses}
    return list(zip(*(np.where(met, name, "").tolist() for name, met in flags.items()), strict=True))


@dataclass(frozen=True)
class Warnings:
    """A stretch's highest official warning level (rank) and the first hour (grid column) it reaches
    each level, over its segments and hours."""

    rank: np.ndarray                 # per stretch, 0 none .. 3
    onsets: list[dict[int, int]]     # per stretch: level rank -> first column


def _warnings(layers: dict[str, np.ndarray], summary: pd.DataFrame) -> dict[str, Warnings]:
    """The warnings of each stretch's box of grid cells (rows row_lo..row_hi, its hours)."""
    hour_owner, hour_col, hour_starts = _spans(summary["col_lo"].to_numpy(np.int64), summary["col_hi"].to_numpy(np.int64))
    cell_owner, cell_row, cell_starts = _spans(summary["row_lo"].to_numpy(np.int64)[hour_owner],
                                               summary["row_hi"].to_numpy(np.int64)[hour_owner])
    found = {}
    for kind, layer in layers.items():
        hourly = np.maximum.reduceat(layer[cell_row, hour_col[cell_owner]], cell_starts)
        rank = np.maximum.reduceat(hourly, hour_starts)
        first = {level: hour_col[np.minimum(_first_where(hourly >= level, hour_starts), len(hourly) - 1)]
                 for level in range(1, int(rank.max(initial=0)) + 1)}
        onsets = [{level: int(first[level][s]) for level in range(1, top + 1)} for s, top in enumerate(rank.tolist())]
        found[kind] = Warnings(rank, onsets)
    return found


def _expected(grid: Grid, summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Expected incidents of any kind and weather incidents of each stretch: sums over its box."""
    boxes = list(zip(*(summary[c].to_numpy(np.int64).tolist() for c in ("row_lo", "row_hi", "col_lo", "col_hi")),
                     strict=True))
    return tuple(np.array([layer[r0:r1 + 1, c0:c1 + 1].sum(dtype=np.float64) for r0, r1, c0, c1 in boxes],
                          dtype=np.float64) for layer in (grid.risk, grid.weather))


class _Words:
    """The words of a board's reasons; each repeated phrase (K-stake, tier, conditions, warnings)
    is written once per board."""

    def __init__(self, times: np.ndarray, tz: str) -> None:
        self.local = [local_hour_words(pd.Timestamp(t), tz) for t in times]  # per grid column
        self.tiers = {tier: (tier_word(tier), tier_word(tier, "en")) for tier in TIERS}
        self.stakes: dict[float, str] = {}
        self.conditions: dict[tuple[str, ...], tuple[str, str]] = {}
        self.warnings: dict[tuple[str, ...], tuple[str, str]] = {}

    def k_stake(self, km: float) -> str:
        if km not in self.stakes:
            self.stakes[km] = k_stake(km)
        return self.stakes[km]

    def _conditions(self, conditions: tuple[str, ...]) -> tuple[str, str]:
        if conditions not in self.conditions:
            self.conditions[conditions] = ("、".join(CONDITION_WORDS[c][0] for c in conditions) or "风险偏高",
                                           ", ".join(CONDITION_WORDS[c][1] for c in conditions) or "raised risk")
        return self.conditions[conditions]

    def _warnings(self, levels: tuple[str, ...]) -> tuple[str, str]:
        """`levels`: the stretch's level of each of WARNING_KINDS."""
        if levels not in self.warnings:
            warned = [(kind, level) for kind, level in zip(WARNING_KINDS, levels, strict=True) if level != "none"]
            self.warnings[levels] = (
                "；" + "、".join(warning_word(kind, level) for kind, level in warned) if warned else "",
                "; " + "; ".join(warning_word(kind, level, "en") for kind, level in warned) if warned else "")
        return self.warnings[levels]

    def reasons(self, road: str, km_from: float, km_to: float, tier: str, peak_weather: float, peak_col: int,
                expected: float, expected_weather: float, levels: tuple[str, ...], conditions: tuple[str, ...],
                drivers: tuple[str, str]) -> tuple[str, str]:
        """Why the stretch is on the board, in Chinese and English (peak_col: the grid column of its peak)."""
        local_zh, local_en = self.local[peak_col]
        stakes = f"{road} {self.k_stake(km_from)}–{self.k_stake(km_to)}"
        tier_zh, tier_en = self.tiers[tier]
        cond_zh, cond_en = self._conditions(conditions)
        peak = percent_text(peak_weather)
        warned_zh, warned_en = self._warnings(levels)
        zh = (f"{stakes}：{tier_zh}等级，{local_zh}天气风险峰值 {peak}，"
              f"预计天气事故 {expected_weather:.2f} 起（全部事故 {expected:.2f} 起）；条件：{cond_zh}{warned_zh}")
        en = (f"{stakes}: {tier_en}, peak weather risk {peak} at {local_en} local, {expected_weather:.2f} expected "
              f"weather incidents ({expected:.2f} of any kind); conditions: {cond_en}{warned_en}")
        if drivers[0]:
            zh += f"；主因：{drivers[0]}"
        if drivers[1]:
            en += f"; drivers: {drivers[1]}"
        return zh, en


def _stretch_id(road: str, route: str, stake: str, onset: str, taken: set[str]) -> str:
    """`<road>[#<n>]-<K-stake>-<onset>Z`, unique within the board, e.g. `G4-K1123+000-20240202T03Z`.

    K-stakes count from the start of the route, so the route number is named from a road's second
    route on; a segment with no route names its source feature (`G4-w1-K3+000-...`).
    stake : the K-stake of its start; onset : the onset hour as `20240202T03`
    """
    if route == f"{road}#1":
        prefix = road
    elif route.startswith(road):
        prefix = route
    else:
        prefix = "-".join(p for p in (road, route) if p)
    base = f"{prefix}-{stake}-{onset}Z"
    stretch_id, n = base, 1
    while stretch_id in taken:
        n += 1
        stretch_id = f"{base}-{n}"
    taken.add(stretch_id)
    return stretch_id


class _Json:
    """JSON texts of repeated values, each written once."""

    def __init__(self, **options) -> None:
        self.options, self.texts = options, {}

    def __call__(self, key, value) -> str:
        text = self.texts.get(key)
        if text is None:
            text = self.texts[key] = json.dumps(value, **self.options)
        return text


def _stretch_rows(summary: pd.DataFrame, grid: Grid, all_segments: pd.DataFrame, rules: dict, min_rank: int,
                  tz: str) -> pd.DataFrame:
    """The `STRETCH_COLUMNS` rows of the stretches summarised in `summary`, in its order: figures as
    whole columns, then the words (ids, reasons, JSON) stretch by stretch."""
    members = Members.of(summary)
    segments = grid.segments
    extent = _extent(members, segments)
    codes = _province_codes(members, segments)
    province_names = segments.drop_duplicates("province_code").set_index("province_code")["province"].to_dict()
    conditions = _conditions(summary, members, grid, codes, all_segments, rules)
    warnings = _warnings({"icing": grid.icing, "visibility": grid.visibility}, summary)
    expected, expected_weather = _expected(grid, summary)
    iso = [f"{pd.Timestamp(t):%Y-%m-%dT%H:%M:%S}" for t in grid.times]
    hour_stamps = [f"{pd.Timestamp(t):%Y%m%dT%H}" for t in grid.times]
    roads = segments["road_ref"].to_numpy(dtype=object)[members.lo]
    roads = np.where(roads == "", segments["feature_id"].to_numpy(dtype=object)[members.lo], roads)
    routes = segments["route"].to_numpy(dtype=object)[members.lo]
    ids = [encode_basestring_ascii(i) for i in segments["segment_id"].astype(str).tolist()]  # as json.dumps writes them
    tiers = [TIERS[r] for r in summary["rank"].tolist()]
    onset_tiers = TIERS[min_rank:]
    reached = list(zip(*(summary[f"onset_{t}"].fillna(-1).to_numpy(np.int64).tolist() for t in onset_tiers),
                       strict=True))  # per stretch: first column at each tier, -1 where never
    levels = list(zip(*([WARNING_LEVELS[r] for r in w.rank.tolist()] for w in warnings.values()), strict=True))
    warned = list(zip(*(w.onsets for w in warnings.values()), strict=True))
    onsets_json, plain_json, words_json = _Json(), _Json(), _Json(ensure_ascii=False)
    words = _Words(grid.times, tz)
    columns = {name: [] for name in ("stretch_id", "warning_onsets", "conditions", "segment_ids", "reasons_zh",
                                     "reasons_en", "tier_onsets", "provinces", "province")}
    taken: set[str] = set()
    for s, (road, route, km_from, km_to, tier, col_lo, peak_col, peak, found, lo, hi, *drivers) in enumerate(zip(
            roads.tolist(), routes.tolist(), extent["km_from"].tolist(), extent["km_to"].tolist(), tiers,
            summary["col_lo"].tolist(), summary["peak_col"].tolist(), summary["peak_weather"].tolist(),
            conditions, members.lo.tolist(), members.hi.tolist(), summary["top_drivers"].tolist(),
            summary["top_drivers_en"].tolist(), strict=True)):
        named = tuple(c for c in found if c)
        zh, en = words.reasons(road, km_from, km_to, tier, peak, peak_col, expected[s], expected_weather[s],
                               levels[s], named, drivers)
        provinces = [province_names[c] for c in codes[s]]
        warned_at = tuple(tuple(by_level.items()) for by_level in warned[s])
        columns["stretch_id"].append(_stretch_id(road, route, words.k_stake(km_from), hour_stamps[col_lo], taken))
        columns["warning_onsets"].append(onsets_json(("w", *warned_at), {
            kind: {WARNING_LEVELS[level]: iso[col] for level, col in pairs}
            for kind, pairs in zip(warnings, warned_at, strict=True)}))
        columns["conditions"].append(plain_json(("c", *named), list(named)))
        columns["segment_ids"].append("[" + ", ".join(ids[lo:hi + 1]) + "]")
        columns["reasons_zh"].append(zh)
        columns["reasons_en"].append(en)
        columns["tier_onsets"].append(onsets_json(("t", *reached[s]), {
            t: iso[col] for t, col in zip(onset_tiers, reached[s], strict=True) if col >= 0}))
        columns["provinces"].append(words_json(tuple(provinces), provinces))
        columns["province"].append(provinces[0] if provinces else None)
    return pd.DataFrame({
        "stretch_id": columns["stretch_id"],
        "road_ref": roads.tolist(),
        "route_id": [route or None for route in routes.tolist()],
        "name": extent["name"].tolist(),
        "province": columns["province"],
        "km_from": extent["km_from"],
        "km_to": extent["km_to"],
        "length_km": extent["km_to"] - extent["km_from"],
        "n_segments": members.hi - members.lo + 1,
        "onset": grid.times[summary["col_lo"].to_numpy()],
        "peak_time": grid.times[summary["peak_col"].to_numpy()],
        "end_time": grid.times[summary["col_hi"].to_numpy()],
        "tier": tiers,
        "peak_risk": summary["peak_weather"].to_numpy(np.float64),
        "expected_incidents": expected,
        "expected_weather_incidents": expected_weather,
        "icing_warning": [WARNING_LEVELS[r] for r in warnings["icing"].rank.tolist()],
        "visibility_warning": [WARNING_LEVELS[r] for r in warnings["visibility"].rank.tolist()],
        "warning_onsets": columns["warning_onsets"],
        "conditions": columns["conditions"],
        "lon": extent["lon"],
        "lat": extent["lat"],
        "segment_ids": columns["segment_ids"],
        "reasons_zh": columns["reasons_zh"],
        "reasons_en": columns["reasons_en"],
        "tier_onsets": columns["tier_onsets"],
        "provinces": columns["provinces"],
    }, columns=STRETCH_COLUMNS)


def _check_columns(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in frame]
    if missing:
        raise WxriskError(f"{what}: column(s) {', '.join(missing)} missing")


def build_stretches(frame: pd.DataFrame, segments_df: pd.DataFrame, rules: dict, tz: str,
                    weather: np.ndarray | None = None) -> pd.DataFrame:
    """Stretches of the board, one row per stretch and episode (columns `STRETCH_COLUMNS`).

    frame       : the scored segment-hours (`wxrisk.scored.ScoredRun.frame`): `segment_id`,
                  `valid_time` [UTC], `risk`, `tier`; optionally `ice_risk`, `baseline_risk`,
                  `top_drivers`, `top_drivers_en`, the warnings `icing_warning`,
                  `visibility_warning` and the conditions `freezing_rain`, `snow`, `black_ice`, `fog`
    segments_df : the `segments` table (K-stakes [km] along `route_id` when present, province,
                  midpoint, bridge, grade_pct)
    tz          : time zone of the times written in the reasons
    weather     : `tiers.weather_risk(frame)`, when already at hand
    Times are naive UTC; `onset`/`end_time` are the first/last hour at or above the minimum tier;
    `tier_onsets` (JSON) the first hour at or above each tier reached; `warning_onsets` (JSON) the
    first hour at each warning level on the stretch's segments in its window.
    """
    _check_columns(frame, ("segment_id", "valid_time", "risk", "tier"), "risk table")
    _check_columns(segments_df, SEGMENT_COLUMNS, "segments table")
    section = rules["stretch"]
    min_rank = TIER_RANK[section["min_tier"]]
    segments = _clean_segments(segments_df)
    grid = board_grid(frame, segments, min_rank, weather)
    if grid is None:
        return pd.DataFrame(columns=STRETCH_COLUMNS)
    cells = stretch_labels(grid, section, min_rank)
    stretches = _stretch_rows(_summaries(cells, frame, min_rank), grid, segments, rules, min_rank, tz)
    return stretches.sort_values(["road_ref", "km_from", "onset"], ignore_index=True)
