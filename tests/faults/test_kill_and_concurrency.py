"""Hard days: a scoring run killed midway, and the board read while a flow writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from wxrisk.store import connect
from wxrisk.store.publish import current_board_path_or_none, open_board

pytestmark = pytest.mark.slow


def _score(env: dict, start) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "wxrisk.cli", "score", "--start", (start).isoformat(), "--hours", "72"],
        env={**os.environ, **env}, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def test_sigkill_midway_keeps_the_previous_board_and_the_rerun_completes(world_copy):
    env, start = world_copy
    boards = Path(env["WXRISK_BOARDS"])
    before = current_board_path_or_none(boards)
    later = start + timedelta(hours=1)
    victim = _score(env, later)
    for line in victim.stderr:  # progress lines; kill once scoring has begun writing
        if "scoring" in line:
            victim.send_signal(signal.SIGKILL)
            break
    victim.wait(timeout=120)
    assert victim.returncode == -signal.SIGKILL
    assert current_board_path_or_none(boards) == before, "the last good board stays current"
    with connect(env["WXRISK_DB"]) as con:  # the database opens and is consistent
        assert con.execute("SELECT count(*) FROM risk r LEFT JOIN runs u USING (run_id) WHERE u.run_id IS NULL"
                           ).fetchone()[0] == 0
    rerun = _score(env, later)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    with connect(env["WXRISK_DB"], read_only=True) as con:
        run_id = out.strip().splitlines()[-1]
        status, = con.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()
        hours, = con.execute("SELECT count(DISTINCT valid_time) FROM risk WHERE run_id = ?", [run_id]).fetchone()
    assert (status, hours) == ("complete", 72)
    assert current_board_path_or_none(boards).stem == run_id


def test_board_keeps_answering_while_a_flow_writes(world_copy):
    env, start = world_copy
    boards = Path(env["WXRISK_BOARDS"])
    writer = _score(env, start + timedelta(hours=2))
    reads, failures = 0, []
    deadline = time.monotonic() + 240
    while writer.poll() is None and time.monotonic() < deadline:
        try:
            with open_board(current_board_path_or_none(boards)) as board:
                assert board.execute("SELECT count(*) FROM risk").fetchone()[0] > 0
            reads += 1
        except Exception as exc:  # any failure to read is what this test exists to catch
            failures.append(repr(exc))
        time.sleep(0.05)
    _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert reads > 0 and failures == []
