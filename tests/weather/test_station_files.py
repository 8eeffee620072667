"""GHCN-Daily `.dly` (the real Wuhan record) and station CSVs described by a YAML mapping."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from wxrisk.config import Settings, WxriskError
from wxrisk.store import connect
from wxrisk.weather.importer import import_weather

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
WUHAN = REAL / "CHM00057494.dly"
WUHAN_POSITION = "114.05,30.6,23"


@pytest.fixture
def con(tmp_path):
    con = connect(tmp_path / "wx.duckdb")
    con.executemany("INSERT INTO segments (segment_id, source, km_from, km_to, length_km, lon, lat, elevation_m, "
                    "path_json) VALUES (?, 'test', 0, 1, 1, ?, ?, ?, '[]')",
                    [("wuhan-low", 114.06, 30.61, 23.0), ("wuhan-hill", 114.10, 30.55, 323.0),
                     ("beijing", 116.4, 39.9, 50.0)])
    yield con
    con.close()


def daily(con, segment_id: str, first: str, last: str) -> dict:
    rows = con.execute("SELECT day, tmax_c, tmin_c, precip_mm, snow_depth_cm FROM weather_daily_rows "
                       "WHERE segment_id = ? AND day BETWEEN ? AND ? ORDER BY day", [segment_id, first, last]).fetchall()
    return {row[0].isoformat(): row[1:] for row in rows}


def test_wuhan_record_imports_daily_with_the_2024_storm(con):
    [result] = import_weather(con, Settings(), WUHAN, station=WUHAN_POSITION)
    days = daily(con, "wuhan-low", "2024-02-02", "2024-02-04")
    assert [d[2] for d in days.values()] == pytest.approx([24.1, 28.4, 6.4])  # tenths of mm -> mm
    assert [d[0] for d in days.values()] == pytest.approx([3.4, 0.4, -0.6])   # tenths of °C -> °C
    assert days["2024-02-04"][3] == pytest.approx(7.1)                         # 71 mm of snow on the ground
    assert days["2024-02-02"][1] is None, "a missing TMIN stays missing"
    assert result.details["resolution"] == "daily" and result.details["variables"]["precip_mm"] == "PRCP"
    assert result.details["segments_served"] == 2 and result.details["segments_beyond_reach"] == 1
    assert "daily values only" in result.details["hourly_missing"]
    assert con.execute("SELECT count(*) FROM weather_rows").fetchone()[0] == 0, "no hour is invented from a day"


def test_a_hill_road_is_colder_by_the_lapse_rate(con):
    import_weather(con, Settings(), WUHAN, station=WUHAN_POSITION)
    low = daily(con, "wuhan-low", "2024-02-03", "2024-02-03")["2024-02-03"][0]
    hill = daily(con, "wuhan-hill", "2024-02-03", "2024-02-03")["2024-02-03"][0]
    assert hill == pytest.approx(low - 0.0065 * 300, abs=1e-4)


def test_quality_flagged_values_are_rejected_counted_and_kept(con, tmp_path):
    lines = WUHAN.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("CHM00057494202402PRCP"))
    slot = 21 + 8 * 2  # 3 February: value, MFLAG, QFLAG, SFLAG
    lines[index] = lines[index][:slot + 6] + "O" + lines[index][slot + 7:]  # QFLAG O: outlier check failed
    corrupted = tmp_path / "CHM00057494.dly"
    corrupted.write_text("\n".join(lines) + "\n")
    [result] = import_weather(con, Settings(), corrupted, station=WUHAN_POSITION)
    assert result.details["rejected_values"] == {"PRCP": 1} and result.rows_quarantined == 1
    reason, row_number = con.execute("SELECT reason, row_number FROM quarantine").fetchone()
    assert reason == "PRCP 2024-02-03: quality flag 'O'" and row_number == index + 1
    assert daily(con, "wuhan-low", "2024-02-03", "2024-02-03")["2024-02-03"][2] is None


def test_a_dly_without_coordinates_is_refused(con):
    with pytest.raises(WxriskError, match=r"CHM00057494.dly: a .dly file holds no coordinates; give --station"):
        import_weather(con, Settings(), WUHAN)


def test_the_station_list_gives_coordinates(con, tmp_path):
    listing = tmp_path / "ghcnd-stations.txt"
    listing.write_text("CHM00054511  39.9330  116.2830   55.0    BEIJING                        GSN     54511\n"
                       "CHM00057494  30.6000  114.0500   23.0    WUHAN                          GSN     57494\n")
    [result] = import_weather(con, Settings(), WUHAN, station_list=listing)
    assert result.details["stations"] == [{"station_id": "CHM00057494", "lon": 114.05, "lat": 30.6, "elevation_m": 23.0}]
    assert con.execute("SELECT name FROM weather_stations").fetchone()[0] == "WUHAN"


def test_a_garbled_line_is_quarantined_not_guessed(con, tmp_path):
    garbled = tmp_path / "w.dly"
    garbled.write_text(WUHAN.read_text()[:270 * 3] + "this is not a GHCN line\n")
    [result] = import_weather(con, Settings(), garbled, station=WUHAN_POSITION)
    assert result.rows_quarantined == 1
    assert "not a GHCN-Daily line" in con.execute("SELECT reason FROM quarantine").fetchone()[0]


MAPPING = """\
description: two airport stations, US units, local times
timezone: America/Chicago
time_format: "%m/%d/%Y %H:%M"
columns:
  STN: station_id
  LON: lon
  LAT: lat
  ELEV_M: elevation_m
  DATE: time
  TMP_F: t2m_c
  PCP_IN: precip_mm
  WND_MPH: wind_ms
