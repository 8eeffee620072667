"""Shared pieces: issue-time choice, bounding boxes, GRIB completeness, the HTTP policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from wxrisk.config import Settings, WxriskError
from wxrisk.sources.common import choose_issue_time, parse_bbox, snap_bbox, utc_hour
from wxrisk.sources.http import HttpPolicy
from wxrisk.weather.grid import count_grib_messages

from .conftest import REAL_DATA


def test_issue_time_is_the_newest_run_published_by_now():
    start = datetime(2026, 1, 25, 18)
    # at 10:00 UTC the 00 UTC run (on line about 8 h after) is out, the 12 UTC one is not
    assert choose_issue_time(start, datetime(2026, 1, 25, 10), 12, 8) == datetime(2026, 1, 25, 0)
    assert choose_issue_time(start, datetime(2026, 1, 25, 7), 12, 8) == datetime(2026, 1, 24, 12)
    # a start in the past takes the run at or before it
    assert choose_issue_time(datetime(2026, 1, 20, 5), datetime(2026, 1, 25, 7), 6, 4.5) == datetime(2026, 1, 20)


def test_times_become_naive_utc_hours():
    beijing = timezone(timedelta(hours=8))
    assert utc_hour(datetime(2026, 1, 25, 8, 40, tzinfo=beijing)) == datetime(2026, 1, 25, 0)
    assert utc_hour(datetime(2026, 1, 25, 8, 40, tzinfo=UTC)) == datetime(2026, 1, 25, 8)


def test_bbox_is_parsed_checked_and_snapped_outwards():
    assert parse_bbox("115.1,28.05,116.9,29.6") == (115.1, 28.05, 116.9, 29.6)
    assert snap_bbox((115.1, 28.05, 116.9, 29.6), 0.25) == (115.0, 28.0, 117.0, 29.75)
    with pytest.raises(WxriskError, match="four numbers"):
        parse_bbox("115,28,116")
    with pytest.raises(WxriskError, match="W < E"):
        parse_bbox("116,28,115,29")


def test_grib_completeness_check_on_the_real_file():
    data = (REAL_DATA / "cfrzr_and_cprat.grib").read_bytes()
    assert count_grib_messages(data, "real") == 4          # ecCodes lists 4 messages in this file
    with pytest.raises(WxriskError, match="cut short"):
        count_grib_messages(data[:-20], "cut")
    with pytest.raises(WxriskError, match="not GRIB"):
        count_grib_messages(b"<html>error</html>", "html")


def test_http_policy_from_settings_backs_off_exponentially():
    policy = HttpPolicy.from_settings(Settings(extra={"http": {"backoff_s": 1.5}}), request_interval_s=0.5)
    assert (policy.backoff_s, policy.request_interval_s) == (1.5, 0.5)
    assert [policy.backoff_before_attempt_s(n) for n in (2, 3, 4)] == [1.5, 3.0, 6.0]
    with pytest.raises(WxriskError, match="unknown keys"):
        HttpPolicy.from_settings(Settings(extra={"http": {"retries": 3}}))


def test_a_fresh_download_is_counted_once_and_a_file_from_disk_at_import(tmp_path):
    """The fetch counts a download's messages before writing it; the import counts only files it did not."""
    from wxrisk.weather.grid import open_datasets

    data = (REAL_DATA / "cfrzr_and_cprat.grib").read_bytes()
    cut = tmp_path / "cut.grib"
    cut.write_bytes(data[:-20])
    with pytest.raises(WxriskError, match="cut"):
        open_datasets(cut)  # a file from disk: counted here
    whole = tmp_path / "whole.grib"
    whole.write_bytes(data)
    datasets = open_datasets(whole, counted=True)  # counted by the fetch already: read straight away
    assert datasets and all(ds.data_vars for ds in datasets)
    for ds in datasets:
        ds.close()
