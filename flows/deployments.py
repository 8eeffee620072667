"""Scheduled deployments, served by `make serve`: the daily board at 05:00 local time, the
weekly retrain, and the inbox poll every minute (flows/inbox.py). New forecasts refresh the board
from the fetch flow (flows/fetch_weather.py).

Retries and failures show in the Prefect UI (http://127.0.0.1:4200 when `make serve` runs it).
"""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from wxrisk.config import load_settings
from wxrisk.flows.pipeline import daily_board_flow, train_flow


def deployments(db: str, timezone: str) -> list:
    """The deployments wxrisk runs in service."""
    from wxrisk.flows.inbox import inbox_deployments
    from wxrisk.inbox import default_inbox

    found = inbox_deployments(db, str(default_inbox(load_settings(db)))) + [
        daily_board_flow.to_deployment(
            name="daily-board", schedules=[Cron("0 5 * * *", timezone=timezone)], parameters={"db": db}),
        train_flow.to_deployment(
            name="weekly-retrain", schedules=[Cron("0 3 * * 1", timezone=timezone)],
            parameters={"db": db, "promote": True}),
    ]
    try:
        from wxrisk.flows.fetch_weather import fetch_weather_deployments
    except ImportError:
        return found
    return found + fetch_weather_deployments(db, timezone)


if __name__ == "__main__":
    settings = load_settings()
    serve(*deployments(str(settings.db_path), settings.timezone))
