"""Training data: segment-hours thinned before their features are built, and every incident.

Labels. A segment-hour is `label` 1 when at least one incident matched to the segment occurred
in the hour ending at `valid_time` (`valid_time - 1 h <= occurred_at < valid_time`), the hour the
weather accumulations cover; `ice_label` 1 when one of them was an ice/snow incident
(`ICE_CONDITION`: an icy, frosty, snowy or slushy surface, or snow or freezing-rain weather).

Thinning. Incidents are a few per million segment-hours, so features are built only for a
sample. Per chunk of CHUNK_HOURS, a seeded hash picks segments (at least MIN_SEGMENTS_PER_CHUNK,
so that no fortnight's rows hang on a handful of roads) and every segment with an incident in
the chunk; their features are built, and of the picked segments' incident-free hours a second
hash keeps enough that each incident-free segment-hour is kept with probability `rate`. Every
segment-hour with an incident is kept (weight 1). Kept incident-free rows are weighted so that
each chunk's weighted count equals its true number of incident-free segment-hours, so the
weighted rows have the true incident rate, fortnight by fortnight.

Incidents. The ice/snow share model learns from every incident of the region, matched to a
segment or not, with the features of the nearest segment at its hour (`incident_rows`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from wxrisk.config import Settings, WxriskError
from wxrisk.vocab import ICE_SNOW_SURFACES, ICE_SNOW_WEATHER, utc_series

ICE_CONDITION = (f"(coalesce(surface IN {ICE_SNOW_SURFACES}, FALSE) "
                 f"OR coalesce(weather IN {ICE_SNOW_WEATHER}, FALSE))")
CHUNK_HOURS = 336  # hours of one thinning draw (two weeks) [h]
MIN_SEGMENTS_PER_CHUNK = 200  # segments whose features are built per chunk, at least (or all)
NEAREST_SEGMENT_MAX_KM = 30.0  # an incident farther than this from every segment has no weather [km]
HOUR = timedelta(hours=1)


def normalise_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """`segment_id` as text and `valid_time` as naive UTC microseconds, so joins and hashes agree."""
    missing = [c for c in ("segment_id", "valid_time") if c not in frame.columns]
    if missing:
        raise WxriskError(f"features frame: missing key column(s) {', '.join(missing)}")
    return frame.assign(segment_id=frame["segment_id"].astype("string"),
                        valid_time=utc_series(frame["valid_time"]).astype("datetime64[us]"))


def winter_of(valid_time: pd.Series) -> pd.Series:
    """The winter a time belongs to, named by the year of its January (July starts the next one)."""
    times = pd.to_datetime(pd.Series(valid_time))
    return times.dt.year + (times.dt.month >= 7).astype("int64")


def winter_name(winter: int) -> str:
    """`2024/25` for the winter whose January is in 2025."""
    return f"{winter - 1}/{winter % 100:02d}"


# --- where features come from ---------------------------------------------------------------

class DatabaseFeatures:
    """Features built from the database (`wxrisk.features`), for any subset of segments."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings):
        self.con, self.settings = con, settings

    def frame(self, start: datetime, end: datetime, segments: Collection[str] | None = None) -> pd.DataFrame:
        """Analysis features of `[start, end)` for `segments` (None: every segment with weather)."""
        from wxrisk.features import feature_window, tile_features

        window = feature_window(self.con, self.settings, start, end, weather_kind="analysis")
        if segments is not None:
            keep = window.segments["segment_id"].isin(pd.Index(list(segments), dtype=object)).to_numpy()
            window = replace(window, segments=window.segments.loc[keep].reset_index(drop=True))
        if window.segments.empty:
            return pd.DataFrame(columns=["segment_id", "valid_time"])
        return normalise_keys(tile_features(self.con, window).frame)


@dataclass
class FrameFeatures:
    """Features from a prebuilt frame (tests, notebooks): sliced, never built."""

    features: pd.DataFrame

    def __post_init__(self) -> None:
        self.features = normalise_keys(self.features)

    def frame(self, start: datetime, end: datetime, segments: Collection[str] | None = None) -> pd.DataFrame:
        times = self.features["valid_time"]
        keep = (times >= pd.Timestamp(start)) & (times < pd.Timestamp(end))
        if segments is not None:
            keep &= self.features["segment_id"].isin(pd.Index(list(segments), dtype="string"))
        return self.features.loc[keep].reset_index(drop=True)


# --- incidents --------------------------------------------------------------------------------

