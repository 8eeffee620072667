"""The wxrisk flows: import, train, score, and the embedded demo end to end.

Extract (import files) -> Transform (features, model) -> Load (risk, board, publication).
Tasks open their own short DuckDB connection from the database path, so they can retry alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from wxrisk import pipeline
from wxrisk.config import Settings, WxriskError, load_settings
from wxrisk.store import connect


def retry_unless_bad_input(task, task_run, state) -> bool:
    """Retry transient failures (I/O, locks); never input the user has to fix."""
    try:
        state.result()
    except WxriskError:
        return False
    except Exception:
        return True
    return False


RETRYING = {"retries": 2, "retry_delay_seconds": 3, "retry_condition_fn": retry_unless_bad_input,
            "cache_policy": NO_CACHE}


@task(**RETRYING)
def generate_demo_world(out_dir: str, size: str, seed: int, world: str = "demo"):
    from wxrisk.scenario import generate

    return generate(Path(out_dir), seed=seed, size=size, world=world)


@task(**RETRYING)
def import_roads(db: str, path: str) -> str:
    from wxrisk.roads.importer import import_roads as run

    with connect(db) as con:
        return run(con, load_settings(db), path).summary()


@task(**RETRYING)
def import_incidents(db: str, path: str, preset: str = "generic", mapping: str | None = None,
                     tz: str | None = None) -> str:
    from wxrisk.incidents.importer import import_incidents as run

    with connect(db) as con:
        return run(con, load_settings(db), path, preset=preset, mapping=mapping, tz=tz).summary()


@task(**RETRYING)
def import_weather(db: str, paths: list[str], kind: str = "analysis", issued: datetime | None = None) -> list[str]:
    from wxrisk.weather.importer import import_weather as run

    with connect(db) as con:
        return [result.summary() for result in run(con, load_settings(db), paths, kind=kind, issued=issued)]


@task(**RETRYING)
def import_teams(db: str, path: str) -> int:
    from wxrisk.board.dispatch import load_teams

    with connect(db) as con:
        return load_teams(con, path)


@task(**RETRYING)
def train_model(db: str, until: datetime | None, promote: bool) -> str:
    from wxrisk.model.train import train_model as run

    logger = get_run_logger()
    with connect(db) as con:
        report = run(con, load_settings(db), until=until, promote=promote, progress=logger.info)
    return report.version


@task(**RETRYING)
def run_step(state: pipeline.RunState, name: str) -> None:
    """One named step of the board run (`wxrisk.pipeline.STEPS`); it opens its own connection."""
    pipeline.STEPS_BY_NAME[name].run(state)


@task(**RETRYING)
def score_tile(settings: Settings, plan: pipeline.RunPlan, first: int, stop: int) -> pipeline.TileScore:
    """Segments [first, stop) scored where the task runs (a Dask worker reads the database read-only)."""
    return pipeline.score_tile_alone(settings, plan, first, stop)


def tiles_on_task_runner(settings: Settings, plan: pipeline.RunPlan, ranges: list[tuple[int, int]]):
    """The run's tiles as tasks of this flow's task runner (a Dask cluster with `dask_task_runner`)."""
    futures = [score_tile.submit(settings, plan, first, stop) for first, stop in ranges]
    return [future.result() for future in futures]


@flow(name="wxrisk-import", log_prints=True)
def import_flow(db: str, roads: str | None = None, incidents: str | None = None,
                analysis: Sequence[str] = (), forecasts: Sequence[tuple[str, datetime]] = (),
                teams: str | None = None, preset: str = "generic") -> list[str]:
    """Extract: roads first (incidents are matched to segments), then incidents, teams and grids."""
    summaries: list[str] = []
    if roads:
        summaries.append(import_roads(db, roads))
    if incidents:
        summaries.append(import_incidents(db, incidents, preset=preset))
    if teams:
        summaries.append(f"{teams}: {import_teams(db, teams)} teams")
    if analysis:
        summaries += import_weather(db, list(analysis), "analysis")
    for path, issued in forecasts:
        summaries += import_weather(db, [path], "forecast", issued)
    for line in summaries:
        print(line)
    return summaries


@flow(name="wxrisk-train", log_prints=True)
def train_flow(db: str, until: datetime | None = None, promote: bool = True) -> str:
    return train_model(db, until, promote)


def dask_task_runner(address: str | None = None):
    """Prefect's Dask runner: the cluster at `address` (or `WXRISK_DASK_ADDRESS`), else a local one."""
    from prefect_dask import DaskTaskRunner

    address = address or os.environ.get("WXRISK_DASK_ADDRESS")
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True})


@flow(name="wxrisk-score", log_prints=True)
def score_flow(db: str, start: datetime, hours: int = 72, model: str = "champion", distributed: bool = False) -> str:
    """One board: the steps of `wxrisk.pipeline.STEPS` (plan, score, board, publish), a task each.

    Tasks pass small values (the plan, a summary); the scored run stays in this process. With
    `distributed`, the score step sends its tiles to the flow's task runner as tasks of their own
    (`score_flow.with_options(task_runner=dask_task_runner())` spreads them over a Dask cluster).
    A failure leaves the last published board current.
    """
    logger = get_run_logger()
    state = pipeline.RunState(load_settings(db), start, hours, model, progress=logger.info,
                              tile_runner=tiles_on_task_runner if distributed else None)
    try:
        for step in pipeline.STEPS:
            if step.name == "score" and distributed:
                step.run(state)  # in the flow itself, so its tile tasks go to the flow's task runner
            else:
                run_step.with_options(name=step.name)(state, step.name)
    except Exception as exc:
        pipeline.record_failure(state, exc)
        raise
    print(f"published {state.published} ({state.summary.status})")
    if state.summary.status != "complete":
        logger.warning("board %s is incomplete: %s", state.plan.run_id, "; ".join(state.summary.missing_inputs))
    return state.plan.run_id


@flow(name="wxrisk-demo", log_prints=True)
def demo_flow(db: str, out_dir: str, size: str = "demo", seed: int = 2024, world_name: str = "demo") -> str:
    """A synthetic scenario world end to end (`demo` or `guizhou`): generate, import, train, score, publish."""
    world = generate_demo_world(out_dir, size, seed, world_name)
    import_flow(db, roads=str(world.roads), incidents=str(world.incidents),
                analysis=[str(p) for p in world.analysis],
                forecasts=[(str(p), issued) for p, issued in world.forecasts], teams=str(world.teams))
    train_flow(db, until=world.train_until, promote=True)
    return score_flow(db, world.now, 72)


@flow(name="wxrisk-daily-board", log_prints=True)
def daily_board_flow(db: str, hours: int = 72, model: str = "champion") -> str:
    """The scheduled board: 72 h from the current hour with the newest forecast."""
    start = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    return score_flow(db, start, hours, model)
