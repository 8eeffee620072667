"""A board run as a list of named steps; the CLI, the Prefect flow and the bench run the same ones.

    plan     choose the weather (forecast, else analysis) and the model, load the board rules once,
             register the run as running                                       -> RunPlan (small)
    score    a tile of segments at a time: features -> risk -> tiers and weather conditions -> risk
             rows written; keeps only the columns the board reads              -> ScoredRun
    board    stretches, measures and dispatch from the ScoredRun in memory      -> summary (small)
    publish  the run complete (or incomplete, naming the hours without weather), then its snapshot

`score_run` runs them in order (`STEPS`). Only `ScoredRun` is large (about 50 bytes a
segment-hour); the feature table never leaves the tile that computed it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from wxrisk.config import Settings, WxriskError
from wxrisk.features import (
    FEATURE_NAMES,
    FeatureTable,
    FeatureWindow,
    WeatherSource,
    feature_window,
    resolved_weather,
    tile_features,
)
from wxrisk.scored import CONDITION_COLUMNS, WARNING_COLUMNS, ScoredRun, board_frame, concat_board_frames
from wxrisk.store.db import another_connection, transaction
from wxrisk.store.publish import publish_run, stage_risk
from wxrisk.vocab import frame_registered, utc_naive, utc_now

Progress = Callable[[str], None]
HOURS_PER_YEAR = 8766.0
SNAPSHOT_WEATHER_HOURS_BEFORE = 24  # weather shown before the board's first hour [h]
RISK_COLUMNS = ["run_id", "segment_id", "valid_time", "risk", "tier", "top_drivers", "top_drivers_en", "ice_risk",
                "icing_warning", "visibility_warning"]


def _quiet(_: str) -> None:
    """Progress sink that prints nothing."""


# --- plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeatherChoice:
    kind: str  # forecast | analysis
    issued_at: datetime | None

    @property
    def source(self) -> WeatherSource:
        return WeatherSource(self.kind, self.issued_at)


def latest_forecast_issue(con: duckdb.DuckDBPyConnection, start: datetime) -> datetime | None:
    """The newest forecast issued at or before `start` that covers `start` [UTC]."""
    row = con.execute(
        "SELECT max(issued_at) FROM weather_hourly WHERE kind = 'forecast' AND issued_at <= ? "
        "AND valid_time >= ?", [start, start],
    ).fetchone()
    return row[0] if row else None


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


@dataclass(frozen=True)
class RunPlan:
    """One board run's inputs, fixed before any scoring (small: it travels between tasks)."""

    run_id: str
    start: datetime
    hours: int
    weather: WeatherChoice
    model_version: str
    rules: dict = field(repr=False)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)


def plan_run(con, settings: Settings, start: datetime | str, hours: int = 72, model: str = "champion") -> RunPlan:
    """Pick the weather and model for a board, load its rules, and register the run as running."""
    from wxrisk.board.tiers import load_rules
    from wxrisk.model.registry import load_model

    if hours < 1:
        raise WxriskError(f"--hours {hours}: a board covers at least one hour")
    start = utc_naive(start).replace(minute=0, second=0, microsecond=0)
    version = load_model(settings, model).version
    weather = choose_weather(con, start)
    plan = RunPlan(run_id_for(start, hours, weather, version), start, hours, weather, version,
                   load_rules(settings.board_rules))
    _start_run(con, plan)
    return plan


def _network_is_synthetic(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT coalesce(bool_or(synthetic), FALSE) FROM segments").fetchone()[0])


def _start_run(con, plan: RunPlan) -> None:
    with transaction(con):
        for table in ("risk", "stretches", "stretch_measures", "dispatch", "runs"):
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [plan.run_id])
        con.execute(
            "INSERT INTO runs (run_id, created_at, start_time, hours, weather_kind, weather_issued_at, "
            "model_version, status, synthetic) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)",
            [plan.run_id, utc_now(), plan.start, plan.hours, plan.weather.kind, plan.weather.issued_at,
             plan.model_version, _network_is_synthetic(con)],
        )


# --- score --------------------------------------------------------------------------------------


