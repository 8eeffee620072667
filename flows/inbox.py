"""The inbox on a schedule: import each new file dropped in the inbox, settle it, refresh the board.

Extract (files that stopped changing) -> Load (one task run per file, named after it, through the
same importers and contract as `wxrisk import`) -> refresh the board if anything changed. The
Prefect UI shows each file's task run (failed when the file was rejected, with the reason) and a
table artifact `wxrisk-inbox` with every file's outcome. The rules are in `wxrisk.inbox`.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.schedules import Interval
from prefect.states import Completed, Failed

from wxrisk import inbox as inbox_rules
from wxrisk.config import WxriskError, load_settings
from wxrisk.flows.pipeline import retry_unless_bad_input, score_flow

POLL_SECONDS = 60
ARTIFACT_KEY = "wxrisk-inbox"


@task(task_run_name="{relative}", retries=2, retry_delay_seconds=10, retry_condition_fn=retry_unless_bad_input,
      cache_policy=NO_CACHE)
def import_inbox_file(db: str, inbox: str, relative: str) -> inbox_rules.Outcome:
    """One file: imported and moved to processed/, or moved to rejected/ and this task run fails."""
    outcome = inbox_rules.process_file(db, load_settings(db), Path(inbox), relative)
    get_run_logger().info("%s: %s", relative, outcome.reason)
    return outcome


def _outcome_of(state) -> inbox_rules.Outcome:
    result = state.result(raise_on_failure=False)
    if isinstance(result, inbox_rules.RejectedFile):
        return result.outcome
    if isinstance(result, BaseException):
        raise result
    return result


def refresh_board(db: str, start: datetime | None, hours: int) -> str:
    """A new board from `start` (default: the current hour); a board that cannot be made is named."""
    start = start or datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    try:
        return f"board {score_flow(db, start, hours)} published"
    except WxriskError as exc:
        get_run_logger().warning("board not refreshed: %s", exc)
        return f"board not refreshed: {exc}"


@flow(name="wxrisk-inbox", log_prints=True)
def inbox_flow(db: str, inbox: str | None = None, board_start: datetime | None = None, board_hours: int = 72,
               refresh: bool = True):
    """One poll of the inbox (default `WXRISK_INBOX`, else `<data>/inbox`)."""
    folder = Path(inbox) if inbox else inbox_rules.default_inbox(load_settings(db))
    with inbox_rules.inbox_lock(folder) as held:
        if not held:
            print(f"{folder}: another inbox run is busy; nothing done")
            return Completed(message="inbox busy")
        ready, waiting = inbox_rules.stable_files(folder)
        outcomes = [_outcome_of(import_inbox_file(db, str(folder), name, return_state=True)) for name in ready]
    rows = [asdict(o) for o in outcomes] + [
        {"file": name, "kind": inbox_rules.kind_of(name), "outcome": "waiting",
         "reason": "new or still changing: taken when unchanged at the next poll", "moved_to": "", "changed": False}
        for name in waiting]
    board = refresh_board(db, board_start, board_hours) if refresh and any(o.changed for o in outcomes) \
        else "board unchanged"
    create_table_artifact(key=ARTIFACT_KEY, table=rows or [{"file": "", "outcome": "inbox empty"}],
                          description=f"Inbox {folder}: one row per file ({board})")
    for row in rows:
        print(f"{row['outcome']}: {row['file']}: {row['reason']}")
    print(board)
    rejected = [o.file for o in outcomes if o.outcome == "rejected"]
    summary = (f"{len(outcomes) - len(rejected)} processed, {len(rejected)} rejected, {len(waiting)} waiting; "
               f"{board}")
    if rejected:
        return Failed(message=f"rejected: {', '.join(rejected)}; {summary}")
    return Completed(message=summary)


def inbox_deployments(db: str, inbox: str) -> list:
    """The inbox poll, every `POLL_SECONDS` seconds."""
    return [inbox_flow.to_deployment(name="inbox", schedules=[Interval(POLL_SECONDS)],
                                     parameters={"db": db, "inbox": inbox})]
