"""Station and point files damaged the way they are in the field: each is refused in one line naming
the file and the row, line or variable, or its bad rows are quarantined and counted; none is read
into a silent wrong value. The cut `.dly` lines come from the real Wuhan record."""

from __future__ import annotations

from pathlib import Path

import pytest

from wxrisk.config import Settings, WxriskError
from wxrisk.weather.importer import import_weather

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
HEADER = "time,temperature_2m (°C),precipitation (mm),snowfall (cm),wind_speed_10m (km/h),dew_point_2m (°C)\n"
LONDON = ("latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation\n"
          "50.0,10.0,5,{offset},{zone},X\n\n")
NAME = "p_50.0N_10.0E_5m.csv"  # the point's position is in the name


def hour(time: str, t2m: str = "1", dew: str = "0") -> str:
    return f"{time},{t2m},0,0,3.6,{dew}\n"


def ledger_rows(con) -> int:
    return con.execute("SELECT count(*) FROM import_ledger").fetchone()[0]


def quarantine(con) -> list[tuple[int, str]]:
    return con.execute("SELECT row_number, reason FROM quarantine ORDER BY row_number").fetchall()


@pytest.fixture
def con(db, add_segments):
    add_segments(db, {"s": (10.0, 50.0)})
    return db


@pytest.mark.parametrize(("text", "message"), [
    (HEADER + hour("2024-01-01T00:00") + hour("2024-01-01T00:15"),
     "row 2: 2024-01-01T00:15 is not a whole hour .*sub-hourly data are not read"),
    (HEADER.replace("(°C)", "(K)", 1) + hour("2024-01-01T00:00") + hour("2024-01-01T01:00"),
     r"no usable row \(2 rejected; row 1: temperature_2m \(K\): -272.15 outside -95..60"),
    (HEADER + hour("2024-01-01T00:00", "abc") + hour("2024-01-01T01:00", "x") + hour("2024-01-01T02:00"),
     r"2 of 3 rows rejected, more than half \(row 1: temperature_2m \(°C\): not a number\); nothing imported"),
    (HEADER.replace(",dew_point_2m", ",temperature_2m") + hour("2024-01-01T00:00"),
     "column 'temperature_2m \\(°C\\)' appears twice in the header"),
    (LONDON.format(offset=3600, zone="GMT") + HEADER + hour("2024-01-01T00:00"),
     "utc_offset_seconds 3600 is not an offset of its timezone GMT"),
    (LONDON.format(offset=0, zone="Europe/London") + HEADER + hour("2022-03-27T00:00") + hour("2022-03-27T01:00"),
     "local time 2022-03-27 01:00 does not exist in Europe/London \\(the clocks went forward\\)"),
    (LONDON.format(offset=0, zone="Europe/London") + HEADER + hour("2022-10-30T00:00") + hour("2022-10-30T01:00")
     + hour("2022-10-30T02:00"), "local time 2022-10-30 01:00 is in the file 1 time\\(s\\); in Europe/London "
                                 "that hour happens twice"),
    (LONDON.format(offset=0, zone="Europe/Londres") + HEADER + hour("2024-01-01T00:00"),
     "unknown time zone 'Europe/Londres'"),
])
def test_a_damaged_point_file_is_refused_in_one_line_and_writes_nothing(con, tmp_path, text, message):
    path = tmp_path / NAME
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WxriskError, match=message) as refused:
        import_weather(con, Settings(), path)
    assert str(refused.value).startswith(str(path)) and "\n" not in str(refused.value)
    assert ledger_rows(con) == 0


