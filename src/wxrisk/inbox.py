"""The inbox: files dropped in a folder imported through the same contract as `wxrisk import`.

Layout (docs/importers.md, "The inbox"):

    inbox/
      incidents/...   incident exports (CSV, Parquet), any subfolders; options from the nearest
                      `inbox.yaml` (preset or mapping, tz, encoding, max_quarantined,
                      same_name_replaces)
      weather/...     weather files (GRIB, NetCDF, station CSV); options from the nearest
                      `inbox.yaml` (kind: analysis | forecast, issued)
      processed/<UTC date>/<same relative path>   imported, with `<name>.reason.txt` (the summary)
      rejected/<UTC date>/<same relative path>    refused, with `<name>.reason.txt` (why)

A file is read only once it is complete: names ending in `.part`, `.partial`, `.tmp`,
`.crdownload`, `.download` or `~` and hidden names are never read, and a file is taken only when
its size and modification time are the same as at the previous poll (so at the second poll
that sees it, at the earliest). One poll at a time (a lock file); a failure that is not the
file's fault (a locked database) leaves the file in place for the next poll.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from wxrisk.config import Settings, WxriskError
from wxrisk.store import connect
from wxrisk.store.ledger import ImportResult
from wxrisk.vocab import atomic_write_text

KINDS = ("incidents", "weather")
CONFIG_NAME = "inbox.yaml"
STATE_NAME = ".inbox-state.json"
LOCK_NAME = ".inbox.lock"
OUTCOME_FOLDERS = ("processed", "rejected")
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", "~")
OPTION_KEYS = {
    "incidents": ("preset", "mapping", "tz", "encoding", "max_quarantined", "same_name_replaces"),
    "weather": ("kind", "issued"),
}
CHANGED = ("imported", "replaced")


@dataclass(frozen=True)
class Outcome:
    """What happened to one inbox file: processed or rejected, why, and where it went."""

    file: str            # path relative to the inbox, as dropped
    kind: str            # incidents | weather | unknown
    outcome: str         # processed | rejected
    reason: str          # one line: the import summary, or why it was refused
    moved_to: str        # path relative to the inbox
    changed: bool        # the database changed (imported or replaced rows)


class RejectedFile(WxriskError):
    """A file the inbox refused (already moved to rejected/); carries its Outcome."""

    def __init__(self, outcome: Outcome):
        super().__init__(f"{outcome.file}: {outcome.reason}")
        self.outcome = outcome


def is_candidate(path: Path, inbox: Path) -> bool:
    """A file the inbox may take: not hidden, not partial, not a config, not already settled."""
    relative = path.relative_to(inbox)
    if relative.parts[0] in OUTCOME_FOLDERS or any(part.startswith(".") for part in relative.parts):
        return False
    return path.is_file() and path.name != CONFIG_NAME and not path.name.endswith(PARTIAL_SUFFIXES)


def scan(inbox: Path) -> dict[str, tuple[int, int]]:
    """Candidate files -> (size [bytes], modification time [ns]), by path relative to the inbox."""
    found = {}
    for path in sorted(inbox.rglob("*")):
        if is_candidate(path, inbox):
            stat = path.stat()
            found[path.relative_to(inbox).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return found


def stable_files(inbox: Path) -> tuple[list[str], list[str]]:
    """(ready, waiting): files unchanged since the previous poll, and files seen changing or for the
    first time. Remembers this poll's sizes and times in `inbox/.inbox-state.json`."""
    state_path = inbox / STATE_NAME
    try:
        previous = {k: tuple(v) for k, v in json.loads(state_path.read_text(encoding="utf-8")).items()}
    except (FileNotFoundError, ValueError):
        previous = {}
    current = scan(inbox)
    atomic_write_text(state_path, json.dumps(current))
    ready = [name for name, signature in current.items() if previous.get(name) == signature]
    return ready, [name for name in current if name not in ready]


