"""Presets, mappings, time zones, encodings, quarantine and file-level failures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from wxrisk.config import Settings, WxriskError
from wxrisk.incidents.importer import import_incidents
from wxrisk.store import connect

SETTINGS = Settings()  # Asia/Shanghai


def table(con, sql: str, params=()):
    return con.execute(sql, list(params)).fetchall()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


GENERIC = """incident_id,occurred_at,lat,lon,road_ref,severity,surface,weather,vehicles,casualties,synthetic
a1,2024-02-05T08:30:00+08:00,30.1,114.2,G4,serious,ice,freezing_rain,3,2,true
a2,2024-02-05 08:30,30.2,114.3,G4,slight,Black ice,雪,2,0,false
a2,2024-02-05 08:30,30.2,114.3,G4,fatal,ice,snow,2,1,false
a3,2024-02-05T00:30:00Z,30.3,114.4,,damage_only,wet,rain,1,,
a4,yesterday,30.3,114.4,G4,slight,dry,clear,1,0,false
,2024-02-05T00:30:00Z,30.3,114.4,G4,slight,dry,clear,1,0,false
a6,2024-02-05T00:30:00Z,300,114.4,G4,slight,dry,clear,1,0,false
a7,2024-02-05T00:30:00Z,30.3,114.4,G4,slight,dry
a8,2024-02-05T00:30:00Z,30.3,114.4,G4,slight,slippery,clear,two,0,false
"""


@pytest.fixture
def generic(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    # 4 of 9 rows are bad on purpose: allow them (the default refuses a file more than half bad)
    result = import_incidents(con, SETTINGS, write(tmp_path / "generic.csv", GENERIC), max_quarantined=1)
    return con, result


def test_generic_rows_become_incidents_in_utc(generic):
    con, result = generic
    rows = table(con, "SELECT incident_id, occurred_at, severity, surface, weather, vehicles, casualties, synthetic "
                      "FROM incidents ORDER BY 1")
    assert rows == [
        ("a1", datetime(2024, 2, 5, 0, 30), "serious", "ice", "freezing_rain", 3, 2, True),
        # local time read in Asia/Shanghai (UTC+8, no daylight saving since 1991); the generic preset
        # does not merge: the first row of a2 is kept, the second quarantined
        ("a2", datetime(2024, 2, 5, 0, 30), "slight", "ice", "snow", 2, 0, False),
        ("a3", datetime(2024, 2, 5, 0, 30), "damage_only", "wet", "rain", 1, None, False),
        ("a8", datetime(2024, 2, 5, 0, 30), "slight", None, "clear", None, 0, False),
    ]
    assert result.details["invalid_values"] == {"surface": 1, "vehicles": 1}


def test_unreadable_rows_are_quarantined_with_row_number_and_reason(generic):
    con, result = generic
    assert (result.rows_read, result.rows_kept, result.rows_quarantined) == (9, 4, 5)
    assert result.details["rows_merged"] == 0
    iso = "ISO 8601 (yyyy-mm-dd or yyyy-mm-ddTHH:MM[:SS][+offset])"
    assert table(con, "SELECT row_number, reason FROM quarantine ORDER BY 1") == [
        (3, "duplicate incident_id 'a2' (first at row 2)"),
        (5, f"unreadable occurred_at 'yesterday' (expected {iso})"),
        (6, "missing incident_id"),
        (7, "coordinates out of range: lat '300', lon '114.4'"),
        (8, "7 fields, header has 11"),
    ]
    assert result.summary().startswith(f"{result.path}: imported incidents: 9 read = 4 kept + 5 quarantined + 0 merged; "
                                       "values not understood (kept as NULL): surface 1 (e.g. 'slippery'), vehicles 1")
    (raw,) = table(con, "SELECT raw FROM quarantine WHERE row_number = 5")[0]
    assert '"occurred_at": "yesterday"' in raw


def test_explicit_time_zone_wins(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    path = write(tmp_path / "x.csv", "incident_id,occurred_at,lat,lon\nb1,2024-07-01 12:00,51.5,-0.1\n"
                                     "b2,2024-07-02,51.5,-0.1\nb3,2024-07-03T12:00:00.5-0400,51.5,-0.1\n")
    import_incidents(con, SETTINGS, path, tz="Europe/London")
    # 1 July: British Summer Time, UTC+1; a date alone is local midnight; an offset is obeyed
    assert table(con, "SELECT occurred_at FROM incidents ORDER BY 1") == [
        (datetime(2024, 7, 1, 11, 0),), (datetime(2024, 7, 1, 23, 0),), (datetime(2024, 7, 3, 16, 0, 0, 500000),)]


def test_parquet_is_read_like_csv(tmp_path):
    frame = pd.DataFrame({"incident_id": ["p1", "p2"], "occurred_at": ["2024-01-20T03:00:00Z", "bad"],
                          "lat": [31.0, 31.1], "lon": [121.0, 121.1], "casualties": [2, 1],
                          "synthetic": [True, True]})
    path = tmp_path / "x.parquet"
    frame.to_parquet(path)
    con = connect(tmp_path / "x.duckdb")
    result = import_incidents(con, SETTINGS, path)
    assert (result.rows_kept, result.rows_quarantined) == (1, 1)
    assert table(con, "SELECT incident_id, occurred_at, casualties, synthetic FROM incidents") == [
        ("p1", datetime(2024, 1, 20, 3, 0), 2, True)]


POLICE_ZH = """事故编号,发生时间,经度,纬度,路线编号,事故等级,路面状况,天气,车辆数,伤亡人数
HB-2024-0001,2024-02-03 06:40,114.31,30.52,G4,重伤,结冰,冻雨,4,3
HB-2024-0002,2024-02-03 07:05,114.32,30.53,G4,财产损失,积雪,雪,2,0
"""


def test_a_gbk_police_export_with_chinese_headers(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    path = write(tmp_path / "police.csv", POLICE_ZH, encoding="gbk")
    result = import_incidents(con, SETTINGS, path, mapping="police-zh")
    assert result.rows_kept == 2
    # Asia/Shanghai is UTC+8
    assert table(con, "SELECT incident_id, occurred_at, road_ref, severity, surface, weather, casualties "
                      "FROM incidents ORDER BY 1") == [
        ("HB-2024-0001", datetime(2024, 2, 2, 22, 40), "G4", "serious", "ice", "freezing_rain", 3),
        ("HB-2024-0002", datetime(2024, 2, 2, 23, 5), "G4", "damage_only", "snow", "snow", 0),
    ]


STATS19 = """collision_index,collision_year,location_easting_osgr,location_northing_osgr,longitude,latitude,collision_severity,number_of_vehicles,number_of_casualties,date,time,first_road_class,first_road_number,weather_conditions,road_surface_conditions
2023010419141,2023,525060,170416,-0.202878,51.418861,3,1,1,01/01/2023,01:24,6,0,1,2
2023010419183,2023,535463,198745,NULL,NULL,2,3,2,15/07/2023,18:45,3,1010,2,4
2023010419189,2023,NULL,NULL,NULL,NULL,3,2,1,01/01/2023,02:25,1,25,9,1
"""


def test_the_stats19_preset(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    result = import_incidents(con, SETTINGS, write(tmp_path / "dft-road-casualty-statistics-collision-2023.csv",
                                                   STATS19), preset="stats19")
    assert (result.rows_kept, result.rows_quarantined) == (2, 1)
    rows = table(con, "SELECT incident_id, occurred_at, road_ref, severity, surface, weather, lat, lon "
                      "FROM incidents ORDER BY 1")
    # 1 January: GMT (UTC+0); 15 July: BST (UTC+1). Codes: DfT data guide.
    assert rows[0][:6] == ("2023010419141", datetime(2023, 1, 1, 1, 24), None, "slight", "wet", "clear")
    assert rows[1][:6] == ("2023010419183", datetime(2023, 7, 15, 17, 45), "A1010", "serious", "ice", "rain")
    # no lat/lon in the row: projected from its OSGB36 grid reference TQ 35463 98745 (Enfield, north London)
    assert rows[1][6] == pytest.approx(51.67, abs=0.01)
    assert rows[1][7] == pytest.approx(-0.04, abs=0.01)
    assert table(con, "SELECT row_number, reason FROM quarantine") == [(3, "missing coordinates")]


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("missing.csv", None, "no such file"),
    ("empty.csv", "", "empty file"),
    ("nocoords.csv", "incident_id,occurred_at\nx,2024-01-01T00:00Z\n", "missing required column lat and lon"),
    ("bad.parquet", "PAR1 not really", "unreadable Parquet file"),
])
def test_file_level_problems_fail_in_one_line_and_write_nothing(tmp_path, name, content, reason):
    path = tmp_path / name
    if content is not None:
        write(path, content)
    con = connect(tmp_path / "x.duckdb")
    with pytest.raises(WxriskError, match=reason) as error:
        import_incidents(con, SETTINGS, path)
    assert "\n" not in str(error.value) and str(error.value).startswith(str(path))
    assert table(con, "SELECT (SELECT count(*) FROM import_ledger) + (SELECT count(*) FROM quarantine)") == [(0,)]


def test_unknown_preset_and_bad_mapping_are_refused(tmp_path):
    path = write(tmp_path / "x.csv", GENERIC)
    con = connect(tmp_path / "x.duckdb")
    with pytest.raises(WxriskError, match="unknown incidents preset"):
        import_incidents(con, SETTINGS, path, preset="nope")
    mapping = write(tmp_path / "m.yaml", "columns: {Ref: accident_number}\n")
    with pytest.raises(WxriskError, match="'accident_number' is not a canonical incident column "
                                          r"\(valid: incident_id, occurred_at, date, time, hour, minute, tz, lat"):
        import_incidents(con, SETTINGS, path, mapping=mapping)


def test_an_id_already_imported_from_another_file_is_quarantined(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    header = "incident_id,occurred_at,lat,lon\n"
    import_incidents(con, SETTINGS, write(tmp_path / "a.csv", header + "z1,2024-01-01T00:00Z,30,114\n"))
    result = import_incidents(con, SETTINGS, write(tmp_path / "b.csv", header + "z1,2024-01-01T00:00Z,30,114\n"
                                                                              "z2,2024-01-01T00:00Z,30,114\n"))
    assert (result.rows_kept, result.rows_quarantined) == (1, 1)
    assert table(con, "SELECT row_number, reason FROM quarantine") == [
        (1, f"incident_id 'z1' already imported from {tmp_path / 'a.csv'}")]
