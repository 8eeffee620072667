"""Whether weather and incident history cover the same time: a model learns only where both exist."""

from __future__ import annotations

from datetime import datetime

import duckdb


def incident_window(con: duckdb.DuckDBPyConnection) -> tuple[datetime, datetime] | None:
    """First and last incident times (UTC naive), None without incidents."""
    first, last = con.execute("SELECT min(occurred_at), max(occurred_at) FROM incidents").fetchone()
    return None if first is None else (first, last)


def _day(value: datetime | str) -> str:
    return str(value)[:10]


def weather_overlap_notice(con: duckdb.DuckDBPyConnection, valid_from: datetime | str,
                           valid_to: datetime | str) -> str | None:
    """A notice, naming both windows, when weather hours [valid_from, valid_to] overlap no incident."""
    window = incident_window(con)
    weather = f"{_day(valid_from)} to {_day(valid_to)}"
    if window is None:
        return f"no incident history imported yet, so a model cannot learn from this weather ({weather})"
    first, last = window
    if str(valid_to) < first.isoformat() or str(valid_from) > last.isoformat():
        return (f"this weather ({weather}) overlaps no incident history (incidents {_day(first.isoformat())} "
                f"to {_day(last.isoformat())}): a model cannot learn from it")
    return None
