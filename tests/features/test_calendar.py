"""Calendar features: Spring Festival dates, the travel rush, official holidays, local time."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from wxrisk.features import calendar


@pytest.mark.parametrize(("year", "expected"), [
    # State Council General Office holiday notices (国务院办公厅关于…部分节假日安排的通知):
    # 春节 (lunar new year's day) 2021-02-12, 2022-02-01, 2023-01-22, 2024-02-10, 2025-01-29.
    (2021, dt.date(2021, 2, 12)), (2022, dt.date(2022, 2, 1)), (2023, dt.date(2023, 1, 22)),
    (2024, dt.date(2024, 2, 10)), (2025, dt.date(2025, 1, 29)),
])
def test_spring_festival_dates(year, expected):
    assert calendar.spring_festival_date(year) == expected


def test_travel_rush_2024_spans_the_published_40_days():
    # Ministry of Transport: the 2024 Spring Festival travel rush ran 26 January to 5 March (40 days).
    days = [dt.date(2024, 1, 25) + dt.timedelta(days=i) for i in range(42)]
    to_sf, from_sf = calendar.spring_festival_days(days)
    rush = calendar.travel_rush_day(to_sf, from_sf)
    inside = [d for d, r in zip(days, rush, strict=True) if not np.isnan(r)]
    assert (inside[0], inside[-1], len(inside)) == (dt.date(2024, 1, 26), dt.date(2024, 3, 5), 40)
    assert rush[days.index(dt.date(2024, 2, 10))] == 0.0


def test_travel_rush_2023_starts_on_7_january():
    # Ministry of Transport: the 2023 travel rush ran 7 January to 15 February.
    to_sf, from_sf = calendar.spring_festival_days([dt.date(2023, 1, 6), dt.date(2023, 1, 7), dt.date(2023, 2, 15),
                                                    dt.date(2023, 2, 16)])
    rush = calendar.travel_rush_day(to_sf, from_sf)
    np.testing.assert_array_equal(np.isnan(rush), [True, False, False, True])
    assert rush[1] == -15.0 and rush[2] == 24.0


def test_days_to_and_from_spring_festival():
    to_sf, from_sf = calendar.spring_festival_days([dt.date(2024, 2, 5), dt.date(2024, 2, 10), dt.date(2024, 2, 13)])
    np.testing.assert_array_equal(to_sf, [5, 0, calendar.DAYS_CAP])
    np.testing.assert_array_equal(from_sf, [calendar.DAYS_CAP, 0, 3])


def test_official_holidays_from_the_holidays_library():
    # State Council notice for 2024: 1-7 October National Day holiday; 8 October a working day.
    is_hol, to_next, _ = calendar.official_holiday_days([dt.date(2024, 9, 30), dt.date(2024, 10, 1),
                                                          dt.date(2024, 10, 8)])
    np.testing.assert_array_equal(is_hol, [0, 1, 0])
    assert to_next[0] == 1


def test_local_hour_and_weekday_in_beijing_time():
    cols = calendar.calendar_columns(np.array(["2024-02-09T16:00", "2024-02-10T03:00"], dtype="datetime64[us]"),
                                     "Asia/Shanghai")
    np.testing.assert_array_equal(cols["hour_local"], [0, 11])
    np.testing.assert_array_equal(cols["dow_local"], [5, 5])  # 2024-02-10 was a Saturday
    np.testing.assert_array_equal(cols["days_to_spring_festival"], [0, 0])


def test_holidays_are_those_of_the_time_zones_country():
    # tz database zone.tab: Europe/London is GB; Christmas Day and Boxing Day 2022 are UK bank holidays
    # (gov.uk/bank-holidays); the Spring Festival and travel-rush features apply in China only.
    assert (calendar.country_of_timezone("Europe/London"), calendar.country_of_timezone("Asia/Shanghai"),
            calendar.country_of_timezone("UTC")) == ("GB", "CN", None)
    times = np.array(["2022-12-25T12:00", "2022-12-28T12:00", "2023-01-22T03:00"], dtype="datetime64[us]")
    leeds = calendar.calendar_columns(times, "Europe/London")
    assert list(leeds["is_holiday"]) == [1.0, 0.0, 0.0] and leeds["days_from_holiday"][1] == 1.0
    assert np.isnan(leeds["days_to_spring_festival"]).all() and np.isnan(leeds["travel_rush_day"]).all()
    beijing = calendar.calendar_columns(times, "Asia/Shanghai")
    assert beijing["is_holiday"][2] == 1.0 and beijing["days_to_spring_festival"][2] == 0.0   # 22 Jan 2023
    nowhere = calendar.calendar_columns(times, "UTC")
    assert (nowhere["is_holiday"] == 0).all() and np.isnan(nowhere["days_to_holiday"]).all()
