"""The pipeline's composite steps: score a board run, and the embedded demo end to end.

Each step here is plain Python; `flows/` wraps the same functions as Prefect tasks.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from wxrisk.config import Settings, WxriskError
from wxrisk.store.db import transaction
from wxrisk.store.publish import publish_run

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    """Progress sink that prints nothing."""


def utc_naive(moment: datetime | str) -> datetime:
    """A datetime or ISO 8601 string as a naive UTC datetime (naive input is taken as UTC)."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError as exc:
            raise WxriskError(f"{moment!r}: not an ISO 8601 time") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def latest_forecast_issue(con: duckdb.DuckDBPyConnection, start: datetime) -> datetime | None:
    """The newest forecast issued at or before `start` that covers `start` [UTC]."""
    row = con.execute(
        "SELECT max(issued_at) FROM weather_hourly WHERE kind = 'forecast' AND issued_at <= ? "
        "AND valid_time >= ?", [start, start],
    ).fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class WeatherChoice:
    kind: str  # forecast | analysis
    issued_at: datetime | None


def choose_weather(con: duckdb.DuckDBPyConnection, start: datetime) -> WeatherChoice:
    """Forecast when one covers the window; otherwise analysis (a hindcast board)."""
    issued = latest_forecast_issue(con, start)
    if issued is not None:
        return WeatherChoice("forecast", issued)
    has_analysis = con.execute(
        "SELECT count(*) > 0 FROM weather_times WHERE kind = 'analysis' AND valid_time >= ?", [start]
    ).fetchone()[0]
    if not has_analysis:
        raise WxriskError(f"no weather covers {start:%Y-%m-%dT%H:%MZ}: import a forecast or analysis first")
    return WeatherChoice("analysis", None)


def run_id_for(start: datetime, hours: int, weather: WeatherChoice, model_version: str) -> str:
    """Same board inputs, same id: re-running replaces the run instead of adding one."""
    issued = f"i{weather.issued_at:%Y%m%dT%H%M}" if weather.issued_at else "analysis"
    return f"{start:%Y%m%dT%H%MZ}-{hours}h-{issued}-{model_version}"


def _network_is_synthetic(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT coalesce(bool_or(synthetic), FALSE) FROM segments").fetchone()[0])


def _start_run(con, run_id: str, start: datetime, hours: int, weather: WeatherChoice, version: str) -> None:
    with transaction(con):
        for table in ("risk", "stretches", "stretch_measures", "dispatch", "runs"):
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
        con.execute(
            "INSERT INTO runs (run_id, created_at, start_time, hours, weather_kind, weather_issued_at, "
            "model_version, status, synthetic) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)",
            [run_id, datetime.now(UTC).replace(tzinfo=None), start, hours, weather.kind, weather.issued_at,
             version, _network_is_synthetic(con)],
        )


RISK_COLUMNS = ["run_id", "segment_id", "valid_time", "risk", "tier", "top_drivers", "top_drivers_en", "ice_risk",
                "icing_warning", "visibility_warning"]


def _write_risk(con, run_id: str, scored: pd.DataFrame) -> None:
    """The run's risk rows; `ice_risk` is NULL when the model gives none."""
    rows = scored.assign(run_id=run_id)
    if "ice_risk" not in rows:
        rows["ice_risk"] = np.nan
    for column in ("icing_warning", "visibility_warning"):
        if column not in rows:
            rows[column] = None
    rows = rows[RISK_COLUMNS]
    with transaction(con):
        con.execute("DELETE FROM risk WHERE run_id = ?", [run_id])
        con.register("scored_rows", rows)
        try:
            con.execute(f"INSERT INTO risk BY NAME SELECT {', '.join(RISK_COLUMNS)} FROM scored_rows")
        finally:
            con.unregister("scored_rows")


def _finish_run(con, run_id: str, status: str, missing: list[str], message: str | None) -> None:
    con.execute(
        "UPDATE runs SET status = ?, missing_inputs = ?, message = ? WHERE run_id = ?",
        [status, json.dumps(missing), message, run_id],
    )


def missing_inputs_of(features: pd.DataFrame, weather: WeatherChoice, start: datetime) -> list[str]:
    """What the board should warn about: absent inputs and a stale forecast."""
    missing = list(features.attrs.get("missing_inputs", []))
    missing += [f"feature:{name}" for name in features.attrs.get("unavailable_features", [])]
    if weather.kind == "analysis":
        missing.append("forecast: none covers the window, analysis used")
    elif weather.issued_at is not None and start - weather.issued_at > timedelta(hours=30):
        missing.append(f"forecast: stale, issued {(start - weather.issued_at).total_seconds() / 3600:.0f} h before start")
    return missing


@dataclass(frozen=True)
class RunPlan:
    """One board run's inputs, fixed before any scoring."""

    run_id: str
    start: datetime
    hours: int
    weather: WeatherChoice
    model_version: str

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)


