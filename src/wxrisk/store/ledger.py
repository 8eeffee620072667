"""The import ledger: every import is identified, counted, and written whole or not at all.

An import's identity is its content plus every option that changes what the rows mean (preset,
mapping content, time zone, encoding...): `identity_of(file_sha256, options)`, stored in
`import_ledger.file_hash`. Its source (`window_key`) is what a later import replaces.

- The same identity again, while it is still the current import of its source: `unchanged`.
- A new identity for a source (other bytes, or the same bytes with other options): its rows
  replace that source's rows (and quarantine) in one transaction: `replaced`.
- `remove_import` deletes a source's rows in one transaction and records a `removed` entry, so
  importing the same file again later imports it afresh.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from wxrisk.config import WxriskError
from wxrisk.store.db import transaction
from wxrisk.vocab import utc_now

TABLE_OF_KIND = {"roads": "segments", "incidents": "incidents", "weather": "weather_hourly"}
REPLACEABLE_TABLES = frozenset(TABLE_OF_KIND.values())
REMOVED = "removed"


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

    def replace_rows(self, table: str, window_key: str | None = None) -> None:
        """Delete the rows (and quarantined rows) earlier imports of this source, or of `window_key`, wrote."""
        if table not in REPLACEABLE_TABLES:
            raise ValueError(f"{table} is not an import table")
        window_key = window_key or self.window_key
        self.con.execute(f"DELETE FROM {table} WHERE source = ?", [window_key])
        self.con.execute("DELETE FROM quarantine WHERE import_id IN "
                         "(SELECT import_id FROM import_ledger WHERE kind = ? AND window_key = ?)",
                         [self.kind, window_key])

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
    status: str  # imported | replaced | unchanged | removed
    import_id: int | None
    rows_read: int
    rows_kept: int
    rows_quarantined: int
    details: dict

    def summary(self) -> str:
        """One line of counts that add up (read = kept + quarantined + merged + excluded), then one
        line per warning."""
        if self.status == "unchanged":
            where = self.details.get("current_path", self.path)
            return f"{self.path}: unchanged (already imported as import {self.import_id} from {where})"
        if self.status == REMOVED:
            return (f"{self.path}: removed {self.kind} import {self.details['removed_import']} "
                    f"({self.details['rows_deleted']} rows deleted)")
        lines = [f"{self.path}: {self.status} {self.kind}: {self._counts()}{self._notes()}"]
        lines += [f"{self.path}: warning: {w}" for w in self.details.get("warnings", [])]
        return "\n".join(lines)

    def _counts(self) -> str:
        merged = self.details.get("rows_merged")
        excluded = sum(self.details.get("excluded", {}).values()) if isinstance(
            self.details.get("excluded"), dict) else None
        parts = [f"{self.rows_kept} kept", f"{self.rows_quarantined} quarantined"]
        total = self.rows_kept + self.rows_quarantined
        if merged is not None:
            parts.append(f"{merged} merged")
            total += merged
        if excluded is not None:
            parts.append(f"{excluded} excluded")
            total += excluded
        joiner = " = " if total == self.rows_read and len(parts) > 2 else ", "
        return f"{self.rows_read} read{joiner}{' + '.join(parts) if joiner == ' = ' else ', '.join(parts)}"

    def _notes(self) -> str:
        notes = ""
        if invalid := self.details.get("invalid_values"):
            examples = self.details.get("invalid_examples", {})
            notes += "; values not understood (kept as NULL): " + ", ".join(
                f"{col} {n}" + (f" (e.g. {examples[col][0]!r})" if examples.get(col) else "")
                for col, n in invalid.items())
        if absent := self.details.get("absent_optional"):
            notes += f"; optional columns absent: {', '.join(absent)}"
        if self.details.get("missing_variables"):
            notes += f"; missing: {', '.join(self.details['missing_variables'])}"
        if "unmatched" in self.details:
            notes += f"; matched to segments: {self.details.get('matched', 0)}, unmatched: {self.details['unmatched']}"
        return notes


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def identity_of(content_sha256: str, options: dict | None) -> str:
    """An import's identity: the content hash alone, or with the meaning-changing options."""
    if not options:
        return content_sha256
    text = json.dumps({"content": content_sha256, "options": options}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_CURRENT = """
    SELECT import_id, path, rows_read, rows_kept, rows_quarantined, details, window_key FROM import_ledger l
    WHERE kind = ? AND file_hash = ? AND status <> 'removed'
      AND NOT EXISTS (SELECT 1 FROM import_ledger later
                      WHERE later.kind = l.kind AND later.window_key = l.window_key AND later.import_id > l.import_id)
    ORDER BY import_id DESC LIMIT 1"""


def current_import(con: duckdb.DuckDBPyConnection, kind: str, identity: str) -> ImportResult | None:
    """The import with this identity if it is still its source's current import, as `unchanged`."""
    row = con.execute(_CURRENT, [kind, identity]).fetchone()
    if row is None:
        return None
    import_id, path, read, kept, quarantined, details, _ = row
    details = {**json.loads(details or "{}"), "current_path": path}
    return ImportResult(kind, path, "unchanged", import_id, read, kept, quarantined, details)


def run_import(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    path: str | Path,
    window_key: str,
    write: Callable[[ImportEntry], None],
    file_hash: str | None = None,
    options: dict | None = None,
) -> ImportResult:
    """Write one file through `write(entry)` inside one transaction, recorded in the ledger.

    `write` must parse nothing that can fail on bad input (parse first, then call this): it
    deletes the source's old rows (`entry.replace_rows`), inserts, and sets the counts. It may
    raise WxriskError to refuse the file: nothing is written.
    """
    path = str(path)
    content = file_hash or file_sha256(path)
    identity = identity_of(content, options)
    previous = current_import(con, kind, identity)
    if previous is not None:
        return ImportResult(kind, path, "unchanged", previous.import_id, previous.rows_read, previous.rows_kept,
                            previous.rows_quarantined, previous.details)
    replaced = con.execute(
        "SELECT count(*) FROM import_ledger WHERE kind = ? AND window_key = ? AND status <> 'removed' "
        "AND import_id = (SELECT max(import_id) FROM import_ledger WHERE kind = ? AND window_key = ?)",
        [kind, window_key, kind, window_key]).fetchone()[0] > 0
    started = utc_now()
    with transaction(con):
        import_id = con.execute("SELECT nextval('import_seq')").fetchone()[0]
        entry = ImportEntry(con, import_id, kind, path, window_key)
        write(entry)
        if options:
            entry.details = {**entry.details, "content_sha256": content, "options": options}
        status = "replaced" if replaced else "imported"
        _record(con, entry, identity, status, started)
    return ImportResult(kind, path, status, import_id, entry.rows_read, entry.rows_kept,
                        entry.rows_quarantined, entry.details)


def _record(con, entry: ImportEntry, identity: str, status: str, started: datetime) -> None:
    con.execute(
        "INSERT INTO import_ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [entry.import_id, entry.kind, entry.path, identity, entry.window_key, entry.rows_read, entry.rows_kept,
         entry.rows_quarantined, started, utc_now(), status,
         json.dumps(entry.details, ensure_ascii=False, default=str)],
    )