def incident_table(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> pd.DataFrame:
    """Every incident whose hour (`valid_time`, the hour ending after it) is in `[start, end)`.

    Columns: incident_id, valid_time (the hour ending after it), segment_id (matched, else NA),
    lon, lat, ice (bool, `ICE_CONDITION`).
    """
    rows = con.execute(
        "SELECT incident_id, date_trunc('hour', occurred_at) + INTERVAL 1 HOUR AS valid_time, segment_id, lon, lat, "
        f"{ICE_CONDITION} AS ice FROM incidents "
        "WHERE occurred_at >= ?::TIMESTAMP - INTERVAL 1 HOUR AND occurred_at < ?::TIMESTAMP - INTERVAL 1 HOUR "
        "ORDER BY valid_time, incident_id", [start, end]).df()
    return rows.assign(valid_time=pd.to_datetime(rows["valid_time"]).astype("datetime64[us]"),
                       segment_id=rows["segment_id"].astype("string"), ice=rows["ice"].astype(bool))


def segment_hour_labels(incidents: pd.DataFrame) -> pd.DataFrame:
    """One row per matched segment-hour with incidents: `label` 1, `ice_label` 1 if any was ice/snow."""
    matched = incidents.dropna(subset=["segment_id"])
    grouped = matched.groupby(["segment_id", "valid_time"], observed=True)["ice"].max().reset_index()
    return grouped.assign(label=np.int8(1), ice_label=grouped["ice"].astype("int8")).drop(columns="ice")


def label_frame(features: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """`features` with int8 `label` and `ice_label` from `incidents` (`incident_table`)."""
    labelled = normalise_keys(features).merge(segment_hour_labels(incidents), on=["segment_id", "valid_time"],
                                              how="left")
    return labelled.assign(label=labelled["label"].fillna(0).astype("int8"),
                           ice_label=labelled["ice_label"].fillna(0).astype("int8"))


def nearest_segments(con: duckdb.DuckDBPyConnection, incidents: pd.DataFrame) -> pd.Series:
    """Each incident's own segment, else the nearest segment within NEAREST_SEGMENT_MAX_KM (else NA)."""
    from scipy.spatial import cKDTree

    segments = con.execute("SELECT segment_id, lon, lat FROM segments ORDER BY segment_id").df()
    nearest = incidents["segment_id"].astype("string").copy()
    todo = nearest.isna() & incidents["lon"].notna() & incidents["lat"].notna()
    if segments.empty or not todo.any():
        return nearest
    scale = np.cos(np.radians(float(segments["lat"].mean())))
    tree = cKDTree(np.column_stack([segments["lon"] * scale, segments["lat"]]))
    points = incidents.loc[todo]
    distance, index = tree.query(np.column_stack([points["lon"] * scale, points["lat"]]))
    close = distance * 111.2 <= NEAREST_SEGMENT_MAX_KM
    nearest.loc[points.index[close]] = segments["segment_id"].to_numpy()[index[close]]
    return nearest


# --- the thinned sample -------------------------------------------------------------------------

def pick_fraction(keys: pd.DataFrame, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per row of `keys` (any columns) and the seed, independent of order."""
    hash_key = f"wxrisk{seed:010d}"[-16:]
    hashed = pd.util.hash_pandas_object(keys, index=False, hash_key=hash_key)
    return hashed.to_numpy(dtype=np.uint64) / float(2**64)


def chunks(hours: pd.DatetimeIndex, chunk_hours: int = CHUNK_HOURS) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive `[start, end)` spans of the analysed `hours`, each within one winter and at most
    `chunk_hours` long; gaps between analysed hours (summers, missing days) are skipped."""
    if hours.empty:
        return
    hours = hours.sort_values()
    steps = np.diff(hours.to_numpy().astype("datetime64[h]").astype(np.int64))
    runs = np.split(np.arange(len(hours)), np.flatnonzero(steps != 1) + 1)
    for run in runs:
        run_hours = hours[run]
        winters = winter_of(pd.Series(run_hours)).to_numpy()
        for winter in np.unique(winters):
            inside = run_hours[winters == winter]
            for first in range(0, len(inside), chunk_hours):
                piece = inside[first:first + chunk_hours]
                yield piece[0].to_pydatetime(), (piece[-1] + pd.Timedelta(hours=1)).to_pydatetime()


@dataclass(frozen=True)
class Sample:
    """The thinned segment-hours and the incidents with features, for one training run."""

    rows: pd.DataFrame        # features, label, ice_label, weight, winter
    hours: pd.DataFrame       # per analysed hour: `hourly_summary` of the drawn segments, winter
    incidents: pd.DataFrame   # features at the nearest segment, ice, winter, matched
    rate: float               # probability of keeping an incident-free segment-hour
    segments_total: int       # segments with weather
    incidents_without_weather: int  # incidents of the analysed hours left out (no segment near)


KEY_COLUMNS = frozenset({"segment_id", "valid_time", "label", "ice_label", "weight", "winter"})


def hourly_summary(drawn: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """Per hour of `drawn` (every hour of a chunk's drawn segments): each feature's mean and
    variance over the segments (`<name>__var`), and the hour's incidents in the region (`incidents`,
    `ice_incidents`: every incident with a segment within reach, matched or not)."""
    features = [c for c in drawn.columns if c not in KEY_COLUMNS]
    values = drawn[["valid_time", *features]].astype({name: "float64" for name in features})
    grouped = values.groupby("valid_time")
    means, variances = grouped.mean(), grouped.var(ddof=0).add_suffix("__var")
    counts = incidents.groupby("valid_time")["ice"].agg(["size", "sum"]).reindex(means.index, fill_value=0)
    counts = counts.rename(columns={"size": "incidents", "sum": "ice_incidents"}).astype("float64")
    return pd.concat([means, variances, counts], axis=1)


def thinning_rate(segment_hours: int, target_rows: int) -> float:
    """The share of segment-hours to build so that about `target_rows` are kept (at most all)."""
    return float(min(1.0, target_rows / max(segment_hours, 1)))


def draw_sample(con: duckdb.DuckDBPyConnection, source, hours: pd.DatetimeIndex, segment_ids: np.ndarray,
                target_rows: int, seed: int, progress) -> Sample:
    """Thinned labelled segment-hours and feature-bearing incidents of the analysed `hours`."""
    rate = thinning_rate(len(hours) * len(segment_ids), target_rows)
    segment_rate = min(1.0, max(rate, MIN_SEGMENTS_PER_CHUNK / max(len(segment_ids), 1)))
    segment_index = pd.Index(segment_ids.astype(str), dtype="string")
    rows, incident_rows, hourly = [], [], []
    left_out = 0
    for start, end in chunks(hours):
        incidents = incident_table(con, start, end)
        incidents = incidents.assign(nearest=nearest_segments(con, incidents))
        left_out += int(incidents["nearest"].isna().sum())
        incidents = incidents.dropna(subset=["nearest"])
        drawn = pick_fraction(pd.DataFrame({"s": segment_index, "c": str(start)}), seed) < segment_rate
        picked = segment_index[drawn]
        features = source.frame(start, end, sorted(set(picked) | set(incidents["nearest"])))
        if features.empty:
            continue
        labelled = label_frame(features, incidents)
        positive = labelled["label"].to_numpy() == 1
        kept_hour = pick_fraction(labelled[["segment_id", "valid_time"]], seed + 1) < rate / segment_rate
        keep = positive | (labelled["segment_id"].isin(picked).to_numpy() & kept_hour)
        free_hours = len(segment_ids) * int((end - start) / HOUR) - int(positive.sum())
        weight = np.where(positive, 1.0, free_hours / max(int((keep & ~positive).sum()), 1))
        rows.append(labelled.loc[keep].assign(weight=weight[keep]))
        at_incidents = incidents[["incident_id", "valid_time", "nearest", "ice", "segment_id"]].merge(
            features.rename(columns={"segment_id": "nearest"}), on=["nearest", "valid_time"], how="inner")
        incident_rows.append(at_incidents)
        hourly.append(hourly_summary(labelled.loc[labelled["segment_id"].isin(picked)], incidents))
        progress(f"  {start:%Y-%m-%d} to {end:%Y-%m-%d}: {int(keep.sum())} segment-hours "
                 f"({int(labelled['label'].sum())} with incidents), {len(at_incidents)} incidents")
    if not rows:
        raise WxriskError("training data: no analysed hours with features")
    sample_rows = pd.concat(rows, ignore_index=True)
    sample_incidents = pd.concat(incident_rows, ignore_index=True)
    sample_hours = pd.concat(hourly).sort_index().copy()  # one block per dtype: later columns add cheaply
    return Sample(
        rows=_sorted(sample_rows.assign(winter=winter_of(sample_rows["valid_time"]).to_numpy())),
        hours=sample_hours.assign(winter=winter_of(pd.Series(sample_hours.index)).to_numpy()),
        incidents=sample_incidents.assign(winter=winter_of(sample_incidents["valid_time"]).to_numpy(),
                                          matched=sample_incidents["segment_id"].notna().to_numpy())
        .sort_values(["valid_time", "incident_id"], kind="stable").reset_index(drop=True),
        rate=rate, segments_total=len(segment_ids), incidents_without_weather=left_out)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in (valid_time, segment_id) order, so training never depends on the order of reads."""
    return frame.sort_values(["valid_time", "segment_id"], kind="stable").reset_index(drop=True)