def test_cut_long_and_impossible_rows_are_quarantined_not_read_blank(con, tmp_path):
    path = tmp_path / NAME
    path.write_text(HEADER + hour("2024-01-01T00:00") + "2024-01-01T01:00,1,0\n"   # cut: 3 of 6 fields
                    + "2024-01-01T02:00,1,0,0,3.6,0,7\n"                            # one field too many
                    + hour("2024-01-01T03:00", "75")                                # hotter than any air
                    + hour("2024-01-01T04:00", "1", "9")                            # dew point far above the air
                    + hour("2024-01-01T05:00") + hour("2024-01-01T06:00") + hour("2024-01-01T07:00")
                    + hour("2024-01-01T08:00") + hour("2024-01-01T09:00"), encoding="utf-8")
    [result] = import_weather(con, Settings(), path)
    assert (result.rows_read, result.rows_kept, result.rows_quarantined) == (10, 6, 4)
    reasons = dict(quarantine(con))
    assert "3 fields where the header has 6" in reasons[2] and "7 fields where the header has 6" in reasons[3]
    assert "75.0 outside -95..60 after conversion to t2m_c" in reasons[4]
    assert "dew point 9.0 °C above the air's 1.0 °C" in reasons[5]
    assert con.execute("SELECT count(*) FROM station_hourly").fetchone()[0] == 6


def test_the_autumn_hour_given_twice_in_local_time_becomes_two_utc_hours(con, tmp_path):
    path = tmp_path / "autumn.csv"
    path.write_text(LONDON.format(offset=0, zone="Europe/London") + HEADER + hour("2022-10-30T00:00", "1")
                    + hour("2022-10-30T01:00", "2") + hour("2022-10-30T01:00", "3") + hour("2022-10-30T02:00", "4"),
                    encoding="utf-8")
    import_weather(con, Settings(), path)
    got = con.execute("SELECT strftime(valid_time, '%H:%M'), t2m_c FROM station_hourly ORDER BY valid_time").fetchall()
    assert got == [("23:00", 1.0), ("00:00", 2.0), ("01:00", 3.0), ("02:00", 4.0)]


def test_a_mapped_station_csv_quarantines_a_cut_row(con, tmp_path):
    mapping = tmp_path / "one.yaml"
    mapping.write_text("columns: {when: time, temp: t2m_c}\nunits: {t2m_c: degC}\n"
                       "stations: {one: {lon: 10.0, lat: 50.0}}\n", encoding="utf-8")
    path = tmp_path / "one.csv"
    path.write_text("when,temp\n2024-01-01T00:00,1\n2024-01-01T01:00\n2024-01-01T02:00,3\n", encoding="utf-8")
    [result] = import_weather(con, Settings(), path, mapping=mapping)
    assert (result.rows_read, result.rows_kept) == (3, 2)
    assert quarantine(con) == [(2, "1 fields where the header has 2 (a cut or damaged line)")]


def wuhan_lines(year: str = "2024") -> list[str]:
    return [line for line in (REAL / "CHM00057494.dly").read_text().splitlines() if line[11:15] == year]


def test_a_dly_line_cut_short_is_quarantined_whole(con, tmp_path):
    lines = wuhan_lines()
    path = tmp_path / "cut.dly"
    path.write_text("\n".join(lines[:3] + [lines[3][:100]] + lines[4:]) + "\n")
    [result] = import_weather(con, Settings(), path, station="10.0,50.0")
    [(line, reason)] = quarantine(con)
    assert line == 4 and reason == "cut after 100 characters (a GHCN-Daily line has 269)"
    assert result.rows_quarantined == 1


@pytest.mark.parametrize(("damage", "message"), [
    (lambda lines: [line[:21] + "-9999   " * 31 for line in lines],
     "every value of TMAX, TMIN, TAVG, PRCP, SNWD is missing \\(-9999\\); nothing to import"),
    (lambda lines: lines + lines[:1], "lines 1 and 51 both give TMAX of CHM00057494 for 2024-01"),
    (lambda lines: [line[:17] + "WT01" + line[21:] for line in lines[:1]],
     "none of the elements wxrisk reads .*; found WT01"),
])
def test_a_damaged_dly_is_refused_in_one_line(con, tmp_path, damage, message):
    path = tmp_path / "damaged.dly"
    path.write_text("\n".join(damage(wuhan_lines())) + "\n")
    with pytest.raises(WxriskError, match=message):
        import_weather(con, Settings(), path, station="10.0,50.0")
    assert ledger_rows(con) == 0
