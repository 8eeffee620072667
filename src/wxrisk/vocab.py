"""The project's shared vocabulary: times, distances, atomic files, frames into DuckDB, K-stakes.

Every room says these things the same way by importing them from here (no copies). Nothing here
imports another wxrisk module except `config`, so any layer may use it.

- Time: timestamps are stored naive UTC; local wall-clock time exists only for display.
- Geodesy: one Earth radius (IUGG mean, 6371.0088 km) for every great-circle distance.
- Atomic files: written under a temporary name beside the target, then renamed over it.
- Frames into DuckDB: registered under a name for one statement, always unregistered.
- Tiers: `none` < `blue` < `yellow` < `orange` < `red`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd

from wxrisk.config import WxriskError

# --- tiers: names in rising order (their words and colours live beside them, board room) --------

TIERS = ("none", "blue", "yellow", "orange", "red")
TIER_RANK = {name: rank for rank, name in enumerate(TIERS)}

# --- incidents: which count as ice/snow ones (the model's ice label, the board's verification) ----

ICE_SNOW_SURFACES = ("snow", "ice", "frost", "slush")  # road surface at the incident
ICE_SNOW_WEATHER = ("snow", "freezing_rain")            # weather at the incident


# --- time ---------------------------------------------------------------------------------------


def utc_naive(moment: datetime | str) -> datetime:
    """A datetime or ISO 8601 string as a naive UTC datetime (naive input is taken as UTC)."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError as exc:
            raise WxriskError(f"{moment!r}: not an ISO 8601 time") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def utc_naive_stamp(value) -> pd.Timestamp:
    """Any pandas-readable time as a naive UTC Timestamp (naive input is taken as UTC)."""
    stamp = pd.Timestamp(value)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def utc_now() -> datetime:
    """The current time, naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def utc_series(times: pd.Series) -> pd.Series:
    """Times as naive UTC (aware times converted, naive taken as UTC)."""
    times = pd.to_datetime(times)
    return times.dt.tz_convert("UTC").dt.tz_localize(None) if times.dt.tz is not None else times


UTC_ZONE_NAMES = ("UTC", "GMT", "Z", "ETC/UTC", "ETC/GMT")


def local_series_to_utc(times: pd.Series, zone: str, where: str) -> pd.Series:
    """Naive local wall-clock times in IANA `zone` as naive UTC. A repeated autumn hour is told
    apart by the rows' order; a spring hour that does not exist, or an unknown zone, is refused
    (WxriskError starting with `where`)."""
    if zone.upper() in UTC_ZONE_NAMES:
        return times
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise WxriskError(f"{where}: unknown time zone {zone!r} (an IANA name such as Europe/London)") from exc
    index = pd.DatetimeIndex(times)
    try:
        local = index.tz_localize(zone, ambiguous="infer", nonexistent="raise")
    except Exception as exc:  # a clock change the rows do not resolve
        raise WxriskError(f"{where}: {clock_change_problem(index, zone)}") from exc
    return pd.Series(local.tz_convert("UTC").tz_localize(None), index=times.index)


def clock_change_problem(index: pd.DatetimeIndex, zone: str) -> str:
    """Why naive local times in `zone` cannot be put on UTC, in words naming the first bad time."""
    skipped = index.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").isna()
    absent = skipped & ~index.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward").isna()
    if absent.any():
        moment = index[absent.argmax()]
        return (f"local time {moment:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks went forward); "
                "a series in local time skips that hour")
    if not skipped.any():
        return f"times in zone {zone} cannot be put on UTC (out of order around a clock change?)"
    moment = index[skipped.argmax()]
    count = int((index == moment).sum())
    return (f"local time {moment:%Y-%m-%d %H:%M} is in the file {count} time(s); in {zone} that hour happens "
            "twice (the clocks went back), so a series in local time has it twice, in order, summer time "
            "first (or give the times in UTC)")


def to_local(values: pd.Series | datetime | None, tz: str) -> pd.Series | datetime | None:
    """Naive UTC timestamps as naive local wall-clock time in `tz` (a Series or one datetime)."""
    if values is None:
        return None
    if isinstance(values, pd.Series):
        return pd.to_datetime(values).dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)
    if pd.isna(values):
        return None
    return values.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def local_stamp(moment, tz: str) -> pd.Timestamp:
    """A naive UTC time as an aware Timestamp in `tz` (for text with the local time and offset)."""
    return pd.Timestamp(moment).tz_localize("UTC").tz_convert(tz)


# --- geodesy ------------------------------------------------------------------------------------

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius


def haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance [km] between WGS84 points given in degrees (arrays broadcast)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def k_stake(km: float) -> str:
    """A K-stake as on the road's marker posts: 12.3 km -> `K12+300`."""
    metres = int(round(km * 1000))
    return f"K{metres // 1000}+{metres % 1000:03d}"


# --- atomic files -------------------------------------------------------------------------------


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it over `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` whole or not at all."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write `data` to `path` whole or not at all, flushed to disk before the rename."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(path)


# --- frames into DuckDB -------------------------------------------------------------------------


@contextmanager
def frame_registered(con: duckdb.DuckDBPyConnection, name: str, frame) -> Iterator[str]:
    """`frame` (pandas or Arrow) visible to SQL as `name` for the block, then unregistered."""
    con.register(name, frame)
    try:
        yield name
    finally:
        con.unregister(name)


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame, columns: Sequence[str] | None = None) -> int:
    """Insert the frame's `columns` (default: all) into `table` by name; returns the rows inserted."""
    names = list(columns) if columns is not None else list(frame.columns)
    if not len(frame):
        return 0
    listed = ", ".join(names)
    with frame_registered(con, "wxrisk_insert_rows", frame):
        con.execute(f"INSERT INTO {table} ({listed}) SELECT {listed} FROM wxrisk_insert_rows")
    return len(frame)
