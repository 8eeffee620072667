"""The demo's 2024 event follows the real timeline and amounts at the Wuhan station (issue 17)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from wxrisk.scenario.anchor import wuhan_station
from wxrisk.scenario.episodes import HOLDOUT_YEAR, winter_world
from wxrisk.scenario.weather import compute_fields, make_grid, pack, write_netcdf
from wxrisk.scenario.wuhan import (
    COMPARED_DAYS,
    analysis_hourly_at_wuhan,
    beijing_hours,
    compare,
    daily_series,
    demo_hourly_at_wuhan,
    main,
)


@pytest.fixture(scope="module")
def hourly() -> dict[str, np.ndarray]:
    return demo_hourly_at_wuhan()


def _days(hourly: dict[str, np.ndarray]) -> np.ndarray:
    return np.array([date.fromordinal(date(2000, 1, 1).toordinal() + int(d)) for d in (hourly["hours"] + 8) // 24])


def test_the_demo_matches_the_wuhan_station_over_25_january_to_10_february(hourly):
    # Issue 17: daily max and min MAE <= 2 °C, daily precipitation correlation >= 0.7, and the 2-4 Feb
    # total within 30 % of the station's 58.9 mm (NOAA GHCN-Daily CHM00057494).
    result = compare(daily_series(hourly["hours"], hourly["t2m_c"], hourly["precip_mm"]), wuhan_station())
    assert result.station_event_total_mm == pytest.approx(58.9)
    assert result.tmax_days >= 10 and result.tmin_days >= 8
    assert result.tmax_mae_c <= 2.0
    assert result.tmin_mae_c <= 2.0
    assert result.precip_correlation >= 0.7
    assert abs(result.event_total_mm / 58.9 - 1) <= 0.3


def test_the_phase_at_wuhan_follows_the_event(hourly):
    # Wuhan, 2024: dry and cold until 29 Jan, rain 30-31 Jan, the cold air on 1 Feb, freezing rain on 2-3 Feb,
    # snow by 4 Feb (71 mm of snow on the ground), then the thaw (CMA; GHCN-Daily PRCP, TMAX, SNWD).
    days, ptype = _days(hourly), hourly["ptype"]

    def hours_of(first: date, last: date, codes: tuple[int, ...]) -> int:
        return int(np.isin(ptype[(days >= first) & (days <= last)], codes).sum())

    assert hours_of(date(2024, 1, 25), date(2024, 1, 29), (1, 3, 5, 6, 7, 8, 12)) == 0
    assert hours_of(date(2024, 1, 30), date(2024, 1, 31), (1,)) >= 24
    assert hours_of(date(2024, 2, 2), date(2024, 2, 3), (3, 12)) >= 24
    assert hours_of(date(2024, 2, 4), date(2024, 2, 4), (5, 6)) >= 6
    assert hours_of(date(2024, 2, 7), date(2024, 2, 10), (1, 3, 5, 6, 7, 8, 12)) <= 3
    warm = hourly["t2m_c"][days == date(2024, 2, 10)]
    assert warm.max() > 10.0


def test_the_written_analysis_says_the_same_at_the_station(hourly, tmp_path):
    # The comparison can read an analysis file as generate writes it; it agrees with the world to the stored
    # precision (0.01 K, 0.001 mm).
    grid = make_grid(113.5, 30.0, 114.75, 31.0, 0.25)
    hours = beijing_hours(*COMPARED_DAYS)
    fields = compute_fields(winter_world(2024, HOLDOUT_YEAR), grid, hours)
    path = write_netcdf(tmp_path / "analysis.nc", pack(fields), fields["ptype"], grid, hours, "analysis")
    from_file = analysis_hourly_at_wuhan(path)
    assert np.abs(from_file["t2m_c"] - hourly["t2m_c"]).max() < 0.02
    assert np.abs(from_file["precip_mm"] - hourly["precip_mm"]).max() < 0.01
    assert (from_file["ptype"] == hourly["ptype"]).all()


def test_the_documented_command_prints_the_comparison_and_draws_it(tmp_path, capsys):
    png = tmp_path / "wuhan.png"
    main(["--png", str(png)])
    out = capsys.readouterr().out
    assert "daily max temperature MAE" in out and "2-4 Feb precipitation" in out and "2024-02-03" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
