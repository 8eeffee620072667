"""Forecasts against the incidents that happened: Recall@K per day and reliability.

A risk row at `valid_time` h is the probability of at least one incident on the segment in the
hour [h, h+1); an incident counts for the hour its `occurred_at` falls in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _local_day(times: pd.Series, tz: str) -> pd.Series:
    return pd.to_datetime(times).dt.tz_localize("UTC").dt.tz_convert(tz).dt.date


def recall_at_k_by_day(risk: pd.DataFrame, incidents: pd.DataFrame, k: int, tz: str) -> pd.DataFrame:
    """Per local day: `day, incidents, hits, recall` where hits are incidents on the day's `k`
    segments of highest peak risk. Days without incidents have `recall` NaN.

    risk      : `segment_id, valid_time` [UTC], `risk` [probability per hour]
    incidents : `segment_id, occurred_at` [UTC]
    """
    days = risk.assign(day=_local_day(risk["valid_time"], tz))
    peak = days.groupby(["day", "segment_id"], as_index=False)["risk"].max()
    peak["rank"] = peak.groupby("day")["risk"].rank(method="first", ascending=False)
    watched = peak[peak["rank"] <= k][["day", "segment_id"]].assign(watched=True)
    seen = incidents.assign(day=_local_day(incidents["occurred_at"], tz))[["day", "segment_id"]]
    seen = seen.merge(watched, on=["day", "segment_id"], how="left")
    seen["watched"] = seen["watched"].eq(True)
    counts = seen.groupby("day").agg(incidents=("segment_id", "size"), hits=("watched", "sum"))
    table = pd.DataFrame({"day": sorted(days["day"].unique())}).merge(
        counts.reset_index(), on="day", how="left"
    )
    table[["incidents", "hits"]] = table[["incidents", "hits"]].fillna(0).astype(int)
    table["recall"] = np.where(table["incidents"] > 0, table["hits"] / table["incidents"].clip(lower=1), np.nan)
    return table


def reliability(risk: pd.DataFrame, incidents: pd.DataFrame, n_bins: int = 10) -> pd.DataFrame:
    """Forecast probability against observed frequency in `n_bins` quantile bins of risk.

    Returns `forecast_p` (mean risk), `observed_f` (share of segment-hours with >= 1 incident)
    and `n` (segment-hours) per bin. Only hours up to the last known incident hour count.
    """
    if incidents.empty:
        return pd.DataFrame(columns=["forecast_p", "observed_f", "n"])
    horizon = pd.to_datetime(incidents["occurred_at"]).max().floor("h")
    rows = risk[pd.to_datetime(risk["valid_time"]) <= horizon]
    hit_keys = set(zip(incidents["segment_id"], pd.to_datetime(incidents["occurred_at"]).dt.floor("h"), strict=True))
    hit = [key in hit_keys for key in zip(rows["segment_id"], pd.to_datetime(rows["valid_time"]), strict=True)]
    rows = rows.assign(hit=hit)
    bins = pd.qcut(rows["risk"].rank(method="first"), q=min(n_bins, len(rows)), labels=False)
    table = rows.groupby(bins).agg(forecast_p=("risk", "mean"), observed_f=("hit", "mean"), n=("risk", "size"))
    return table.reset_index(drop=True)
