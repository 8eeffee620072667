"""Training data: analysis features joined with what happened, split by time, negatives thinned.

The label of a segment-hour is 1 when at least one incident matched to that segment occurred
in the hour ending at `valid_time` (`valid_time - 1 h <= occurred_at < valid_time`), the same
hour the weather accumulations cover. Rare events: training keeps every positive and a
fraction `negative_rate` of the negatives, each kept negative weighted `1 / negative_rate`,
so the weighted data have the true incident rate and the model's probabilities stay true.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from wxrisk.config import Settings, WxriskError
from wxrisk.vocab import ICE_SNOW_SURFACES as WEATHER_SURFACES  # incidents counted as weather-related
from wxrisk.vocab import ICE_SNOW_WEATHER as WEATHER_CODES


def normalise_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """`segment_id` as text and `valid_time` as naive UTC microseconds, so joins and hashes agree."""
    missing = [c for c in ("segment_id", "valid_time") if c not in frame.columns]
    if missing:
        raise WxriskError(f"features frame: missing key column(s) {', '.join(missing)}")
    times = pd.to_datetime(frame["valid_time"])
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return frame.assign(segment_id=frame["segment_id"].astype("string"),
                        valid_time=times.astype("datetime64[us]"))


def incident_hours(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime,
                   weather_related_only: bool = False) -> pd.DataFrame:
    """Segment-hours `[start, end)` (hour ending at `valid_time`) with at least one matched incident."""
    weather_filter = ""
    params: list = [start, end]
    if weather_related_only:
        weather_filter = "AND (surface IN (SELECT unnest(?)) OR weather IN (SELECT unnest(?)))"
        params += [list(WEATHER_SURFACES), list(WEATHER_CODES)]
    rows = con.execute(
        "SELECT DISTINCT segment_id, date_trunc('hour', occurred_at) + INTERVAL 1 HOUR AS valid_time "
        "FROM incidents WHERE segment_id IS NOT NULL "
        "AND occurred_at >= ?::TIMESTAMP - INTERVAL 1 HOUR AND occurred_at < ?::TIMESTAMP - INTERVAL 1 HOUR "
        f"{weather_filter}",
        params,
    ).df()
    return normalise_keys(rows.assign(label=np.int8(1)))


def label_frame(con: duckdb.DuckDBPyConnection, features: pd.DataFrame,
                weather_related_only: bool = False) -> pd.DataFrame:
    """`features` with a `label` column (int8, 1 = at least one incident in the hour)."""
    features = normalise_keys(features)
    if features.empty:
        return features.assign(label=pd.Series(dtype="int8"))
    start = features["valid_time"].min().to_pydatetime()
    end = features["valid_time"].max().to_pydatetime() + pd.Timedelta(hours=1)
    positives = incident_hours(con, start, end, weather_related_only)
    labelled = features.merge(positives, on=["segment_id", "valid_time"], how="left")
    return labelled.assign(label=labelled["label"].fillna(0).astype("int8"))


def keep_fraction_hash(frame: pd.DataFrame, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per row from its (segment_id, valid_time) and the seed.

    Independent of row order, so the same data thin out the same way every time.
    """
    key = f"wxrisk{seed:010d}"[-16:]
    hashed = pd.util.hash_pandas_object(frame[["segment_id", "valid_time"]], index=False, hash_key=key)
    return hashed.to_numpy(dtype=np.uint64) / float(2**64)


def downsample_negatives(labelled: pd.DataFrame, negative_rate: float, seed: int) -> pd.DataFrame:
    """Keep all positives and a `negative_rate` share of negatives; add `weight` (1 / rate for negatives)."""
    if not 0.0 < negative_rate <= 1.0:
        raise WxriskError(f"negative_rate: {negative_rate} is not in (0, 1]")
    positive = labelled["label"].to_numpy() == 1
    keep = positive | (keep_fraction_hash(labelled, seed) < negative_rate)
    kept = labelled.loc[keep]
    weight = np.where(kept["label"].to_numpy() == 1, 1.0, 1.0 / negative_rate)
    out = kept.assign(weight=weight).reset_index(drop=True)
    out.attrs["negative_rate"] = negative_rate
    return out


def analysis_features(con: duckdb.DuckDBPyConnection, settings: Settings, start: datetime, end: datetime,
                      features: pd.DataFrame | None = None) -> pd.DataFrame:
    """Analysis-weather features for `[start, end)`: sliced from `features` if given, else built
    (calendar features in `settings.timezone`)."""
    if features is None:
        from wxrisk.features import build_features

        features = build_features(con, settings, start, end, weather_kind="analysis").frame
    features = normalise_keys(features)
    in_window = (features["valid_time"] >= pd.Timestamp(start)) & (features["valid_time"] < pd.Timestamp(end))
    return features.loc[in_window].reset_index(drop=True)