def normal_hourly_risk(features: pd.DataFrame) -> np.ndarray:
    """The segment's usual probability of an incident in an hour: its smoothed record / hours a year."""
    if "hist_rate_per_year" not in features:
        return np.full(len(features), np.nan)
    return features["hist_rate_per_year"].to_numpy(dtype="float64", na_value=np.nan) / HOURS_PER_YEAR


@dataclass(frozen=True)
class TileScore:
    """What scoring one tile of segments gives back: its board columns and what it lacked."""

    frame: pd.DataFrame  # the ScoredRun layout, covered segment-hours only
    uncovered: np.ndarray  # per hour of the run: segments lacking the core weather inputs then (gaps)
    unavailable: tuple[str, ...]  # feature columns NaN on every row of the tile
    missing_inputs: tuple[str, ...]  # weather variables the window has no value of
    segments_without_weather: int  # the tile's segments without core weather at any hour
    skipped_rules: tuple[str, ...]
    segments_without_rows: int = 0  # segments of the network with no weather row in the window (all tiles)
    seconds: dict[str, float] = field(default_factory=dict)  # wall-clock seconds by part
    candidates: Candidates | None = None  # the tile's rows that may get drivers in words


@dataclass(frozen=True)
class Candidates:
    """Rows that may get drivers in words: positions (in a tile, or in the run), rank (what the tiers
    rank, probability per segment-hour), feature rows."""

    rows: np.ndarray  # int64
    rank: np.ndarray  # float64
    x: np.ndarray  # float32, rows x the model's features

    def shifted(self, offset: int) -> Candidates:
        return Candidates(self.rows + offset, self.rank, self.x)

    def riskiest(self, other: Candidates | None, limit: int) -> Candidates:
        """These and `other`, at most `limit` of the riskiest (ties at the cut kept, as `driver_rows`)."""
        joined = self if other is None else Candidates(np.concatenate([other.rows, self.rows]),
                                                       np.concatenate([other.rank, self.rank]),
                                                       np.concatenate([other.x, self.x]))
        if len(joined.rows) <= limit:
            return joined
        keep = joined.rank >= np.partition(joined.rank, len(joined.rank) - limit)[len(joined.rank) - limit]
        return Candidates(joined.rows[keep], joined.rank[keep], joined.x[keep])


class Clock:
    """Wall-clock seconds by named part, accumulated lap by lap."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._last
        self._last = now

    def add(self, seconds: dict[str, float]) -> None:
        for name, value in seconds.items():
            self.seconds[name] = self.seconds.get(name, 0.0) + value


def run_window(con, settings: Settings, plan: RunPlan) -> FeatureWindow:
    """The run's segments with weather, hours, incidents and weather source (read once per process)."""
    return feature_window(con, settings, plan.start, plan.end, plan.weather.kind, plan.weather.issued_at)


def score_tile(con, window: FeatureWindow, model, plan: RunPlan, first: int, stop: int) -> TileScore:
    """Features of segments [first, stop) -> calibrated risk and drivers -> warnings and conditions."""
    clock = Clock()
    table = tile_features(con, window, first, stop)
    clock.lap("features")
    return score_table(table, window, model, plan, first, stop, clock)


