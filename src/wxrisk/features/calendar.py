"""Calendar features: local hour and weekday, Spring Festival, the travel rush, official holidays.

Dates come from calendar libraries, never a hand-typed list: the Spring Festival is the 1st day
of the 1st lunar month (`lunardate`); official days off are those of the country of the time
zone (`country_of_timezone`: the IANA `zone.tab`, e.g. Asia/Shanghai -> CN, Europe/London -> GB)
from the `holidays` library. The Spring Festival and travel-rush features apply in China only:
elsewhere they are NaN (not a quiet week in February).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd
from lunardate import LunarDate

TRAVEL_RUSH_DAYS_BEFORE = 15  # 春运 starts 15 days before the Spring Festival [days]
TRAVEL_RUSH_DAYS_AFTER = 24  # and lasts 40 days in all, to 24 days after it [days]
DAYS_CAP = 60  # distances to calendar events are capped here [days]


@lru_cache(maxsize=256)
def spring_festival_date(year: int) -> dt.date:
    """Gregorian date of the Spring Festival (lunar new year's day) of `year`."""
    return LunarDate(year, 1, 1).to_solar_date()


def local_times(times_utc, tz: str) -> pd.DatetimeIndex:
    """Naive UTC datetime64 values -> tz-aware local times."""
    return pd.DatetimeIndex(np.asarray(times_utc, dtype="datetime64[s]")).tz_localize("UTC").tz_convert(tz)


def _ordinals(dates) -> np.ndarray:
    return np.array([d.toordinal() for d in dates], dtype=np.int64)


def days_to_and_from(local_dates, event_ordinals) -> tuple[np.ndarray, np.ndarray]:
    """Days [d] until the next event (0 on the day) and since the last one (0 on the day), capped."""
    days = _ordinals(local_dates)
    events = np.sort(np.asarray(event_ordinals, dtype=np.int64))
    nxt = np.searchsorted(events, days, side="left")
    prev = np.searchsorted(events, days, side="right") - 1
    big = np.int64(10**6)
    to_next = np.where(nxt < len(events), events[np.minimum(nxt, len(events) - 1)] - days, big)
    from_prev = np.where(prev >= 0, days - events[np.maximum(prev, 0)], big)
    return (np.minimum(to_next, DAYS_CAP).astype(np.float32), np.minimum(from_prev, DAYS_CAP).astype(np.float32))


def spring_festival_days(local_dates) -> tuple[np.ndarray, np.ndarray]:
    """(days to the next Spring Festival, days since the last one) [d], capped at DAYS_CAP."""
    years = {d.year for d in local_dates}
    festivals = [spring_festival_date(y).toordinal() for y in range(min(years) - 1, max(years) + 2)]
    return days_to_and_from(local_dates, festivals)


def travel_rush_day(days_to_sf, days_from_sf) -> np.ndarray:
    """Day of the travel rush relative to the Spring Festival (-15..+24) [d]; NaN outside it."""
    to_sf = np.asarray(days_to_sf, dtype=np.float32)
    from_sf = np.asarray(days_from_sf, dtype=np.float32)
    rel = np.where(from_sf <= TRAVEL_RUSH_DAYS_AFTER, from_sf, -to_sf)
    inside = (rel >= -TRAVEL_RUSH_DAYS_BEFORE) & (rel <= TRAVEL_RUSH_DAYS_AFTER)
    return np.where(inside, rel, np.nan).astype(np.float32)


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    """IANA time zone -> ISO 3166 country code, from the tz database's `zone.tab`."""
    from importlib.resources import files

    text = files("tzdata").joinpath("zoneinfo/zone.tab").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {fields[2]: fields[0] for fields in rows if len(fields) >= 3}


def country_of_timezone(tz: str) -> str | None:
    """The country whose time zone `tz` is (Asia/Shanghai -> CN), None for UTC and the like."""
    return _zone_countries().get(tz)


@lru_cache(maxsize=64)
def _holiday_ordinals(country: str | None, first_year: int, last_year: int) -> tuple[int, ...]:
    if country is None or country not in holidays.list_supported_countries():
        return ()
    days = holidays.country_holidays(country, years=range(first_year, last_year + 1))
    return tuple(sorted(d.toordinal() for d in days))


def official_holiday_days(local_dates, country: str | None = "CN") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(is an official day off 0/1, days to the next one, days since the last one) [d] in `country`
    (ISO 3166 code); with no known holidays: 0 and NaN."""
    years = [d.year for d in local_dates]
    events = np.array(_holiday_ordinals(country, min(years) - 1, max(years) + 1), dtype=np.int64)
    is_holiday = np.isin(_ordinals(local_dates), events).astype(np.float32)
    if events.size == 0:
        nothing = np.full(len(local_dates), np.nan, dtype=np.float32)
        return is_holiday, nothing, nothing.copy()
    to_next, from_prev = days_to_and_from(local_dates, events)
    return is_holiday, to_next, from_prev


def calendar_columns(times_utc, tz: str) -> dict[str, np.ndarray]:
    """Per hour (shape (H,)): hour_local, dow_local (Mon=0), Spring Festival, rush and holidays.

    Holidays are those of the country of `tz`; the Spring Festival columns are NaN outside China.
    """
    local = local_times(times_utc, tz)
    dates = [ts.date() for ts in local]
    unique_dates = sorted(set(dates))
    country = country_of_timezone(tz)
    sf_to, sf_from = spring_festival_days(unique_dates)
    if country != "CN":
        sf_to, sf_from = np.full_like(sf_to, np.nan), np.full_like(sf_from, np.nan)
    is_hol, hol_to, hol_from = official_holiday_days(unique_dates, country)
    pos = np.searchsorted(_ordinals(unique_dates), _ordinals(dates))
    return {
        "hour_local": local.hour.to_numpy().astype(np.float32),
        "dow_local": local.day_of_week.to_numpy().astype(np.float32),
        "days_to_spring_festival": sf_to[pos],
        "days_from_spring_festival": sf_from[pos],
        "travel_rush_day": travel_rush_day(sf_to, sf_from)[pos],
        "is_holiday": is_hol[pos],
        "days_to_holiday": hol_to[pos],
        "days_from_holiday": hol_from[pos],
    }
