"""Forecasts against the incidents that happened: Recall@K per day, reliability, and whether the
tiers rank (observed incident rate per tier and per warning level, with lift over the average).

A risk row at `valid_time` h is the probability of at least one incident on the segment in the
hour ending at h, [h - 1 h, h) (as the model's label); an incident counts for the hour its
`occurred_at` falls in.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from wxrisk.levels import rates_by_level as rates_by_level  # the pages call verify.rates_by_level
from wxrisk.levels import rates_text as rates_text
from wxrisk.vocab import ICE_SNOW_SURFACES, ICE_SNOW_WEATHER, to_local

HOUR = pd.Timedelta(hours=1)


def ice_snow(incidents: pd.DataFrame) -> pd.Series:
    """Which incidents are ice/snow ones: an icy, frosty, snowy or slushy surface, or snow or
    freezing-rain weather (as the model's ice label); False where neither is recorded."""
    surface = incidents["surface"] if "surface" in incidents else pd.Series(None, index=incidents.index)
    weather = incidents["weather"] if "weather" in incidents else pd.Series(None, index=incidents.index)
    return surface.isin(ICE_SNOW_SURFACES) | weather.isin(ICE_SNOW_WEATHER)


def _local_day(times: pd.Series, tz: str) -> pd.Series:
    return to_local(pd.to_datetime(times), tz).dt.date


def incident_hours(incidents: pd.DataFrame) -> pd.DataFrame:
    """`segment_id, valid_time, incidents`: matched incidents counted per segment and hour label."""
    hours = pd.to_datetime(incidents["occurred_at"]).dt.floor("h") + HOUR
    counted = incidents.assign(valid_time=hours).groupby(["segment_id", "valid_time"]).size()
    return counted.rename("incidents").reset_index()


def _counts(keys: pd.DataFrame, incidents: pd.DataFrame) -> np.ndarray:
    if incidents.empty:
        return np.zeros(len(keys), dtype=int)
    counted = incident_hours(incidents).astype({"segment_id": str})
    return keys.merge(counted, on=["segment_id", "valid_time"], how="left")["incidents"].fillna(0).to_numpy(int)


def observed_rows(risk: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """The risk rows up to the last hour with a known incident, with `incidents` (count in that
    segment-hour), `hit` (at least one) and `ice_hit` (at least one ice/snow incident, `ice_snow`).
    Empty when there is no incident yet."""
    if incidents.empty:
        return risk.iloc[:0].assign(incidents=pd.Series(dtype=int), hit=pd.Series(dtype=bool),
                                    ice_hit=pd.Series(dtype=bool))
    horizon = pd.to_datetime(incidents["occurred_at"]).max().floor("h") + HOUR
    rows = risk[pd.to_datetime(risk["valid_time"]) <= horizon]
    keys = rows[["segment_id", "valid_time"]].astype({"segment_id": str}).assign(
        valid_time=lambda f: pd.to_datetime(f["valid_time"]))
    found = _counts(keys, incidents)
    return rows.assign(incidents=found, hit=found > 0, ice_hit=_counts(keys, incidents[ice_snow(incidents)]) > 0)


def recall_at_k_by_day(risk: pd.DataFrame, incidents: pd.DataFrame, k: int, tz: str) -> pd.DataFrame:
    """Per local day: `day, incidents, hits, recall` where hits are incidents on the day's `k`
    segments of highest peak risk. Days without incidents have `recall` NaN.

    risk      : `segment_id, valid_time` [UTC, hour ending], `risk` [probability per hour]
    incidents : `segment_id, occurred_at` [UTC]
    """
    days = risk.assign(day=_local_day(pd.to_datetime(risk["valid_time"]) - HOUR, tz))
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


def reliability(risk: pd.DataFrame, incidents: pd.DataFrame, n_bins: int = 10, ice: bool = False) -> pd.DataFrame:
    """Forecast probability against observed frequency in `n_bins` quantile bins of risk (`ice`:
    of `ice_risk` against ice/snow incidents, on the rows that have it).

    Returns `forecast_p` (mean risk), `observed_f` (share of segment-hours with >= 1 incident)
    and `n` (segment-hours) per bin. Only hours up to the last known incident hour count.
    """
    column, hit = ("ice_risk", "ice_hit") if ice else ("risk", "hit")
    rows = observed_rows(risk, incidents)
    rows = rows[rows[column].notna()] if column in rows else rows.iloc[:0]
    if rows.empty:
        return pd.DataFrame(columns=["forecast_p", "observed_f", "n"])
    bins = pd.qcut(rows[column].rank(method="first"), q=min(n_bins, len(rows)), labels=False)
    table = rows.groupby(bins).agg(forecast_p=(column, "mean"), observed_f=(hit, "mean"), n=(column, "size"))
    return table.reset_index(drop=True)


def board_rows(con) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A published snapshot's risk rows (tier, warnings) and the matched incidents of its window."""
    from wxrisk.boardview import snapshot

    run = snapshot.run_info(con)
    risk = snapshot.risk_table(con)
    incidents = snapshot.incidents_in_window(con, run.start_time - HOUR, run.valid_hours()[-1])
    return risk, incidents


def tier_report(con) -> str:
    """Do the tiers rank, and where do the warnings stand? Per tier and per warning level of a
    published board: segment-hours, those with an incident, share of incidents, rate and lift over
    the average, against the incidents that then happened (up to the last one known)."""
    from wxrisk.levels import TIERS, WARNING_LEVELS

    risk, incidents = board_rows(con)
    rows = observed_rows(risk, incidents)
    if rows.empty:
        return "no incident in the board's window yet: nothing to verify"
    tiers = rates_by_level(rows["tier"], rows["hit"], TIERS)
    tiered = int(tiers["segment_hours"].iloc[1:].sum())
    red = int(tiers.loc[tiers["level"] == "red", "segment_hours"].iloc[0])
    lines = [f"{len(rows):,} segment-hours, {int(rows['hit'].sum()):,} with an incident "
             f"({int(rows['ice_hit'].sum()):,} with an ice/snow one); red is "
             f"{red / tiered if tiered else 0:.1%} of the {tiered:,} tiered segment-hours",
             rates_text(tiers, "per risk tier, all incidents"),
             rates_text(rates_by_level(rows["tier"], rows["ice_hit"], TIERS), "per risk tier, ice/snow incidents")]
    for kind in ("icing", "visibility"):
        levels = rows[f"{kind}_warning"].fillna("none")
        lines.append(rates_text(rates_by_level(levels, rows["hit"], WARNING_LEVELS), f"per {kind} warning level"))
    return "\n\n".join(lines)


def truth_report(con, truth_path) -> str:
    """The same tables against a scenario world's known hazard (`truth.parquet`: expected incidents
    and expected ice/snow incidents per segment-hour), free of the noise of drawn incidents: per
    tier and per road-icing warning level, expected incidents per segment-hour and lift."""
    from wxrisk.levels import TIERS, WARNING_LEVELS

    risk, _ = board_rows(con)
    hours = pd.to_datetime(risk["valid_time"])
    truth = duckdb.execute(
        "SELECT segment_id, valid_time, expected_incidents, expected_ice_incidents FROM read_parquet(?) "
        "WHERE valid_time BETWEEN ? AND ?", [str(truth_path), hours.min().to_pydatetime(), hours.max().to_pydatetime()]
    ).df()
    keys = risk[["segment_id", "valid_time"]].astype({"segment_id": str}).assign(
        valid_time=lambda f: pd.to_datetime(f["valid_time"]))
    truth = truth.astype({"segment_id": str}).assign(valid_time=lambda f: pd.to_datetime(f["valid_time"]))
    known = keys.merge(truth, on=["segment_id", "valid_time"], how="left")
    if known["expected_ice_incidents"].isna().all():
        return f"{truth_path}: no hour of the board's window in the world's known hazard"
    known = known.fillna(0.0)
    lines = [f"known hazard ({truth_path}) over {len(known):,} segment-hours: "
             f"{known['expected_incidents'].sum():.1f} expected incidents, "
             f"{known['expected_ice_incidents'].sum():.1f} of them ice/snow"]
    for column, what in (("expected_ice_incidents", "expected ice/snow incidents"),
                         ("expected_incidents", "expected incidents")):
        lines.append(rates_text(rates_by_level(risk["tier"], known[column].to_numpy(), TIERS), f"per risk tier, {what}"))
    levels = risk["icing_warning"].fillna("none")
    lines.append(rates_text(rates_by_level(levels, known["expected_ice_incidents"].to_numpy(), WARNING_LEVELS),
                            "per icing warning level, expected ice/snow incidents"))
    return "\n\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """`python -m wxrisk.boardview.verify [SNAPSHOT.duckdb] [--truth truth.parquet]`"""
    import argparse

    from wxrisk.config import load_settings
    from wxrisk.store.publish import current_board_path, open_board

    parser = argparse.ArgumentParser(prog="python -m wxrisk.boardview.verify", description=tier_report.__doc__)
    parser.add_argument("snapshot", nargs="?", help="a published board (default: the current one)")
    parser.add_argument("--truth", help="a scenario world's truth.parquet (its known hazard)")
    args = parser.parse_args(argv)
    path = args.snapshot or current_board_path(load_settings())
    with open_board(path) as board:
        print(f"board {path}\n")
        print(tier_report(board))
        if args.truth:
            print("\n" + truth_report(board, args.truth))


if __name__ == "__main__":
    main()
