"""Connections to the wxrisk DuckDB file and a transaction helper."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from wxrisk.config import WxriskError


def schema_sql() -> str:
    """The full schema, from every `*.sql` file of `wxrisk.store`, in name order."""
    folder = resources.files("wxrisk.store")
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def connect(db_path: str | Path, read_only: bool = False, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open the database (creating it and its schema unless read-only); times are handled as UTC.

    memory_limit : most memory DuckDB keeps in this process (e.g. `1GB`; DuckDB's own default is
                   80 % of the machine); beyond it DuckDB evicts cached blocks and spills to disk
    """
    db_path = Path(db_path)
    if read_only and not db_path.exists():
        raise WxriskError(f"{db_path}: no database yet (run an import or `wxrisk demo` first)")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(db_path), read_only=read_only)
    except duckdb.IOException as exc:
        raise WxriskError(f"{db_path}: cannot open database ({str(exc).splitlines()[0]})") from exc
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")  # a checked setting, not user text
    if not read_only:
        con.execute(schema_sql())
    return con


def another_connection(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A second connection to `con`'s database, for a thread of its own: the same in-process
    database (its settings and memory limit), but it stays open when `con` closes (a cursor would not)."""
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    if path is None:  # a second connect would open a new, empty database
        raise WxriskError("an in-memory database has no second connection: use a database file")
    other = duckdb.connect(path)
    other.execute("SET TimeZone = 'UTC'")
    return other


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: all of it is written, or nothing."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
