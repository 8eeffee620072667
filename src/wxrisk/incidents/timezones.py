"""Time zones as users write them: IANA names (`Europe/London`, `US/Eastern`) or UTC offsets.

Offsets: `UTC`, `GMT`, `Z`, `+08:00`, `-0500`, `UTC+8`, `GMT-5:30`. Abbreviations such as
`EST` or `CST` are not accepted: `CST` is China, US Central and Cuba.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from wxrisk.config import WxriskError
from wxrisk.vocab import utc_series

_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
ZONE_HINT = "an IANA name such as Europe/London, US/Eastern or Asia/Shanghai, or a UTC offset such as +08:00"


@lru_cache(maxsize=512)
def parse_zone(text: str) -> tzinfo | None:
    """The zone `text` names, or None when it names none."""
    text = text.strip()
    if text.upper() in ("UTC", "GMT", "Z"):
        return UTC
    if match := _OFFSET.match(text):
        sign, hours, minutes = match.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return timezone(offset if sign == "+" else -offset) if offset <= timedelta(hours=14) else None
    if not text or text.startswith(("/", ".")) or ".." in text:
        return None
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def check_zone(text: str, what: str) -> tzinfo:
    """The zone `text` names; WxriskError naming `what` when it names none."""
    zone = parse_zone(str(text))
    if zone is None:
        raise WxriskError(f"{what} {text}: unknown time zone (use {ZONE_HINT})")
    return zone


def local_to_utc(local: pd.Series, zone: tzinfo) -> pd.Series:
    """Local wall-clock times in `zone` to UTC naive; a skipped hour moves forward, a repeated hour
    reads as summer time (the first of the two)."""
    if local.empty:
        return local.astype("datetime64[ns]")
    summer_time = np.ones(len(local), dtype=bool)
    aware = local.dt.tz_localize(zone, nonexistent="shift_forward", ambiguous=summer_time)
    return utc_series(aware)


def rows_local_to_utc(local: pd.Series, zones: pd.Series | None, default: tzinfo) -> tuple[pd.Series, pd.Series]:
    """UTC naive times of local times, each in its row's zone (`zones`: text, "" = `default`).

    Returns (utc, unknown) where `unknown` marks rows whose zone text names no zone (utc NaT).
    """
    utc = pd.Series(pd.NaT, index=local.index, dtype="datetime64[ns]")
    unknown = pd.Series(False, index=local.index)
    names = zones if zones is not None else pd.Series("", index=local.index)
    for name, rows in local.groupby(names.fillna(""), sort=False).groups.items():
        zone = default if name == "" else parse_zone(str(name))
        if zone is None:
            unknown[rows] = True
            continue
        utc[rows] = local_to_utc(local[rows], zone).astype("datetime64[ns]")
    return utc, unknown
