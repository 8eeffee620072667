"""The import ledger: every import is hashed, counted, and written whole or not at all.

Importing the same bytes twice changes nothing; a different file for the same window
(`window_key`) replaces the earlier one's rows in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from wxrisk.store.db import transaction

REPLACEABLE_TABLES = frozenset({"segments", "incidents", "weather_hourly"})


@dataclass
class ImportEntry:
    """What an importer reports while it writes one file's rows."""

    con: duckdb.DuckDBPyConnection
    import_id: int
    kind: str
    path: str
    window_key: str
    rows_read: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    details: dict = field(default_factory=dict)

    def replace_rows(self, table: str) -> None:
        """Delete the rows an earlier import of this window wrote to `table`."""
        if table not in REPLACEABLE_TABLES:
            raise ValueError(f"{table} is not an import table")
        self.con.execute(f"DELETE FROM {table} WHERE source = ?", [self.window_key])

    def quarantine(self, rows: Iterable[tuple[int | None, str, dict | None]]) -> None:
        """Keep unreadable rows: (row_number, reason, raw row) each."""
        records = [
            (self.import_id, self.kind, self.path, row_number, reason,
             json.dumps(raw, ensure_ascii=False, default=str) if raw is not None else None)
            for row_number, reason, raw in rows
        ]
        if records:
            self.con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?)", records)
        self.rows_quarantined += len(records)


@dataclass(frozen=True)
class ImportResult:
    kind: str
    path: str
    status: str  # imported | replaced | unchanged
    import_id: int | None
    rows_read: int
    rows_kept: int
    rows_quarantined: int
    details: dict

    def summary(self) -> str:
        if self.status == "unchanged":
            return f"{self.path}: unchanged (already imported as import {self.import_id})"
        line = (f"{self.path}: {self.status} {self.kind}: {self.rows_read} read, {self.rows_kept} kept, "
                f"{self.rows_quarantined} quarantined")
        if self.details.get("missing_variables"):
            line += f"; missing: {', '.join(self.details['missing_variables'])}"
        if "unmatched" in self.details:
            line += f"; matched to segments: {self.details.get('matched', 0)}, unmatched: {self.details['unmatched']}"
        return line


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _previous_import(con, kind: str, file_hash: str) -> ImportResult | None:
    row = con.execute(
        "SELECT import_id, path, rows_read, rows_kept, rows_quarantined, details FROM import_ledger "
        "WHERE kind = ? AND file_hash = ? ORDER BY import_id DESC LIMIT 1",
        [kind, file_hash],
    ).fetchone()
    if row is None:
        return None
    import_id, path, read, kept, quarantined, details = row
    return ImportResult(kind, path, "unchanged", import_id, read, kept, quarantined, json.loads(details or "{}"))


def run_import(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    path: str | Path,
    window_key: str,
    write: Callable[[ImportEntry], None],
    file_hash: str | None = None,
) -> ImportResult:
    """Write one file through `write(entry)` inside one transaction, recorded in the ledger.

    `write` must parse nothing that can fail on bad input (parse first, then call this):
    it deletes the window's old rows (`entry.replace_rows`), inserts, and sets the counts.
    """
    path = str(path)
    file_hash = file_hash or file_sha256(path)
    previous = _previous_import(con, kind, file_hash)
    if previous is not None:
        return previous
    replaced = con.execute(
        "SELECT count(*) FROM import_ledger WHERE kind = ? AND window_key = ?", [kind, window_key]
    ).fetchone()[0] > 0
    started = datetime.now(UTC).replace(tzinfo=None)
    with transaction(con):
        import_id = con.execute("SELECT nextval('import_seq')").fetchone()[0]
        entry = ImportEntry(con, import_id, kind, path, window_key)
        write(entry)
        status = "replaced" if replaced else "imported"
        con.execute(
            "INSERT INTO import_ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [import_id, kind, path, file_hash, window_key, entry.rows_read, entry.rows_kept,
             entry.rows_quarantined, started, datetime.now(UTC).replace(tzinfo=None), status,
             json.dumps(entry.details, ensure_ascii=False, default=str)],
        )
    return ImportResult(kind, path, status, import_id, entry.rows_read, entry.rows_kept,
                        entry.rows_quarantined, entry.details)