@contextmanager
def inbox_lock(inbox: Path) -> Iterator[bool]:
    """Hold the inbox's lock for one poll; yields False when another poll holds it."""
    inbox.mkdir(parents=True, exist_ok=True)
    with open(inbox / LOCK_NAME, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def kind_of(relative: str) -> str:
    first = relative.split("/", 1)[0]
    return first if first in KINDS and "/" in relative else "unknown"


def folder_options(inbox: Path, relative: str) -> dict:
    """The options of the nearest `inbox.yaml` from the file's folder up to its kind folder."""
    kind = kind_of(relative)
    folder = (inbox / relative).parent
    while True:
        config = folder / CONFIG_NAME
        if config.is_file():
            return _read_options(config, kind, inbox)
        if folder == inbox / kind or folder == inbox:
            return {}
        folder = folder.parent


def _read_options(config: Path, kind: str, inbox: Path) -> dict:
    shown = config.relative_to(inbox)
    try:
        options = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise WxriskError(f"{shown}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(options, dict):
        raise WxriskError(f"{shown}: a dictionary of options ({', '.join(OPTION_KEYS[kind])})")
    if unknown := sorted(set(map(str, options)) - set(OPTION_KEYS[kind])):
        raise WxriskError(f"{shown}: unknown options {unknown} for {kind} (valid: {', '.join(OPTION_KEYS[kind])})")
    mapping = options.get("mapping")
    if mapping and (config.parent / str(mapping)).is_file():
        options["mapping"] = str(config.parent / str(mapping))
    return options


def import_file(con, settings: Settings, inbox: Path, relative: str, kept_at: Path) -> list[ImportResult]:
    """Import one inbox file by its kind folder and options; WxriskError when it is refused.

    Incident rows belong to the source `kept_at` (where the file will be kept): every drop is a
    source of its own, so a daily export under a fixed name adds to the earlier ones (ids already
    imported are quarantined). With `same_name_replaces: true` they belong to the inbox path
    instead: a file dropped again under the same name replaces the earlier drop's rows.
    """
    kind = kind_of(relative)
    path = inbox / relative
    if kind == "unknown":
        raise WxriskError(f"not in a kind folder: put incident exports in {inbox / 'incidents'}/ and weather "
                          f"files in {inbox / 'weather'}/")
    options = folder_options(inbox, relative)
    if kind == "incidents":
        from wxrisk.incidents.importer import import_incidents

        max_share = float(options.pop("max_quarantined", 0.5))
        source = path if options.pop("same_name_replaces", False) is True else kept_at
        return [import_incidents(con, settings, path, max_quarantined=max_share, source=source, **options)]
    from wxrisk.weather.importer import import_weather

    return import_weather(con, settings, [path], kind=str(options.get("kind", "analysis")),
                          issued=options.get("issued"))


def destination(inbox: Path, relative: str, outcome: str, now: datetime | None = None) -> Path:
    """Where a file goes: `<outcome>/<UTC date>/<relative>`, numbered (`name.1.csv`) if taken."""
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    target = inbox / outcome / day / relative
    number = 1
    while target.exists():
        target = target.with_name(f"{Path(relative).stem}.{number}{Path(relative).suffix}")
        number += 1
    return target


def settle(inbox: Path, relative: str, target: Path, reason: str) -> str:
    """Move the file to `target` with a one-line reason file beside it; the new relative path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(inbox / relative, target)
    one_line = " ".join(reason.split())
    target.with_name(target.name + ".reason.txt").write_text(one_line + "\n", encoding="utf-8")
    return target.relative_to(inbox).as_posix()


def process_file(db: str | Path, settings: Settings, inbox: Path, relative: str) -> Outcome:
    """Import one ready file and settle it. Refused: moved to rejected/, RejectedFile raised.
    Any other failure leaves the file in the inbox and propagates (a retry may succeed)."""
    kind = kind_of(relative)
    kept_at = destination(inbox, relative, "processed")
    try:
        with connect(db) as con:
            results = import_file(con, settings, inbox, relative, kept_at)
    except WxriskError as refused:
        reason = str(refused).removeprefix(f"{inbox / relative}: ")
        moved = settle(inbox, relative, destination(inbox, relative, "rejected"), reason)
        raise RejectedFile(Outcome(relative, kind, "rejected", reason, moved, False)) from refused
    reason = " | ".join(r.summary().splitlines()[0].removeprefix(f"{inbox / relative}: ") for r in results)
    warnings = [w for r in results for w in r.summary().splitlines()[1:]]
    if warnings:
        reason += " | " + " | ".join(w.removeprefix(f"{inbox / relative}: ") for w in warnings)
    moved = settle(inbox, relative, kept_at, reason)
    return Outcome(relative, kind, "processed", reason, moved, any(r.status in CHANGED for r in results))


def default_inbox(settings: Settings) -> Path:
    """`WXRISK_INBOX`, else `<data folder>/inbox`."""
    return Path(os.environ.get("WXRISK_INBOX", settings.data_dir / "inbox"))
