"""The import ledger: unchanged files write nothing, replacements are whole, failures write nothing."""

from __future__ import annotations

import pytest

from wxrisk.store import connect
from wxrisk.store.ledger import run_import


def _write_incident(entry, incident_id: str) -> None:
    entry.replace_rows("incidents")
    entry.con.execute(
        "INSERT INTO incidents (incident_id, occurred_at, source, import_id) VALUES (?, TIMESTAMP '2024-02-02 01:00', ?, ?)",
        [incident_id, entry.window_key, entry.import_id],
    )
    entry.rows_read = entry.rows_kept = 1


def _count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_same_file_twice_is_unchanged(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    source = tmp_path / "a.csv"
    source.write_text("x\n1\n")
    first = run_import(con, "incidents", source, "incidents:a.csv", lambda e: _write_incident(e, "A"))
    second = run_import(con, "incidents", source, "incidents:a.csv", lambda e: _write_incident(e, "B"))
    assert (first.status, second.status) == ("imported", "unchanged")
    assert second.import_id == first.import_id
    assert con.execute("SELECT incident_id FROM incidents").fetchall() == [("A",)]
    assert _count(con, "import_ledger") == 1


def test_newer_file_for_the_same_window_replaces(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    source = tmp_path / "a.csv"
    source.write_text("v1\n")
    run_import(con, "incidents", source, "incidents:a.csv", lambda e: _write_incident(e, "A"))
    source.write_text("v2\n")
    result = run_import(con, "incidents", source, "incidents:a.csv", lambda e: _write_incident(e, "B"))
    assert result.status == "replaced"
    assert con.execute("SELECT incident_id FROM incidents").fetchall() == [("B",)]


def test_failure_midway_writes_nothing(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    source = tmp_path / "a.csv"
    source.write_text("x\n")

    def half_then_fail(entry):
        _write_incident(entry, "A")
        entry.quarantine([(2, "bad date", {"date": "31/02"})])
        raise ValueError("disk on fire")

    with pytest.raises(ValueError):
        run_import(con, "incidents", source, "incidents:a.csv", half_then_fail)
    assert [_count(con, t) for t in ("incidents", "quarantine", "import_ledger")] == [0, 0, 0]


def test_quarantined_rows_are_kept_with_reason(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    source = tmp_path / "a.csv"
    source.write_text("x\n")

    def with_bad_row(entry):
        _write_incident(entry, "A")
        entry.rows_read = 2
        entry.quarantine([(2, "occurred_at: '31/02/2024' is not a date", {"date": "31/02/2024"})])

    result = run_import(con, "incidents", source, "incidents:a.csv", with_bad_row)
    assert result.rows_quarantined == 1
    row = con.execute("SELECT row_number, reason, raw FROM quarantine").fetchone()
    assert row[0] == 2 and "not a date" in row[1] and "31/02/2024" in row[2]


def test_summary_says_what_is_missing_and_what_did_not_match(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    source = tmp_path / "a.csv"
    source.write_text("x\n")

    def with_details(entry):
        _write_incident(entry, "A")
        entry.details.update(missing_variables=["precip_mm", "ptype"], matched=1, unmatched=3)

    summary = run_import(con, "incidents", source, "incidents:a.csv", with_details).summary()
    assert summary.endswith("; missing: precip_mm, ptype; matched to segments: 1, unmatched: 3")
