"""Published boards: whole snapshots, the last good one stays current."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import duckdb
import pytest

from wxrisk.config import Settings, WxriskError
from wxrisk.store import connect
from wxrisk.store.publish import current_board_path, open_board, publish_run, stage_risk


def _add_run(con, run_id: str, risk: float) -> None:
    con.execute(
        "INSERT INTO runs (run_id, created_at, start_time, hours, status) VALUES (?, now(), TIMESTAMP '2024-02-01 21:00', 1, 'complete')",
        [run_id],
    )
    con.execute("INSERT INTO risk (run_id, segment_id, valid_time, risk, tier, top_drivers, top_drivers_en, ice_risk) "
                "VALUES (?, 's1', TIMESTAMP '2024-02-01 21:00', ?, 'red', '冻雨', 'freezing rain', ?)",
                [run_id, risk, risk / 2])


@pytest.fixture
def settings(tmp_path) -> Settings:
    return replace(Settings(), db_path=tmp_path / "w.duckdb", data_dir=tmp_path, boards_dir=tmp_path / "boards")


def test_no_board_yet_is_a_clear_error(settings):
    with pytest.raises(WxriskError, match="no published board"):
        current_board_path(settings)


def test_publish_copies_only_that_run_and_becomes_current(settings):
    con = connect(settings.db_path)
    _add_run(con, "r1", 0.1)
    _add_run(con, "r2", 0.2)
    publish_run(con, settings, "r1")
    path = publish_run(con, settings, "r2")
    assert current_board_path(settings) == path
    board = open_board(path)
    assert board.execute("SELECT run_id, risk, ice_risk FROM risk").fetchall() == [("r2", 0.2, 0.1)]
    assert board.execute("SELECT run_id FROM published").fetchone()[0] == "r2"


def test_a_failed_publication_leaves_the_last_board(settings):
    con = connect(settings.db_path)
    _add_run(con, "good", 0.1)
    good = publish_run(con, settings, "good")
    con.execute("DROP TABLE risk")
    con.execute("CREATE VIEW risk AS SELECT error('disk full') AS run_id")  # a query that fails mid-copy
    with pytest.raises(Exception, match="disk full"):
        publish_run(con, settings, "good")
    assert current_board_path(settings) == good
    assert open_board(good).execute("SELECT count(*) FROM risk").fetchone()[0] == 1
    assert not list(settings.boards_dir.glob(".*tmp*")), "the half-written snapshot is removed"


def test_staged_risk_rows_become_the_snapshots_risk_table(settings):
    con = connect(settings.db_path)
    _add_run(con, "r1", 0.1)
    _add_run(con, "r2", 0.2)
    con.execute("INSERT INTO segments (segment_id, source, km_from, km_to, length_km, lon, lat, path_json) "
                "VALUES ('s1', 'x', 0, 1, 1, 116.4, 39.9, '[]'), ('s9', 'x', 0, 1, 1, 116.5, 39.9, '[]')")
    staged = stage_risk(con, settings, "r2")
    assert staged.name.startswith(".") and staged.exists()
    con.execute("UPDATE risk SET risk = 0.9 WHERE run_id = 'r2'")  # so the snapshot shows which rows it took
    con.execute("UPDATE segments SET name = 'renamed later'")
    path = publish_run(con, settings, "r2", staged=staged)
    with open_board(path) as board:
        assert board.execute("SELECT run_id, risk, ice_risk FROM risk").fetchall() == [("r2", 0.2, 0.1)]
        assert board.execute("SELECT segment_id, name FROM segments").fetchall() == [("s1", None)]  # the run's, staged
        assert board.execute("SELECT run_id FROM runs").fetchall() == [("r2",)]
    assert not staged.exists()
    assert sorted(p.name for p in settings.boards_dir.iterdir()) == ["CURRENT", "r2.duckdb"]


def test_a_staged_file_already_taken_is_copied_again(settings):
    con = connect(settings.db_path)
    _add_run(con, "r1", 0.1)
    staged = stage_risk(con, settings, "r1")
    staged.unlink()  # taken by an attempt that failed later on
    with open_board(publish_run(con, settings, "r1", staged=staged)) as board:
        assert board.execute("SELECT run_id, risk FROM risk").fetchall() == [("r1", 0.1)]


def test_a_staged_file_left_by_a_killed_run_goes_once_old(settings):
    con = connect(settings.db_path)
    _add_run(con, "r1", 0.1)
    killed, fresh = stage_risk(con, settings, "r1"), stage_risk(con, settings, "r1")
    long_ago = time.time() - 7 * 3600
    os.utime(killed, (long_ago, long_ago))
    publish_run(con, settings, "r1")
    assert not killed.exists() and fresh.exists(), "a run staging now keeps its file"


def test_a_database_older_than_ice_risk_gains_the_column(tmp_path):
    old = tmp_path / "old.duckdb"
    con = duckdb.connect(str(old))
    con.execute("CREATE TABLE risk (run_id TEXT NOT NULL, segment_id TEXT NOT NULL, valid_time TIMESTAMP NOT NULL, "
                "risk DOUBLE NOT NULL, tier TEXT NOT NULL, top_drivers TEXT, top_drivers_en TEXT)")
    con.execute("INSERT INTO risk VALUES ('r', 's1', TIMESTAMP '2024-02-01 21:00', 0.1, 'red', NULL, NULL)")
    con.close()
    with connect(old) as con:
        assert con.execute("SELECT risk, ice_risk FROM risk").fetchall() == [(0.1, None)]
