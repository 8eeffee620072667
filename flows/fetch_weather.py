"""Scheduled forecast fetch: Extract (download a new run) -> Load (import it) -> refresh the board.

One deployment per chosen source (`WXRISK_SOURCE`, default `ecmwf`), scheduled a little after the
source usually publishes a run. If the source fails, nothing already imported is touched: the
last good forecast stays in use, the log says how old it is, and the flow run ends failed.
Retries: the HTTP layer retries transient errors at once; this task retries once more, later,
only when the service stayed unavailable (never on 404 "not published yet" or bad input).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.schedules import Cron

from wxrisk.config import load_settings
from wxrisk.sources import (
    FetchResult,
    SourceUnavailableError,
    default_bbox,
    fallback_note,
    fetch_weather,
    parse_bbox,
)
from wxrisk.store import connect

# Minute/hour (UTC) a little after each source's runs are usually on line.
SCHEDULES_UTC: dict[str, str] = {
    "ecmwf": "30 8,20 * * *",        # 00/12 UTC runs, out about 8 h later
    "gfs": "0 5,11,17,23 * * *",     # 00/06/12/18 UTC runs, out about 4.5 h later
    "open-meteo": "15 */3 * * *",    # a blend updated several times a day
}


def retry_if_unavailable(task, task_run, state) -> bool:
    """Retry the fetch only when the service stayed unavailable through the HTTP retries."""
    try:
        state.result()
    except SourceUnavailableError:
        return True
    except Exception:
        return False
    return False


@task(retries=1, retry_delay_seconds=600, retry_condition_fn=retry_if_unavailable, cache_policy=NO_CACHE)
def fetch_forecast(db: str, source: str, start: datetime, hours: int, bbox: str | None,
                   base_url: str | None) -> FetchResult:
    settings = load_settings(db)
    with connect(db) as con:
        box = parse_bbox(bbox) if bbox else default_bbox(con)
        try:
            return fetch_weather(settings, source, start, hours, box, base_url)
        except Exception:
            get_run_logger().warning("%s failed; %s", source, fallback_note(con))
            raise


@task(cache_policy=NO_CACHE)
def import_forecast(db: str, fetched: FetchResult) -> list[str]:
    from wxrisk.weather.importer import import_weather

    with connect(db) as con:
        results = import_weather(con, load_settings(db), fetched.paths, kind="forecast",
                                 issued=fetched.issued_at, counted=not fetched.from_cache)
    return [result.summary() for result in results]


@task(cache_policy=NO_CACHE)
def refresh_board(db: str, start: datetime, hours: int) -> str:
    from wxrisk.pipeline import score_run

    return score_run(load_settings(db), start, hours).plan.run_id


@flow(name="wxrisk-fetch-weather", log_prints=True)
def fetch_weather_flow(db: str, source: str = "ecmwf", hours: int = 72, start: datetime | None = None,
                       bbox: str | None = None, base_url: str | None = None) -> str:
    """Fetch `hours` hours from `start` (default: the current UTC hour), import, publish a new board."""
    start = start or datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    fetched = fetch_forecast(db, source, start, hours, bbox, base_url)
    print(f"{source} run {fetched.issued_at:%Y-%m-%dT%H}Z"
          f"{' (cached)' if fetched.from_cache else ''}: {', '.join(map(str, fetched.paths))}")
    for line in import_forecast(db, fetched):
        print(line)
    run_id = refresh_board(db, start, hours)
    print(f"board {run_id} published")
    return run_id


def fetch_weather_deployments(db: str, timezone: str, source: str | None = None) -> list:
    """The scheduled fetch for `source` (default `WXRISK_SOURCE`, else ecmwf); times are UTC.

    timezone : the board's local time zone; unused by the schedule, which follows the model runs (UTC)
    """
    source = source or os.environ.get("WXRISK_SOURCE", "ecmwf")
    return [fetch_weather_flow.to_deployment(
        name=f"fetch-{source}", schedules=[Cron(SCHEDULES_UTC[source], timezone="UTC")],
        parameters={"db": db, "source": source})]