def training_frame(con: duckdb.DuckDBPyConnection, settings: Settings, start: datetime, end: datetime,
                   features: pd.DataFrame | None = None, weather_related_only: bool = False,
                   negative_rate: float = 0.1, seed: int = 7) -> pd.DataFrame:
    """Labelled, negative-down-sampled analysis features of `[start, end)`.

    Columns: `segment_id, valid_time, <features>, label, weight`; `attrs["negative_rate"]`
    records the sampling rate (`weight` = 1 / rate for kept negatives, 1 for positives).
    `features` is a prebuilt feature frame (else `wxrisk.features.build_features` is called).
    """
    labelled = label_frame(con, analysis_features(con, settings, start, end, features), weather_related_only)
    return downsample_negatives(labelled, negative_rate, seed)


def winter_of(valid_time: pd.Series) -> pd.Series:
    """The winter a time belongs to, named by the year of its January (July starts the next one)."""
    return valid_time.dt.year + (valid_time.dt.month >= 7).astype("int64")


def winter_name(winter: int) -> str:
    """`2024/25` for the winter whose January is in 2025."""
    return f"{winter - 1}/{winter % 100:02d}"


@dataclass(frozen=True)
class TimeSplit:
    """Three consecutive periods: train `[start, train_end)`, validation `[train_end, valid_end)`,
    held-out test `[valid_end, end)`. `how` says how the cuts were chosen."""

    start: datetime
    train_end: datetime
    valid_end: datetime
    end: datetime
    how: str

    def period(self, name: str) -> tuple[datetime, datetime]:
        return {"train": (self.start, self.train_end), "valid": (self.train_end, self.valid_end),
                "test": (self.valid_end, self.end)}[name]


def _cut_at_event(events: pd.Series, share: float, after: datetime) -> datetime:
    """The first event hour at or past `share` of the events and later than `after`."""
    later = events[(np.arange(len(events)) >= int(len(events) * share)) & (events > pd.Timestamp(after))]
    if later.empty:
        raise WxriskError(f"training data: only {len(events)} hour(s) with incidents; too few to split "
                          "into training, validation and test periods")
    return later.iloc[0].to_pydatetime()


def split_by_winter(hours: pd.Series, events: pd.Series) -> TimeSplit:
    """Cut the analysed `hours` into train / validation / test periods, by winter where possible.

    Three or more winters: train on all but the last two, validate (early stopping and
    calibration) on the second-to-last, test on the last. Two winters: train on the first; the
    second is cut in time where half of its incident-hours (`events`, the valid times of
    segment-hours with incidents) have passed: validate before, test after. One winter: cut in
    time at 60 % and 80 % of its incident-hours. Never a random row split.
    """
    hours = pd.Series(pd.to_datetime(hours)).drop_duplicates().sort_values().reset_index(drop=True)
    if len(hours) < 5:
        raise WxriskError(f"training data: only {len(hours)} hour(s) with features; need several winters of hours")
    events = pd.Series(pd.to_datetime(events)).sort_values().reset_index(drop=True)
    winters = winter_of(hours)
    names = sorted(winters.unique())
    first = hours.iloc[0].to_pydatetime()
    end = hours.iloc[-1].to_pydatetime() + pd.Timedelta(hours=1)
    if len(names) >= 3:
        train_end = hours[winters == names[-2]].iloc[0].to_pydatetime()
        valid_end = hours[winters == names[-1]].iloc[0].to_pydatetime()
        trained = ", ".join(winter_name(w) for w in names[:-2])
        how = f"train on winter(s) {trained}, validate on {winter_name(names[-2])}, test on {winter_name(names[-1])}"
    elif len(names) == 2:
        train_end = hours[winters == names[-1]].iloc[0].to_pydatetime()
        valid_end = _cut_at_event(events[events >= pd.Timestamp(train_end)], 0.5, train_end)
        how = (f"train on winter {winter_name(names[0])}; winter {winter_name(names[1])} cut in time at half "
               "its incident-hours: validate before, test after")
    else:
        train_end = _cut_at_event(events, 0.6, first)
        valid_end = _cut_at_event(events, 0.8, train_end)
        how = "one winter cut in time at 60 % and 80 % of its incident-hours: train, validate, test"
    return TimeSplit(first, train_end, valid_end, end, how)


def winter_chunks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """`[start, end)` cut at each 1 July, so features load one winter at a time [UTC]."""
    cuts = [pd.Timestamp(year=y, month=7, day=1).to_pydatetime() for y in range(start.year, end.year + 1)]
    edges = [start, *[c for c in cuts if start < c < end], end]
    return list(zip(edges[:-1], edges[1:], strict=True))