def score_table(table: FeatureTable, window: FeatureWindow, model, plan: RunPlan, first: int, stop: int,
                clock: Clock) -> TileScore:
    """A tile's features -> calibrated risk -> the official warnings and weather conditions, and the
    tile's candidates for drivers in words (the tiers and the words come once the whole board is
    scored: `keep_tiles`).

    Segment-hours without the core weather inputs are not scored.
    """
    from wxrisk.board.tiers import segment_hour_signals, weather_risk
    from wxrisk.model.predict import MAX_DRIVER_ROWS, driver_rows, predict_risk
    from wxrisk.model.registry import FeatureBlock

    covered = table.covered.reshape(stop - first, len(window.hours))
    table = table.covered_only()
    features = table.frame
    block = FeatureBlock(table.block, tuple(FEATURE_NAMES))
    scored = predict_risk(model, features, max_driver_rows=0, block=block)
    scored["baseline_risk"] = normal_hourly_risk(features)
    ranked = weather_risk(scored)  # what the tiers rank: the board's top rows are the ones explained
    chosen = np.flatnonzero(driver_rows(ranked, np.nextafter(0.0, 1.0), MAX_DRIVER_ROWS))
    candidates = Candidates(chosen.astype(np.int64), ranked[chosen], block.matrix(model.feature_names, chosen))
    clock.lap("prediction")
    signals = segment_hour_signals(features, plan.rules)
    frame = board_frame(
        features["segment_id"], features["valid_time"], scored["risk"], None,  # tiers once the board is whole
        baseline_risk=scored["baseline_risk"], ice_risk=scored.get("ice_risk"),
        conditions={name: signals[name].to_numpy() for name in CONDITION_COLUMNS},
        warnings={name: signals[name].array for name in WARNING_COLUMNS})  # categoricals, recoded not re-read
    has_weather = covered.any(axis=1)  # a segment with no covered hour is outside the weather, not a gap
    clock.lap("warnings")
    return TileScore(frame, (~covered[has_weather]).sum(axis=0), table.unavailable, window.missing_inputs,
                     int((~has_weather).sum()), tuple(signals.attrs.get("skipped_rules", ())),
                     window.segments_without_weather, clock.seconds, candidates)


def score_tiles(con, settings: Settings, plan: RunPlan, progress: Progress = _quiet) -> Iterator[TileScore]:
    """Every tile of the run scored in this process, lazily, in order. The next tile's features are
    computed on a second thread (its own cursor) while this one is predicted: on two cores the
    numpy of one overlaps the LightGBM and DuckDB of the other."""
    from wxrisk.model.registry import load_model

    window = run_window(con, settings, plan)
    model = load_model(settings, plan.model_version)
    tiles = window.tiles(settings.tile_segments)
    progress(f"scoring {len(window.segments):,} segments x {plan.hours} h in {len(tiles)} tile(s)")

    def features_of(first: int, stop: int) -> tuple[FeatureTable, float]:
        began = time.perf_counter()
        return tile_features(reader, window, first, stop), time.perf_counter() - began

    with ThreadPoolExecutor(max_workers=1) as pool, con.cursor() as reader:
        pending = pool.submit(features_of, *tiles[0])
        for i, (first, stop) in enumerate(tiles):
            table, seconds = pending.result()
            if i + 1 < len(tiles):
                pending = pool.submit(features_of, *tiles[i + 1])
            clock = Clock()
            clock.seconds["features"] = seconds
            yield score_table(table, window, model, plan, first, stop, clock)


def store_risk(con, run_id: str, rows: pd.DataFrame | pa.Table) -> None:
    """Write the run's risk rows, once, from its scored frame or `risk_rows_table` (`ice_risk` NULL
    when the model gives none)."""
    columns = RISK_COLUMNS[1:]
    if isinstance(rows, pd.DataFrame):
        rows = risk_rows_table(rows)
    with transaction(con):
        con.execute("DELETE FROM risk WHERE run_id = ?", [run_id])
        with frame_registered(con, "scored_rows", rows):
            con.execute(f"INSERT INTO risk BY NAME SELECT ?::TEXT AS run_id, {', '.join(columns)} FROM scored_rows",
                        [run_id])


def risk_rows_table(frame: pd.DataFrame) -> pa.Table:
    """The risk columns of a scored frame as Arrow: the categoricals stay dictionary-encoded (DuckDB
    reads them faster than pandas categoricals); the numbers are shared, not copied."""
    return pa.Table.from_pandas(frame[RISK_COLUMNS[1:]], preserve_index=False)