def plan_run(con, settings: Settings, start: datetime | str, hours: int = 72, model: str = "champion") -> RunPlan:
    """Pick the weather and model for a board and register the run as running."""
    from wxrisk.model.registry import load_model

    start = utc_naive(start).replace(minute=0, second=0, microsecond=0)
    version = load_model(settings, model).version
    weather = choose_weather(con, start)
    plan = RunPlan(run_id_for(start, hours, weather, version), start, hours, weather, version)
    _start_run(con, plan.run_id, start, hours, weather, version)
    return plan


def build_run_features(con, plan: RunPlan) -> pd.DataFrame:
    """The feature table of every segment-hour of the run's window."""
    from wxrisk.features import build_features

    features = build_features(con, plan.start, plan.end, plan.weather.kind, plan.weather.issued_at)
    if features.empty:
        raise WxriskError(f"no segment has weather for {plan.start:%Y-%m-%dT%H:%MZ} + {plan.hours} h")
    return features


HOURS_PER_YEAR = 8766.0


def normal_hourly_risk(features: pd.DataFrame) -> np.ndarray:
    """The segment's usual probability of an incident in an hour: its smoothed record / hours a year."""
    if "hist_rate_per_year" not in features:
        return np.full(len(features), np.nan)
    return features["hist_rate_per_year"].to_numpy(dtype="float64", na_value=np.nan) / HOURS_PER_YEAR


@dataclass(frozen=True)
class ScoredBoard:
    """The scored segment-hours the board is built from, in memory (the layout of `build_board`)."""

    run_id: str
    frame: pd.DataFrame
    rules: dict


def board_rules(settings: Settings) -> dict:
    from wxrisk.board.tiers import load_rules

    return load_rules(settings.extra.get("board_rules"))


def score_features(settings: Settings, plan: RunPlan, features: pd.DataFrame) -> pd.DataFrame:
    """Calibrated risk, drivers in words, warnings and weather conditions per segment-hour (any
    tile of segments); the tiers come after, on the whole board (`tier_board`)."""
    from wxrisk.board.tiers import segment_hour_signals
    from wxrisk.model.predict import predict_risk
    from wxrisk.model.registry import load_model

    scored = predict_risk(load_model(settings, plan.model_version), features)
    scored["baseline_risk"] = normal_hourly_risk(features)
    signals = segment_hour_signals(features, board_rules(settings))
    for column in signals.columns:
        scored[column] = signals[column].to_numpy() if signals[column].dtype == bool else signals[column].array
    return scored


def tier_board(settings: Settings, scored: pd.DataFrame) -> pd.DataFrame:
    """The whole board's scored rows with their tier (the tiers rank the board's own distribution)."""
    from wxrisk.board.tiers import assign_tiers

    scored["tier"] = assign_tiers(scored, board_rules(settings))
    return scored


def split_tiles(features: pd.DataFrame, tiles: int) -> list[pd.DataFrame]:
    """Cut the feature table into `tiles` parts by segment (each keeps its whole time series)."""
    if tiles <= 1:
        return [features]
    codes = features["segment_id"].map(lambda s: zlib.crc32(str(s).encode()) % tiles).to_numpy()
    parts = [features[codes == tile] for tile in range(tiles)]
    for part in parts:
        part.attrs = dict(features.attrs)
    return [part for part in parts if len(part)]


def store_risk(con, plan: RunPlan, scored: pd.DataFrame) -> None:
    _write_risk(con, plan.run_id, scored)


def complete_run(con, settings: Settings, plan: RunPlan, features: pd.DataFrame) -> Path:
    """Mark the run complete and publish it as the current board."""
    _finish_run(con, plan.run_id, "complete", missing_inputs_of(features, plan.weather, plan.start), None)
    return publish_run(con, settings, plan.run_id)


def fail_run(con, plan: RunPlan, exc: BaseException) -> None:
    """Record the failure; the last good board stays published."""
    _finish_run(con, plan.run_id, "failed", [], (str(exc).splitlines() or [type(exc).__name__])[0])


def score_run(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    start: datetime | str,
    hours: int = 72,
    model: str = "champion",
    progress: Progress = _quiet,
) -> str:
    """Score every segment for `hours` hours from `start` [UTC], build the board, publish it.

    The previous board stays current unless this run completes.
    """
    from wxrisk.board.build import build_board

    plan = plan_run(con, settings, start, hours, model)
    try:
        issued = plan.weather.issued_at
        progress(f"features: {plan.weather.kind} weather" + (f" issued {issued:%Y-%m-%d %H:%MZ}" if issued else ""))
        features = build_run_features(con, plan)
        progress(f"scoring {len(features):,} segment-hours with model {plan.model_version}")
        scored = tier_board(settings, score_features(settings, plan, features))
        store_risk(con, plan, scored)
        progress("board: stretches, measures, priority, dispatch")
        build_board(con, settings, plan.run_id, ScoredBoard(plan.run_id, scored, board_rules(settings)))
    except Exception as exc:
        fail_run(con, plan, exc)
        raise
    complete_run(con, settings, plan, features)
    progress(f"published board {plan.run_id}")
    return plan.run_id