units:
  t2m_c: degF
  precip_mm: inch
  wind_ms: mph
"""
STATION_ROWS = """\
STN,LON,LAT,ELEV_M,DATE,TMP_F,PCP_IN,WND_MPH
KORD,-87.90,41.98,201,01/15/2024 06:00,14,0.1,10
KORD,-87.90,41.98,201,01/15/2024 07:00,32,0,0
KMDW,-87.75,41.79,189,01/15/2024 06:00,23,,5
"""


@pytest.fixture
def chicago(tmp_path):
    con = connect(tmp_path / "chi.duckdb")
    con.executemany("INSERT INTO segments (segment_id, source, km_from, km_to, length_km, lon, lat, elevation_m, "
                    "path_json) VALUES (?, 'test', 0, 1, 1, ?, ?, ?, '[]')",
                    [("near-ohare", -87.91, 41.97, None), ("near-midway", -87.74, 41.80, None)])
    mapping = tmp_path / "airports.yaml"
    mapping.write_text(MAPPING)
    data = tmp_path / "airports.csv"
    data.write_text(STATION_ROWS)
    yield con, data, mapping
    con.close()


def test_a_mapped_station_csv_converts_units_and_serves_each_nearest_station(chicago):
    con, data, mapping = chicago
    [result] = import_weather(con, Settings(), data, mapping=mapping)
    rows = con.execute("SELECT segment_id, valid_time, t2m_c, precip_mm, wind_ms FROM weather_rows "
                       "ORDER BY segment_id, valid_time").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("near-midway", dt.datetime(2024, 1, 15, 12)),
                                            ("near-ohare", dt.datetime(2024, 1, 15, 12)),
                                            ("near-ohare", dt.datetime(2024, 1, 15, 13))]  # CST = UTC-6
    assert rows[0][2] == pytest.approx(-5.0) and rows[0][3] is None and rows[0][4] == pytest.approx(2.2352)
    assert rows[1][2:] == pytest.approx((-10.0, 2.54, 4.4704), abs=1e-4)
    assert result.details["missing_variables"] == ["d2m_c", "skt_c", "snowfall_mm", "vis_m"]
    assert result.details["gaps"]["empty_values"] == {"precip_mm": 1}
    assert json.loads(con.execute("SELECT details FROM import_ledger").fetchone()[0])["units"]["t2m_c"] == "degF"


def test_the_same_csv_under_another_mapping_is_imported_again_not_unchanged(chicago):
    con, data, mapping = chicago
    import_weather(con, Settings(), data, mapping=mapping)
    mapping.write_text(MAPPING.replace("t2m_c: degF", "t2m_c: degC"))  # the analyst fixes a unit
    [again] = import_weather(con, Settings(), data, mapping=mapping)
    assert again.status == "replaced"
    assert con.execute("SELECT max(t2m_c) FROM station_hourly").fetchone()[0] == pytest.approx(32.0)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda m: m.replace("  TMP_F: t2m_c\n", "  TEMP_F: t2m_c\n"), "mapped column 'TEMP_F' is not in the file"),
    (lambda m: m.replace("  t2m_c: degF\n", ""), "no unit given for t2m_c"),
    (lambda m: m.replace("  t2m_c: degF\n", "  t2m_c: degR\n"), "unknown unit 'degR' for t2m_c"),
    (lambda m: m.replace("columns:", "colums:"), "unknown mapping keys"),
    (lambda m: m.replace("  LON: lon\n  LAT: lat\n", ""), "station 'KMDW' has no position"),
])
def test_a_wrong_mapping_is_refused_in_one_line(chicago, edit, message):
    con, data, mapping = chicago
    mapping.write_text(edit(MAPPING))
    with pytest.raises(WxriskError, match=message):
        import_weather(con, Settings(), data, mapping=mapping)
    assert con.execute("SELECT count(*) FROM station_hourly").fetchone()[0] == 0


def test_one_station_id_at_two_positions_in_a_file_is_refused(chicago):
    con, data, mapping = chicago
    data.write_text(STATION_ROWS.replace("KMDW,-87.75", "KORD,-87.75"))
    with pytest.raises(WxriskError, match="at several positions"):
        import_weather(con, Settings(), data, mapping=mapping)


def test_a_daily_mapped_csv_stays_daily(chicago, tmp_path):
    con, _, _ = chicago
    mapping = tmp_path / "daily.yaml"
    mapping.write_text("resolution: daily\ncolumns: {STN: station_id, DAY: time, TX: tmax_c, PR: precip_mm}\n"
                       "units: {tmax_c: degC, precip_mm: mm}\n"
                       "stations: {KORD: {lon: -87.90, lat: 41.98, elevation_m: 201}}\n")
    data = tmp_path / "daily.csv"
    data.write_text("STN,DAY,TX,PR\nKORD,2024-01-15,-12.5,3.0\nKORD,2024-01-17,-8,0\n")
    [result] = import_weather(con, Settings(), data, mapping=mapping)
    assert result.details["resolution"] == "daily" and result.details["gaps"]["absent_steps"] == 1
    assert con.execute("SELECT tmax_c FROM weather_daily_rows WHERE segment_id = 'near-ohare' "
                       "ORDER BY day").fetchall() == [(-12.5,), (-8.0,)]


def test_hourly_features_say_when_a_segment_has_only_daily_values(con, tmp_path):
    from wxrisk.features.build import build_features

    import_weather(con, Settings(), WUHAN, station=WUHAN_POSITION)
    # TMIN is missing in the record on these days: only what the station has is named.
    with pytest.raises(WxriskError, match=r"only daily station values \(daily-only:tmax_c, daily-only:tavg_c, "
                                          r"daily-only:precip_mm\), and hourly features are not made up"):
        build_features(con, Settings(), "2024-02-02", "2024-02-03")
    beijing = tmp_path / "beijing.csv"
    beijing.write_text("time,temperature_2m (°C),precipitation (mm)\n"
                       + "".join(f"2024-02-{d:02d}T{h:02d}:00,-3,0\n" for d in (1, 2) for h in range(24)))
    import_weather(con, Settings(), beijing, station="116.4,39.9,50")
    table = build_features(con, Settings(), "2024-02-02", "2024-02-03")
    assert set(table.frame["segment_id"]) == {"beijing"}, "the Wuhan roads have no hourly weather to score"
    assert {"daily-only:tmax_c", "daily-only:precip_mm"} <= set(table.missing_inputs)


WUHAN_DAILY_CSV = REAL / "derived_wuhan_CHM00057494_winters_2008_2024.csv"
WUHAN_DAILY_MAPPING = """\
description: the Wuhan record parsed to one row a day (derived from CHM00057494.dly)
resolution: daily
columns: {date: time, TMAX_C: tmax_c, TMIN_C: tmin_c, TAVG_C: tavg_c, PRCP_mm: precip_mm, SNWD_mm: snow_depth_cm}
units: {tmax_c: degC, tmin_c: degC, tavg_c: degC, precip_mm: mm, snow_depth_cm: mm}
stations: {CHM00057494: {lon: 114.05, lat: 30.6, elevation_m: 23}}
"""


def test_the_derived_daily_csv_and_the_dly_give_the_same_days(tmp_path):
    """Two readers, two files of one record: the mapped CSV and the fixed-width .dly agree day by day."""
    mapping = tmp_path / "wuhan-daily.yaml"
    mapping.write_text(WUHAN_DAILY_MAPPING)
    stored = {}
    for name, kwargs in (("csv", {"mapping": mapping}), ("dly", {"station": WUHAN_POSITION})):
        con = connect(tmp_path / f"{name}.duckdb")
        con.execute("INSERT INTO segments (segment_id, source, km_from, km_to, length_km, lon, lat, path_json) "
                    "VALUES ('w', 'test', 0, 1, 1, 114.06, 30.61, '[]')")
        import_weather(con, Settings(), WUHAN_DAILY_CSV if name == "csv" else WUHAN, **kwargs)
        stored[name] = con.execute("SELECT day, tmax_c, tmin_c, tavg_c, precip_mm, snow_depth_cm FROM weather_daily_rows "
                                   "ORDER BY day").df().set_index("day")
        con.close()
    csv, dly = stored["csv"], stored["dly"].reindex(stored["csv"].index)
    assert len(csv) == 182 and str(csv.index.min())[:10] == "2007-12-01"
    pd.testing.assert_frame_equal(csv, dly, check_exact=False, atol=1e-4)
    assert csv.loc[pd.Timestamp("2024-02-04"), "snow_depth_cm"] == pytest.approx(7.1)