class RiskRows:
    """The run's risk rows written on a thread of their own while the board is built: into the
    working database, then copied from it into a staged snapshot file that the publish step makes
    the board of (`publish_run(staged=...)`), so neither write holds up the board.

    The writer holds a selection of the scored frame's risk columns (copy-on-write) until they are
    written: nothing the board does to the frame afterwards reaches the rows.
    """

    def __init__(self, con, settings: Settings, run_id: str, frame: pd.DataFrame):
        self.seconds: dict[str, float] = {}
        writer = another_connection(con)  # opened here, before any other step's connection
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="risk-rows")
        self._written: Future[Path] = self._pool.submit(self._write, writer, settings, run_id,
                                                        frame[RISK_COLUMNS[1:]])
        self._pool.shutdown(wait=False)

    def _write(self, con, settings: Settings, run_id: str, rows: pd.DataFrame) -> Path:
        clock = Clock()
        try:
            store_risk(con, run_id, rows)
            clock.lap("risk rows written, beside board")
            staged = stage_risk(con, settings, run_id)
            clock.lap("snapshot risk rows, beside board")
            return staged
        finally:
            con.close()
            self.seconds.update(clock.seconds)

    def written(self) -> Path:
        """Wait for both writes; the staged snapshot file (the writer's error, if it failed)."""
        return self._written.result()

    def discard(self) -> None:
        """Wait for the writer, and remove its staged file (a run that will not be published)."""
        with suppress(Exception):  # the run already failed; a failed writer leaves no staged file
            self.written().unlink(missing_ok=True)


@dataclass(frozen=True)
class RunSummary:
    """What a scored run lacked: what the board warns about, and whether it is complete (small)."""

    rows: int
    uncovered_hours: tuple[datetime, ...]
    missing_inputs: tuple[str, ...]
    seconds: dict[str, float] = field(default_factory=dict)  # wall-clock seconds by part of the score step
    risk_rows: RiskRows | None = field(default=None, repr=False, compare=False)  # being written beside the board

    @property
    def status(self) -> str:
        return "incomplete" if self.uncovered_hours else "complete"


def keep_tiles(con, settings: Settings, plan: RunPlan, tiles: Iterable[TileScore],
               progress: Progress = _quiet) -> tuple[ScoredRun, RunSummary]:
    """Keep each tile's board columns as it comes; then the whole run: tiered against its own
    ranking (`board.tiers.assign_tiers`), drivers in words for the rows ranked highest by what the
    tiers rank (at most `predict.MAX_DRIVER_ROWS`, whatever the tiles); its risk rows are written
    on a thread of their own (`RiskRows`) while the next step builds the board."""
    from wxrisk.board.tiers import assign_tiers
    from wxrisk.model.predict import MAX_DRIVER_ROWS

    frames, uncovered, unavailable, last = [], np.zeros(plan.hours, dtype=np.int64), None, None
    without_weather, offset, candidates = 0, 0, None
    clock = Clock()
    for tile in tiles:
        clock.add(tile.seconds)
        if tile.candidates is not None:
            candidates = tile.candidates.shifted(offset).riskiest(candidates, MAX_DRIVER_ROWS)
        offset += len(tile.frame)
        frames.append(tile.frame)
        uncovered += tile.uncovered
        without_weather += tile.segments_without_weather
        unavailable = set(tile.unavailable) if unavailable is None else unavailable & set(tile.unavailable)
        last = tile
        progress(f"scored {sum(len(f) for f in frames):,} segment-hours")
    if last is None or not any(len(f) for f in frames):
        raise WxriskError(f"weather: no segment has temperature and precipitation for {plan.start:%Y-%m-%dT%H:%MZ} "
                          f"+ {plan.hours} h; import weather covering the window")
    clock.lap("tiles")
    scored = ScoredRun(plan.run_id, concat_board_frames(frames), plan.rules, last.skipped_rules)
    del frames
    clock.lap("board columns joined")
    scored.frame["tier"] = assign_tiers(scored.frame, plan.rules)  # shares of the whole board's ranking
    clock.lap("tiers")
    add_drivers(settings, plan, scored.frame, candidates)
    clock.lap("drivers in words")
    hours = tuple(plan.start + timedelta(hours=int(h)) for h in np.flatnonzero(uncovered))
    warnings = [*last.missing_inputs, *(f"feature:{name}" for name in sorted(unavailable or ()))]
    warnings += weather_warnings(settings, plan, last.segments_without_rows + without_weather, hours, uncovered)
    risk_rows = RiskRows(con, settings, plan.run_id, scored.frame)  # the last thing: nothing may fail after it starts
    clock.seconds.pop("tiles", None)
    return scored, RunSummary(len(scored), hours, tuple(warnings), clock.seconds, risk_rows)


