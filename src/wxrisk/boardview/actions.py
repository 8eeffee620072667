"""The officers' log of measures taken, in the app's own DuckDB file (`settings.actions_db_path`).

The flows never write this file and the snapshot is read-only, so records survive new boards and
app restarts. Each call opens a short connection and closes it, retrying briefly if another
process holds the file.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from wxrisk.config import WxriskError
from wxrisk.vocab import utc_now

DDL = """
CREATE TABLE IF NOT EXISTS officer_actions (
    action_id   TEXT PRIMARY KEY,
    run_id      TEXT,                 -- board run the officer was looking at
    stretch_id  TEXT NOT NULL,
    road_ref    TEXT,
    km_from     DOUBLE,               -- K-stakes of the stretch [km]
    km_to       DOUBLE,
    measure_id  TEXT,                 -- playbook key when chosen from the board's measures
    measure     TEXT NOT NULL,        -- what was done, as the officer saw it
    officer     TEXT NOT NULL,
    taken_at    TIMESTAMP NOT NULL,   -- when the measure was taken (UTC)
    note        TEXT,
    recorded_at TIMESTAMP NOT NULL    -- when the record was saved (UTC)
)
"""

T = TypeVar("T")


@dataclass(frozen=True)
class ActionRecord:
    """One measure taken on a stretch; `taken_at` is UTC (naive)."""

    stretch_id: str
    measure: str
    officer: str
    taken_at: datetime
    run_id: str | None = None
    road_ref: str | None = None
    km_from: float | None = None
    km_to: float | None = None
    measure_id: str | None = None
    note: str = ""


def _with_connection(db_path: Path, work: Callable[[duckdb.DuckDBPyConnection], T],
                     attempts: int = 5, wait_s: float = 0.2) -> T:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect_with_retry(db_path, attempts, wait_s)
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(DDL)
        return work(con)
    finally:
        con.close()


def _connect_with_retry(db_path: Path, attempts: int, wait_s: float) -> duckdb.DuckDBPyConnection:
    for attempt in range(1, attempts + 1):
        try:
            return duckdb.connect(str(db_path))
        except duckdb.IOException as exc:
            if attempt == attempts:
                raise WxriskError(f"{db_path}: action log is locked by another process ({exc})") from exc
            time.sleep(wait_s * attempt)
    raise WxriskError(f"{db_path}: action log could not be opened")


def validate(record: ActionRecord) -> None:
    """Raise WxriskError naming the first missing field of the record."""
    for field in ("stretch_id", "measure", "officer"):
        if not str(getattr(record, field) or "").strip():
            raise WxriskError(f"action record: {field} is empty")
    if record.taken_at.tzinfo is not None:
        raise WxriskError("action record: taken_at must be naive UTC")


def record_action(db_path: Path, record: ActionRecord) -> str:
    """Store the record; returns its new `action_id`."""
    validate(record)
    action_id = uuid.uuid4().hex
    row = [action_id, record.run_id, record.stretch_id, record.road_ref, record.km_from, record.km_to,
           record.measure_id, record.measure.strip(), record.officer.strip(), record.taken_at,
           record.note.strip(), utc_now()]
    _with_connection(Path(db_path), lambda con: con.execute(
        "INSERT INTO officer_actions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row))
    return action_id


def list_actions(db_path: Path, stretch_ids: list[str] | None = None) -> pd.DataFrame:
    """Records newest first, for the given stretches or all (an absent file gives an empty table)."""
    db_path = Path(db_path)
    if not db_path.exists():
        return pd.DataFrame(columns=["action_id", "run_id", "stretch_id", "road_ref", "km_from", "km_to",
                                     "measure_id", "measure", "officer", "taken_at", "note", "recorded_at"])
    return _with_connection(db_path, lambda con: con.execute(
        "SELECT * FROM officer_actions WHERE ?::TEXT[] IS NULL OR list_contains(?::TEXT[], stretch_id) "
        "ORDER BY taken_at DESC, recorded_at DESC",
        [stretch_ids, stretch_ids],
    ).df())