@dataclass(frozen=True)
class CurrentImport:
    """A source's current import, as `wxrisk import list` shows it."""

    import_id: int
    kind: str
    path: str
    window_key: str
    status: str
    rows_read: int
    rows_kept: int
    rows_quarantined: int
    finished_at: datetime


def current_imports(con: duckdb.DuckDBPyConnection) -> list[CurrentImport]:
    """Every source's current import (removed sources left out), oldest first."""
    rows = con.execute("""
        SELECT import_id, kind, path, window_key, status, rows_read, rows_kept, rows_quarantined, finished_at
        FROM import_ledger l
        WHERE status <> 'removed' AND NOT EXISTS (
            SELECT 1 FROM import_ledger later
            WHERE later.kind = l.kind AND later.window_key = l.window_key AND later.import_id > l.import_id)
        ORDER BY import_id""").fetchall()
    return [CurrentImport(*row) for row in rows]


def find_source(con: duckdb.DuckDBPyConnection, target: str) -> CurrentImport:
    """The current import named by an import id, a file path or a source (window key)."""
    current = current_imports(con)
    resolved = str(Path(target).expanduser().resolve()) if not target.isdigit() else None
    for found in current:
        if target == str(found.import_id) or target == found.window_key or target == found.path \
                or (resolved is not None and found.window_key.endswith(":" + resolved)):
            return found
    known = ", ".join(f"{c.import_id} ({c.path})" for c in current[-5:]) or "none"
    raise WxriskError(f"{target}: no current import of that id, path or source (latest: {known}; "
                      "see `wxrisk import list`)")


def retire_source(con: duckdb.DuckDBPyConnection, source: CurrentImport) -> ImportResult:
    """Delete `source`'s rows and quarantine and record it as removed (call inside a transaction)."""
    table = TABLE_OF_KIND.get(source.kind)
    if table is None:
        raise WxriskError(f"{source.path}: {source.kind} imports cannot be removed (only {', '.join(TABLE_OF_KIND)})")
    started = utc_now()
    deleted = con.execute(f"SELECT count(*) FROM {table} WHERE source = ?", [source.window_key]).fetchone()[0]
    import_id = con.execute("SELECT nextval('import_seq')").fetchone()[0]
    entry = ImportEntry(con, import_id, source.kind, source.path, source.window_key)
    entry.replace_rows(table)
    if source.kind == "weather":  # station and point series live in the weather room's own tables
        from wxrisk.weather.stations import forget_source

        deleted += forget_source(con, source.window_key)
    entry.details = {"removed_import": source.import_id, "rows_deleted": int(deleted)}
    _record(con, entry, REMOVED, REMOVED, started)
    return ImportResult(source.kind, source.path, REMOVED, import_id, 0, 0, 0, entry.details)


def remove_import(con: duckdb.DuckDBPyConnection, target: str) -> ImportResult:
    """Delete the rows of the source `target` names (import id, path or source) in one transaction."""
    source = find_source(con, target)
    with transaction(con):
        return retire_source(con, source)