def add_drivers(settings: Settings, plan: RunPlan, frame: pd.DataFrame, candidates: Candidates | None) -> None:
    """Drivers in words (`top_drivers`, `top_drivers_en`) on the candidate rows of the run's frame."""
    from wxrisk.model.explain import categorical_by_row
    from wxrisk.model.predict import drivers_in_words
    from wxrisk.model.registry import load_model

    if candidates is None or not len(candidates.rows):
        return
    codes, texts = drivers_in_words(load_model(settings, plan.model_version), candidates.x)
    by_row = np.full(len(frame), -1, dtype=np.int64)
    by_row[candidates.rows] = codes
    frame["top_drivers"] = categorical_by_row(by_row, texts["zh"])
    frame["top_drivers_en"] = categorical_by_row(by_row, texts["en"])


def weather_warnings(settings: Settings, plan: RunPlan, segments_without_weather: int,
                     uncovered_hours: tuple[datetime, ...], uncovered: np.ndarray) -> list[str]:
    """What the board says about its weather: hindcast, staleness, segments and hours without it."""
    found = []
    if plan.weather.kind == "analysis":
        found.append("forecast: none covers the window, analysis used")
    else:
        age_h = (plan.start - plan.weather.issued_at).total_seconds() / 3600
        if age_h > settings.stale_forecast_hours:
            found.append(f"forecast: stale, issued {age_h:.0f} h before start (more than "
                         f"{settings.stale_forecast_hours:g} h)")
    if segments_without_weather:
        found.append(f"weather: {segments_without_weather} segment(s) have none in the window and are not scored")
    if uncovered_hours:
        found.append(f"weather: {len(uncovered_hours)} of {plan.hours} hours lack temperature or precipitation "
                     f"on {int(uncovered.max())} segment(s) at most, not scored: {hour_ranges(uncovered_hours)}")
    return found


def hour_ranges(hours: Iterable[datetime]) -> str:
    """Hours as runs of consecutive hours: `2024-02-04T09Z–2024-02-04T20Z, 2024-02-05T01Z`."""
    runs: list[list[datetime]] = []
    for hour in sorted(hours):
        if runs and hour - runs[-1][-1] == timedelta(hours=1):
            runs[-1].append(hour)
        else:
            runs.append([hour])
    return ", ".join(f"{r[0]:%Y-%m-%dT%HZ}" + (f"–{r[-1]:%Y-%m-%dT%HZ}" if len(r) > 1 else "") for r in runs)


def score_segments(con, settings: Settings, plan: RunPlan, progress: Progress = _quiet) -> tuple[ScoredRun, RunSummary]:
    """The score step in this process: every tile scored, its risk rows written, board columns kept."""
    return keep_tiles(con, settings, plan, score_tiles(con, settings, plan, progress), progress)


# --- board and publish --------------------------------------------------------------------------


def build_run_board(con, settings: Settings, scored: ScoredRun) -> dict:
    """Stretches, measures and dispatch of the run from its scored segment-hours in memory."""
    from wxrisk.board.build import build_board

    return build_board(con, settings, scored.run_id, scored)


def board_weather(con, plan: RunPlan, segments_per_part: int = 16_384) -> Iterable[pd.DataFrame]:
    """The resolved weather the features used, for the segments of the run's stretches: what the
    published board shows beside them (from SNAPSHOT_WEATHER_HOURS_BEFORE before the first hour),
    a part of `segments_per_part` segments at a time, each read on a thread of its own (a cursor
    of `con`) while the part before it is written: the first as soon as this is called."""
    ids = set()
    for (members,) in con.execute("SELECT segment_ids FROM stretches WHERE run_id = ?", [plan.run_id]).fetchall():
        ids.update(json.loads(members or "[]"))
    ids = sorted(ids)
    first = plan.start - timedelta(hours=SNAPSHOT_WEATHER_HOURS_BEFORE)
    reader = con.cursor()

    def part(start: int) -> Callable[[], pd.DataFrame]:
        return lambda: resolved_weather(reader, plan.weather.source, ids[start:start + segments_per_part], first,
                                        plan.hours + SNAPSHOT_WEATHER_HOURS_BEFORE)

    return Ahead([part(start) for start in range(0, max(len(ids), 1), segments_per_part)], closing=reader)


