"""When each incident happened, in UTC, with every date and time format checked on the whole column.

A format the data contradict stops the import before anything is written: a day-first format
meeting `12/25/2024` (25 cannot be a month), or most values not fitting the format at all. Days
and months are never swapped quietly. Values that fail alone go to quarantine with the value and
the format expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo

import pandas as pd

from wxrisk.config import WxriskError
from wxrisk.incidents.timezones import ZONE_HINT, rows_local_to_utc

# a UTC offset after a clock time: `...T08:30Z`, `... 08:30:00+08:00`, `...T0830+0800`
_OFFSET = re.compile(r"\d{2}:?\d{2}(?::?\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
ISO = "ISO8601"
DEFAULT_TIME_FORMATS = ("%H:%M", "%H:%M:%S")
_HUMAN = {"%d": "dd", "%m": "mm", "%Y": "yyyy", "%y": "yy", "%H": "HH", "%M": "MM", "%S": "SS",
          "%b": "Mon", "%B": "Month", "%I": "hh", "%p": "AM/PM", "%f": "ffffff"}


def human_format(fmt: str) -> str:
    """`%d/%m/%Y` -> `%d/%m/%Y (dd/mm/yyyy)`; ISO 8601 and `hhmm` spelled out."""
    if fmt == ISO:
        return "ISO 8601 (yyyy-mm-dd or yyyy-mm-ddTHH:MM[:SS][+offset])"
    if fmt == "hhmm":
        return "hhmm (a number such as 1812 for 18:12)"
    readable = fmt
    for code, word in _HUMAN.items():
        readable = readable.replace(code, word)
    return f"{fmt} ({readable})"


@dataclass
class ParsedTimes:
    """UTC naive times (NaT where a row failed) and why each row failed ("" where it did not)."""

    utc: pd.Series
    reasons: pd.Series
    no_time_of_day: bool = False


@dataclass(frozen=True)
class ColumnCheck:
    """One time column to check: the file, the column, its format, the share of failures allowed."""

    path: str
    column: str
    fmt: str
    max_failing: float = 0.5


COMMON_DATES = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%Y%m%d", "%d/%m/%y",
                "%m/%d/%y")
CLOCK_SUFFIXES = ("", " %H:%M", " %H:%M:%S", "T%H:%M", "T%H:%M:%S")


def fitting_formats(values: pd.Series, column: str) -> list[str]:
    """Common formats that read every one of `values` (a sample of them)."""
    sample = values.head(500)
    suffixes = CLOCK_SUFFIXES if column == "occurred_at" else ("",)
    return [fmt + suffix for fmt in COMMON_DATES for suffix in suffixes
            if _parse(sample, fmt + suffix).notna().all()]


def _swap_day_month(fmt: str) -> str | None:
    if "%d" in fmt and "%m" in fmt:
        return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
    return None


def _parse(text: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(text, format=fmt, errors="coerce")


def check_column(check: ColumnCheck, text: pd.Series, readable: pd.Series, rows: pd.Series) -> None:
    """Refuse the file when the data contradict the format (see the module docstring)."""
    given = text != ""
    failing = given & ~readable
    swapped = _swap_day_month(check.fmt)
    if swapped and failing.any():
        fits_swapped = _parse(text[failing], swapped).notna()
        if fits_swapped.any():
            first = fits_swapped[fits_swapped].index[0]
            raise WxriskError(
                f"{check.path}: {check.column} {text[first]!r} (row {rows[first]}) does not fit "
                f"{human_format(check.fmt)} but fits {human_format(swapped)}: the column's day and month are the "
                f"other way round ({int(fits_swapped.sum())} such rows); set the format in the mapping "
                "(file refused: no day and month are swapped quietly)")
    if given.sum() and failing.sum() > check.max_failing * given.sum():
        first = failing[failing].index[0]
        fits = fitting_formats(text[failing], check.column) if check.column in ("date", "occurred_at") else []
        if len(fits) == 1:
            hint = f"; they fit {human_format(fits[0])}"
        elif fits:
            hint = f"; they fit several formats ({', '.join(fits[:3])}): say which in the mapping"
        else:
            hint = ""
        key = {"occurred_at": "occurred_format", "date": "date_format", "time": "time_format"}.get(check.column)
        raise WxriskError(
            f"{check.path}: {check.column}: {int(failing.sum())} of {int(given.sum())} values do not fit "
            f"{human_format(check.fmt)} (e.g. {text[first]!r} at row {rows[first]}){hint}"
            + (f"; set {key} in a mapping" if key else ""))


def _reason(text: pd.Series, failed: pd.Series, column: str, fmt: str) -> pd.Series:
    reasons = pd.Series("", index=text.index, dtype=object)
    missing = failed & (text == "")
    unreadable = failed & (text != "")
    reasons[missing] = f"missing {column}"
    reasons[unreadable] = [f"unreadable {column} {v!r} (expected {human_format(fmt)})" for v in text[unreadable]]
    return reasons


def _occurred(frame: pd.DataFrame, fmt: str | None, path: str, max_failing: float
              ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(aware UTC naive where an offset is written, local naive elsewhere, has-offset mask)."""
    text = frame["occurred_at"]
    has_offset = text.str.contains(_OFFSET)
    aware = pd.to_datetime(text.where(has_offset), utc=True, format=ISO, errors="coerce")
    local = _parse(text.where(~has_offset, ""), fmt or ISO)
    parsed = aware.dt.tz_localize(None).astype(local.dtype).where(has_offset, local)
    check_column(ColumnCheck(path, "occurred_at", fmt or ISO, max_failing), text, parsed.notna(), frame["_row"])
    return aware.dt.tz_localize(None).astype("datetime64[ns]"), local, has_offset


