"""Publishing a finished run as an immutable board snapshot the app reads.

DuckDB lets one process write a file or many read it, not both at once. So the app never
opens the working database: each complete run is copied into its own DuckDB file under
`boards_dir`, written under a temporary name, renamed into place, and only then named in
`CURRENT` (itself replaced atomically). A failed or killed run never touches `CURRENT`, so
the last good board stays in place.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from wxrisk.config import Settings, WxriskError
from wxrisk.vocab import atomic_path, atomic_write_text, frame_registered, insert_frame, utc_now

# Snapshot table -> query on the working database; `$run` is the run id. A table missing from
# the working database (an older schema) is skipped rather than failing the publication.
BOARD_QUERIES: dict[str, str] = {
    "runs": "SELECT * FROM runs WHERE run_id = $run",
    "risk": "SELECT * FROM risk WHERE run_id = $run",
    "segments": "SELECT * FROM segments WHERE segment_id IN (SELECT DISTINCT segment_id FROM risk WHERE run_id = $run)",
    "incidents": (
        "SELECT i.* FROM incidents i JOIN runs r ON r.run_id = $run "
        "WHERE i.occurred_at >= r.start_time - INTERVAL 30 DAY AND i.occurred_at < r.start_time + to_hours(r.hours)"
    ),
    "stretches": "SELECT * FROM stretches WHERE run_id = $run",
    "stretch_measures": "SELECT * FROM stretch_measures WHERE run_id = $run",
    "dispatch": "SELECT * FROM dispatch WHERE run_id = $run",
    "teams": "SELECT * FROM teams",
    "import_ledger": "SELECT * FROM import_ledger",
    "quarantine_counts": "SELECT kind, path, count(*) AS rows FROM quarantine GROUP BY ALL",
}

CURRENT = "CURRENT"
STAGED_TABLES = frozenset({"risk", "segments"})  # copied before the board is built (`stage_risk`)
STAGED_SUFFIX = ".staged.duckdb"
STAGED_MAX_AGE_S = 6 * 3600  # a staged file older than this was left by a killed run [s]


WEATHER_TYPES = {"segment_id": "TEXT", "valid_time": "TIMESTAMP", "kind": "TEXT", "t2m_c": "REAL", "d2m_c": "REAL",
                 "skt_c": "REAL", "precip_mm": "REAL", "snowfall_mm": "REAL", "ptype": "SMALLINT", "wind_ms": "REAL",
                 "vis_m": "REAL"}  # the snapshot's `weather` table (units as in weather_hourly)
WEATHER_COLUMNS = tuple(WEATHER_TYPES)


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database()"
    ).fetchall()}


def stage_risk(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str) -> Path:
    """The snapshot's `STAGED_TABLES` (the risk rows of run `run_id` and their segments), copied from
    the working database into a staged file of `boards_dir` (a dot-file, never pruned nor shown)
    that `publish_run(staged=...)` then completes; so the 13 million rows of a national board can
    be copied while the board is built."""
    staged = settings.boards_dir / f".{run_id}.{uuid.uuid4().hex}{STAGED_SUFFIX}"
    staged.parent.mkdir(parents=True, exist_ok=True)
    con.execute("ATTACH ? AS staged", [str(staged)])
    try:
        _copy_tables(con, "staged", run_id, STAGED_TABLES, _existing_tables(con))
    except BaseException:
        con.execute("DETACH staged")
        staged.unlink(missing_ok=True)
        raise
    con.execute("DETACH staged")
    return staged


def publish_run(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, keep: int = 10,
                weather: pd.DataFrame | Iterable[pd.DataFrame] | None = None,
                feature_labels: pd.DataFrame | None = None, staged: Path | None = None) -> Path:
    """Copy run `run_id` into `boards_dir/<run_id>.duckdb` and make it the current board.

    weather        : the weather the run's features used, one row per segment and hour
                     (`WEATHER_COLUMNS`; `kind` says whether the forecast or the analysis gave it),
                     a frame or frames in parts
    feature_labels : `name, label_zh, label_en` of the model's features (the words the app shows
                     for a missing input), so the app never imports the feature catalogue
    staged         : the run's `stage_risk` file: its tables are taken as they are (when the file
                     is gone, e.g. taken by an earlier attempt, the rows are copied again)
    """
    boards = settings.boards_dir
    final = boards / f"{run_id}.duckdb"
    tables = _existing_tables(con)
    copied = set(BOARD_QUERIES)
    with atomic_path(final) as tmp:  # renamed into place only once whole
        if staged is not None and staged.exists():
            os.replace(staged, tmp)
            copied -= STAGED_TABLES
        con.execute("ATTACH ? AS snapshot", [str(tmp)])
        try:
            _copy_tables(con, "snapshot", run_id, copied, tables)
            con.execute(
                "CREATE TABLE snapshot.published AS SELECT $1 AS run_id, $2::TIMESTAMP AS published_at",
                [run_id, utc_now()],
            )
            if weather is not None:
                con.execute(f"CREATE TABLE snapshot.weather ({', '.join(f'{c} {t}' for c, t in WEATHER_TYPES.items())})")
                for part in [weather] if isinstance(weather, pd.DataFrame) else weather:
                    # Arrow: DuckDB reads the categorical ids as a dictionary, faster than a pandas scan
                    insert_frame(con, "snapshot.weather", pa.Table.from_pandas(part[list(WEATHER_COLUMNS)],
                                                                               preserve_index=False), WEATHER_COLUMNS)
            if feature_labels is not None:
                with frame_registered(con, "published_frame", feature_labels):
                    con.execute("CREATE TABLE snapshot.feature_labels AS SELECT * FROM published_frame")
        finally:
            con.execute("DETACH snapshot")
    atomic_write_text(boards / CURRENT, json.dumps({"run_id": run_id, "file": final.name}))
    _prune(boards, keep)
    return final


def _copy_tables(con: duckdb.DuckDBPyConnection, into: str, run_id: str, names: set[str], tables: set[str]) -> None:
    """The `BOARD_QUERIES` tables among `names` of run `run_id`, from the working database into `into`."""
    for name, query in BOARD_QUERIES.items():
        source = {"quarantine_counts": "quarantine"}.get(name, name)
        if name not in names or source not in tables:
            continue
        params = [run_id] if "$run" in query else []
        con.execute(f"CREATE TABLE {into}.{name} AS {query.replace('$run', '$1')}", params)


def _prune(boards: Path, keep: int) -> None:
    """Keep the `keep` newest snapshots (and the current one); remove staged files of killed runs."""
    current = current_board_path_or_none(boards)
    snapshots = sorted(boards.glob("[!.]*.duckdb"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in snapshots[keep:]:
        if old != current:
            old.unlink(missing_ok=True)
    for staged in boards.glob(f".*{STAGED_SUFFIX}"):
        with suppress(FileNotFoundError):  # another run may take or remove its own meanwhile
            if time.time() - staged.stat().st_mtime > STAGED_MAX_AGE_S:
                staged.unlink(missing_ok=True)


def current_board_path_or_none(boards_dir: Path) -> Path | None:
    pointer = boards_dir / CURRENT
    if not pointer.exists():
        return None
    path = boards_dir / json.loads(pointer.read_text(encoding="utf-8"))["file"]
    return path if path.exists() else None


def current_board_path(settings: Settings) -> Path:
    """The snapshot file of the last complete run; a clear error when none was published."""
    path = current_board_path_or_none(settings.boards_dir)
    if path is None:
        raise WxriskError(f"{settings.boards_dir}: no published board yet (run `wxrisk score` or `wxrisk demo`)")
    return path


def open_board(path: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to one published snapshot."""
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con