class Ahead:
    """The results of `jobs` in order, each computed on a thread while the caller uses the one
    before it; the first is started at once. `closing` is closed with it (once all are used, or
    by `close`)."""

    def __init__(self, jobs: Iterable[Callable[[], object]], closing=None):
        self._jobs, self._closing = iter(jobs), closing
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ahead")
        self._next = self._start()

    def _start(self) -> Future | None:
        job = next(self._jobs, None)
        return None if job is None else self._pool.submit(job)

    def __iter__(self) -> Iterator:
        try:
            while self._next is not None:
                current, self._next = self._next, self._start()
                yield current.result()
        finally:
            self.close()

    def close(self) -> None:
        """Stop after the job under way; close `closing`."""
        self._next = None
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._closing is not None:
            self._closing.close()
            self._closing = None


def publish_scored_run(con, settings: Settings, plan: RunPlan, summary: RunSummary) -> Path:
    """Mark the run complete (or incomplete) and publish it, with its weather, as the current board
    (once its risk rows are written, when they are being written beside the board)."""
    weather = board_weather(con, plan)  # its first part is read while the risk rows and other tables are written
    try:
        staged = _risk_rows_written(summary)
        message = None
        if summary.status == "incomplete":
            message = (f"incomplete: {len(summary.uncovered_hours)} of {plan.hours} hours without weather, "
                       f"not scored: {hour_ranges(summary.uncovered_hours)}")
        _finish_run(con, plan.run_id, summary.status, list(summary.missing_inputs), message)
        return publish_run(con, settings, plan.run_id, weather=weather, feature_labels=feature_labels(), staged=staged)
    finally:
        weather.close()


def _risk_rows_written(summary: RunSummary) -> Path | None:
    """Wait for the risk rows being written beside the board; their staged snapshot file."""
    if summary.risk_rows is None:
        return None
    began = time.perf_counter()
    staged = summary.risk_rows.written()
    summary.seconds.update(summary.risk_rows.seconds)
    summary.seconds["publish: waiting for risk rows"] = time.perf_counter() - began
    return staged


def feature_labels() -> pd.DataFrame:
    """`name, label_zh, label_en` of every feature, for the board's words about missing inputs."""
    from wxrisk.features import FEATURE_SPECS

    return pd.DataFrame([(s.name, s.label_zh, s.label_en) for s in FEATURE_SPECS],
                        columns=["name", "label_zh", "label_en"])


def _finish_run(con, run_id: str, status: str, missing: list[str], message: str | None) -> None:
    con.execute(
        "UPDATE runs SET status = ?, missing_inputs = ?, message = ? WHERE run_id = ?",
        [status, json.dumps(missing), message, run_id],
    )


def fail_run(con, plan: RunPlan, exc: BaseException) -> None:
    """Record the failure; the last good board stays published."""
    _finish_run(con, plan.run_id, "failed", [], (str(exc).splitlines() or [type(exc).__name__])[0])


# --- the steps, in order ------------------------------------------------------------------------

TileRunner = Callable[[Settings, RunPlan, list[tuple[int, int]]], Iterable[TileScore]]


@dataclass
class RunState:
    """What the steps of one run hand on: small values, and the scored run of this process.

    Each step opens its own short connection to `settings.db_path`, so a step can run as a Prefect
    task (and retry alone), and no connection is held while other processes read the database.
    `tile_runner` scores tiles elsewhere (a Dask cluster); by default they are scored here.
    """

    settings: Settings
    start: datetime | str
    hours: int = 72
    model: str = "champion"
    progress: Progress = _quiet
    tile_runner: TileRunner | None = None
    plan: RunPlan | None = None
    scored: ScoredRun | None = None
    summary: RunSummary | None = None
    board: dict | None = None
    published: Path | None = None