def _time_of_day(frame: pd.DataFrame, time_format: str | None, path: str, max_failing: float
                 ) -> tuple[pd.Series, pd.Series]:
    """Minutes after midnight (NaN where unreadable) and the per-row reasons."""
    rows = frame["_row"]
    if "time" in frame.columns:
        text = frame["time"]
        minutes = minutes_of_day(text, time_format)
        fmt = time_format or "/".join(DEFAULT_TIME_FORMATS)
        check_column(ColumnCheck(path, "time", time_format or DEFAULT_TIME_FORMATS[0], max_failing), text,
                     minutes.notna(), rows)
        return minutes, _reason(text, minutes.isna(), "time", fmt)
    hour = _integers(frame["hour"], 0, 23)
    minute = _integers(frame["minute"], 0, 59) if "minute" in frame.columns else pd.Series(0.0, index=frame.index)
    minutes = hour * 60 + minute
    for column, values in (("hour", hour), ("minute", minute)):
        if column in frame.columns:
            check_column(ColumnCheck(path, column, "%H" if column == "hour" else "%M", max_failing), frame[column],
                         values.notna(), rows)
    reasons = _reason(frame["hour"], hour.isna(), "hour", "%H")
    if "minute" in frame.columns:
        reasons = reasons.where(reasons != "", _reason(frame["minute"], minute.isna(), "minute", "%M"))
    return minutes, reasons


def _integers(text: pd.Series, low: int, high: int) -> pd.Series:
    value = pd.to_numeric(text.where(text.str.fullmatch(r"\s*\d{1,2}(\.0+)?\s*"), None), errors="coerce")
    return value.where((value >= low) & (value <= high)).astype(float)


def minutes_of_day(text: pd.Series, time_format: str | None) -> pd.Series:
    """Minutes after midnight from `HHMM` numbers (`time_format: hhmm`) or strptime formats; NaN if unreadable."""
    if time_format == "hhmm":
        digits = text.where(text.str.fullmatch(r"\d{1,4}"), None)
        value = pd.to_numeric(digits, errors="coerce")
        hours, minutes = value // 100, value % 100
        return (hours * 60 + minutes).where((hours < 24) & (minutes < 60)).astype(float)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for fmt in (time_format,) if time_format else DEFAULT_TIME_FORMATS:
        parsed = parsed.fillna(_parse(text, fmt))
    return (parsed.dt.hour * 60 + parsed.dt.minute).astype(float)


def parse_times(frame: pd.DataFrame, date_format: str | None, time_format: str | None,
                occurred_format: str | None, zone: tzinfo, path: str, max_failing: float = 0.5) -> ParsedTimes:
    """UTC times of every row from `occurred_at`, or `date` + (`time` | `hour` [+ `minute`]).

    Local times are read in the row's `tz` column where there is one, else in `zone`. A column
    whose values fail beyond `max_failing` (a share) refuses the file.
    """
    zones = frame["tz"] if "tz" in frame.columns else None
    if "occurred_at" in frame.columns:
        aware, local, has_offset = _occurred(frame, occurred_format, path, max_failing)
        local_utc, unknown_zone = rows_local_to_utc(local, zones, zone)
        utc = aware.where(has_offset, local_utc)
        reasons = _reason(frame["occurred_at"], utc.isna() & ~(unknown_zone & ~has_offset), "occurred_at",
                          occurred_format or ISO)
        return ParsedTimes(utc, _with_zone_reasons(reasons, unknown_zone & ~has_offset, zones))
    date_fmt = date_format or ISO
    date = _parse(frame["date"], date_fmt)
    check_column(ColumnCheck(path, "date", date_fmt, max_failing), frame["date"], date.notna(), frame["_row"])
    reasons = _reason(frame["date"], date.isna(), "date", date_fmt)
    no_time = "time" not in frame.columns and "hour" not in frame.columns
    if no_time:
        minutes = pd.Series(0.0, index=frame.index)
    else:
        minutes, time_reasons = _time_of_day(frame, time_format, path, max_failing)
        reasons = reasons.where(reasons != "", time_reasons)
    local = date + pd.to_timedelta(minutes, unit="min")
    utc, unknown_zone = rows_local_to_utc(local, zones, zone)
    return ParsedTimes(utc, _with_zone_reasons(reasons, unknown_zone & local.notna(), zones), no_time)


def _with_zone_reasons(reasons: pd.Series, unknown_zone: pd.Series, zones: pd.Series | None) -> pd.Series:
    if zones is None or not unknown_zone.any():
        return reasons
    reasons = reasons.copy()
    reasons[unknown_zone] = [f"unknown time zone {z!r} (use {ZONE_HINT})" for z in zones[unknown_zone]]
    return reasons
