"""Connections: a second one for a writer thread shares the database and outlives the first."""

from __future__ import annotations

import duckdb
import pytest

from wxrisk.config import WxriskError
from wxrisk.store import connect
from wxrisk.store.db import another_connection


def test_another_connection_sees_the_same_database_after_the_first_closes(tmp_path):
    first = connect(tmp_path / "w.duckdb", memory_limit="512MB")
    first.execute("INSERT INTO runs (run_id, created_at, start_time, hours, status) "
                  "VALUES ('r', now(), TIMESTAMP '2024-02-01 21:00', 1, 'complete')")
    second = another_connection(first)
    first.close()
    assert second.execute("SELECT run_id FROM runs").fetchall() == [("r",)]
    assert second.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "488.2 MiB"  # the same instance


def test_an_in_memory_database_has_no_second_connection():
    with pytest.raises(WxriskError, match="in-memory database"):
        another_connection(duckdb.connect(":memory:"))