def connection(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A short connection for one step, DuckDB's memory bounded by `settings.duckdb_memory`."""
    from wxrisk.store import connect

    return connect(settings.db_path, memory_limit=settings.duckdb_memory)


def _plan(state: RunState) -> None:
    with connection(state.settings) as con:
        state.plan = plan_run(con, state.settings, state.start, state.hours, state.model)
    issued = state.plan.weather.issued_at
    state.progress(f"plan: {state.plan.weather.kind} weather" + (f" issued {issued:%Y-%m-%d %H:%MZ}" if issued else "")
                   + f", model {state.plan.model_version}")


def _score(state: RunState) -> None:
    settings, plan = state.settings, state.plan
    if state.tile_runner is None:
        with connection(settings) as con:
            state.scored, state.summary = score_segments(con, settings, plan, state.progress)
        return
    with connection(settings) as con:
        ranges = run_window(con, settings, plan).tiles(settings.tile_segments)
    tiles = list(state.tile_runner(settings, plan, ranges))  # no connection open: workers read the file
    with connection(settings) as con:
        state.scored, state.summary = keep_tiles(con, settings, plan, tiles, state.progress)


def _board(state: RunState) -> None:
    with connection(state.settings) as con:
        state.board = build_run_board(con, state.settings, state.scored)
    state.scored = None  # risk rows and board are written: the scored columns are no longer needed
    state.progress(f"board: {state.board.get('stretches', 0)} stretches")


def _publish(state: RunState) -> None:
    with connection(state.settings) as con:
        state.published = publish_scored_run(con, state.settings, state.plan, state.summary)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[RunState], None]


STEPS: tuple[Step, ...] = (Step("plan", _plan), Step("score", _score), Step("board", _board),
                           Step("publish", _publish))
STEPS_BY_NAME = {step.name: step for step in STEPS}


def record_failure(state: RunState, exc: BaseException) -> None:
    """Mark a planned run failed; the last published board stays current."""
    if state.summary is not None and state.summary.risk_rows is not None and state.published is None:
        state.summary.risk_rows.discard()
    if state.plan is not None and state.published is None:
        with connection(state.settings) as con:
            fail_run(con, state.plan, exc)


def run_steps(state: RunState, around: Callable[[str], object] | None = None) -> RunState:
    """Run `STEPS` in order; `around(name)` (a context manager, e.g. the bench's timer) wraps each."""
    from contextlib import nullcontext

    try:
        for step in STEPS:
            with around(step.name) if around else nullcontext():
                step.run(state)
    except Exception as exc:
        record_failure(state, exc)
        raise
    return state


def score_run(settings: Settings, start: datetime | str, hours: int = 72, model: str = "champion",
              progress: Progress = _quiet) -> RunState:
    """Score every segment for `hours` hours from `start` [UTC], build the board, publish it.

    Returns the run's state (`plan.run_id`; `summary.status` is complete, or incomplete when some
    hours lacked weather and were not scored). The previous board stays current if the run fails.
    """
    state = run_steps(RunState(settings, start, hours, model, progress))
    progress(f"published board {state.plan.run_id} ({state.summary.status})")
    return state


# --- tiles scored in another process (a Dask worker) --------------------------------------------

_context_cache: dict[tuple, tuple] = {}


def score_tile_alone(settings: Settings, plan: RunPlan, first: int, stop: int) -> TileScore:
    """One tile scored in a process of its own: reads the database read-only, keeps the run's
    window and model for the next tile of the same run."""
    from wxrisk.model.registry import load_model
    from wxrisk.store import connect

    key = (str(settings.db_path), plan.run_id)
    with connect(settings.db_path, read_only=True) as con:
        if key not in _context_cache:
            _context_cache.clear()
            _context_cache[key] = (run_window(con, settings, plan), load_model(settings, plan.model_version))
        window, model = _context_cache[key]
        return score_tile(con, window, model, plan, first, stop)
