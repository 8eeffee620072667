"""The import contract on real rows: exact times, positions, sources, encodings, refusals and warnings."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from wxrisk.config import Settings, WxriskError
from wxrisk.incidents.coverage import weather_overlap_notice
from wxrisk.incidents.importer import import_incidents
from wxrisk.incidents.mapping import load_mapping, parse_mapping
from wxrisk.store import connect
from wxrisk.store.ledger import current_imports, remove_import

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
CLIP = REAL / "leeds-stats19-decoded-clip.csv"
SETTINGS = Settings()  # Asia/Shanghai: presets bring their own zone


def clip() -> pd.DataFrame:
    return pd.read_csv(CLIP, dtype=str, keep_default_na=False)


def save(frame: pd.DataFrame, path: Path, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, **options)
    return path


def stored(con, column: str = "occurred_at") -> dict:
    return dict(con.execute(f"SELECT incident_id, {column} FROM incidents").fetchall())


@pytest.fixture
def con(tmp_path):
    connection = connect(tmp_path / "x.duckdb")
    yield connection
    connection.close()


def test_per_row_time_zones_iana_us_style_and_offsets(con, tmp_path):
    path = tmp_path / "us.csv"
    path.write_text("ID,Start_Time,Lat,Lng,Timezone\n"
                    "A-1,2016-02-08 05:46:00,39.86,-84.05,US/Eastern\n"
                    "A-2,2016-07-08 06:07:59,34.05,-118.25,America/Los_Angeles\n"
                    "A-3,2016-07-08 06:07:59,34.05,-118.25,+05:30\n"
                    "A-4,2016-07-08 06:07:59,34.05,-118.25,UTC-3\n"
                    "A-5,2016-07-08 06:07:59,34.05,-118.25,\n", encoding="utf-8")
    mapping = tmp_path / "us.yaml"
    mapping.write_text("columns: {ID: incident_id, Start_Time: occurred_at, Lat: lat, Lng: lon, Timezone: tz}\n"
                       "timezone: Europe/London\n", encoding="utf-8")
    import_incidents(con, SETTINGS, path, mapping=mapping)
    # EST is UTC-5 in February; PDT UTC-7 in July; fixed offsets as written; an empty zone: the
    # file's Europe/London (BST, UTC+1, in July)
    assert stored(con) == {"A-1": datetime(2016, 2, 8, 10, 46), "A-2": datetime(2016, 7, 8, 13, 7, 59),
                           "A-3": datetime(2016, 7, 8, 0, 37, 59), "A-4": datetime(2016, 7, 8, 9, 7, 59),
                           "A-5": datetime(2016, 7, 8, 5, 7, 59)}


def test_hour_and_minute_columns_give_the_same_times_as_the_time_column(con, tmp_path):
    frame = clip()
    import_incidents(con, SETTINGS, CLIP, preset="stats19-decoded")
    from_time = stored(con)
    frame["Hour"], frame["Minute"] = frame["time"].str[:2].astype(int).astype(str), frame["time"].str[3:]
    mapping = tmp_path / "hm.yaml"
    mapping.write_text("base: stats19-decoded\ncolumns: {Hour: hour, Minute: minute}\noptional: [time]\n")
    other = connect(tmp_path / "y.duckdb")
    result = import_incidents(other, SETTINGS, save(frame.drop(columns=["time"]), tmp_path / "hm.csv"),
                              mapping=mapping)
    assert stored(other) == from_time
    assert result.details["absent_optional"] == ["time"]


def test_an_out_of_range_latitude_falls_back_to_the_grid_reference(con, tmp_path):
    frame = clip()
    original = frame.loc[:4, ["accident_index", "latitude", "longitude"]].copy()
    frame.loc[:4, "latitude"] = "153.7"
    result = import_incidents(con, SETTINGS, save(frame, tmp_path / "c.csv"), preset="stats19-decoded")
    assert (result.rows_kept, result.details["positions_from_grid"]) == (272, 5)
    assert "5 rows with lat/lon out of range (e.g. lat 153.7" in result.summary()
    lat = stored(con, "lat")
    for incident_id, true_lat in zip(original["accident_index"], original["latitude"], strict=True):
        # the grid reference is given to 1 m and lat/lon to 1e-6 deg: they agree within ~0.0001 deg
        assert lat[incident_id] == pytest.approx(float(true_lat), abs=2e-4)


def test_same_name_in_two_folders_is_two_sources_and_same_bytes_elsewhere_is_unchanged(con, tmp_path):
    frame = clip()
    first = save(frame[frame["accident_year"] == "2019"], tmp_path / "2019" / "accidents.csv")
    second = save(frame[frame["accident_year"] == "2020"], tmp_path / "2020" / "accidents.csv")
    import_incidents(con, SETTINGS, first, preset="stats19-decoded")
    assert import_incidents(con, SETTINGS, second, preset="stats19-decoded").status == "imported"
    expected = int((frame["accident_year"].isin(["2019", "2020"])).sum())
    assert con.execute("SELECT count(*) FROM incidents").fetchone() == (expected,)
    copy = tmp_path / "copy" / "accidents.csv"
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    again = import_incidents(con, SETTINGS, copy, preset="stats19-decoded")
    assert again.status == "unchanged" and str(first) in again.summary()


def test_a_fixed_time_zone_reimports_and_replaces_in_one_go(con, tmp_path):
    path = save(clip(), tmp_path / "c.csv")
    first = import_incidents(con, SETTINGS, path, preset="stats19-decoded", tz="UTC")
    before = stored(con)
    second = import_incidents(con, SETTINGS, path, preset="stats19-decoded")  # the preset's Europe/London
    after = stored(con)
    assert (first.status, second.status) == ("imported", "replaced")
    assert set(before) == set(after)
    shifts = {(before[i] - after[i]).total_seconds() / 3600 for i in before}
    assert shifts == {0.0, 1.0}  # GMT rows unchanged, BST rows one hour earlier in UTC
    assert con.execute("SELECT count(DISTINCT import_id) FROM incidents").fetchone() == (1,)
    assert import_incidents(con, SETTINGS, path, preset="stats19-decoded", tz="UTC").status == "replaced"


def test_remove_deletes_a_source_and_its_quarantine_and_a_reimport_imports_afresh(con, tmp_path):
    frame = pd.concat([clip(), clip().iloc[:2]], ignore_index=True)  # two duplicate rows: quarantined
    path = save(frame, tmp_path / "c.csv")
    first = import_incidents(con, SETTINGS, path, preset="stats19-decoded")
    assert first.rows_quarantined == 2
    removed = remove_import(con, str(path))
    assert removed.summary() == f"{path}: removed incidents import {first.import_id} (272 rows deleted)"
    assert con.execute("SELECT (SELECT count(*) FROM incidents) + (SELECT count(*) FROM quarantine)").fetchone() == (0,)
    assert current_imports(con) == []
    assert import_incidents(con, SETTINGS, path, preset="stats19-decoded").status == "imported"
    with pytest.raises(WxriskError, match="no current import of that id, path or source"):
        remove_import(con, str(tmp_path / "never.csv"))


def test_replace_names_the_earlier_source(con, tmp_path):
    old = save(clip(), tmp_path / "downloads" / "c.csv")
    new = save(clip().iloc[:-10], tmp_path / "data" / "c.csv")
    import_incidents(con, SETTINGS, old, preset="stats19-decoded")
    with pytest.raises(WxriskError, match=f"already imported from {old}.*--replace {old}"):
        import_incidents(con, SETTINGS, new, preset="stats19-decoded")
    result = import_incidents(con, SETTINGS, new, preset="stats19-decoded", replace=str(old))
    assert (result.rows_kept, result.details["replaced_source"]) == (262, str(old))
    assert [c.path for c in current_imports(con)] == [str(new)]


def test_encodings_utf8_gb18030_found_latin1_asked_for(con, tmp_path):
    text = "incident_id,occurred_at,lat,lon,surface\nc1,2024-01-05 08:00,48.85,2.35,Glätte\n" \
           "c2,2024-01-05 09:00,48.85,2.35,Glätte\n"
    mapping = tmp_path / "de.yaml"
    mapping.write_text("codes: {surface: {Glätte: ice}}\n", encoding="utf-8")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(text.encode("latin-1"))
    with pytest.raises(WxriskError, match=r"cannot tell the text encoding: byte 73 \(line 2.*--encoding latin-1"):
        import_incidents(con, SETTINGS, latin1, mapping=mapping)
    result = import_incidents(con, SETTINGS, latin1, mapping=mapping, encoding="latin-1")
    assert stored(con, "surface") == {"c1": "ice", "c2": "ice"}
    assert result.details["encoding"] == "latin-1"
    with pytest.raises(WxriskError, match="not utf-8 text: byte 73"):
        import_incidents(con, SETTINGS, latin1, mapping=mapping, encoding="utf-8")
    chinese = tmp_path / "zh.csv"
    chinese.write_bytes("incident_id,occurred_at,lat,lon,surface\nz1,2024-02-03 06:40,30.5,114.3,结冰\n"
                        .encode("gb18030"))
    assert import_incidents(con, SETTINGS, chinese).details["encoding"] == "gb18030"


def test_one_month_beyond_12_in_the_day_position_refuses_the_whole_file(con, tmp_path):
    rows = "".join(f"r{d},{d:02d}/03/2019,1200,430000,433000\n" for d in range(1, 11))
    path = tmp_path / "a.csv"
    path.write_text("Reference Number,Accident Date,Time (24hr),Grid Ref: Easting,Grid Ref: Northing\n" + rows
                    + "r99,03/25/2019,1200,430000,433000\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("base: stats19\ncolumns: {Reference Number: incident_id, Accident Date: date, "
                       "Time (24hr): time, 'Grid Ref: Easting': easting, 'Grid Ref: Northing': northing}\n"
                       "time_format: hhmm\noptional: [severity, surface, weather, vehicles, casualties]\n")
    with pytest.raises(WxriskError, match=r"date '03/25/2019' \(row 11\) does not fit %d/%m/%Y .* but fits "
                                          r"%m/%d/%Y .*other way round"):
        import_incidents(con, SETTINGS, path, mapping=mapping)
    assert con.execute("SELECT count(*) FROM import_ledger").fetchone() == (0,)


def test_a_semicolon_file_with_decimal_commas(con, tmp_path):
    path = tmp_path / "fr.csv"
    path.write_text("incident_id;occurred_at;lat;lon\nf1;2024-01-05T08:00:00+01:00;48,8566;2,3522\n",
                    encoding="utf-8")
    result = import_incidents(con, SETTINGS, path)
    assert result.details["delimiter"] == ";"
    assert con.execute("SELECT lat, lon FROM incidents").fetchone() == (48.8566, 2.3522)


def test_a_missing_required_column_names_the_delimiter_and_headers(con, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("id|when|y|x\n1|2024-01-01|30|114\n", encoding="utf-8")
    with pytest.raises(WxriskError, match=r"missing required column incident_id .*headers seen \(pipe-delimited\): "
                                          r"'id', 'when', 'y', 'x'"):
        import_incidents(con, SETTINGS, path)


def test_the_summary_adds_up_and_names_what_was_lost(con, tmp_path):
    frame = clip()
    frame.loc[0, "road_surface_conditions"] = "Slippery"
    frame.loc[1, "number_of_vehicles"] = "two"
    frame = pd.concat([frame, frame.iloc[[5]]], ignore_index=True)
    result = import_incidents(con, SETTINGS, save(frame, tmp_path / "c.csv"), preset="stats19-decoded")
    line = result.summary().splitlines()[0]
    assert "273 read = 272 kept + 1 quarantined + 0 merged" in line
    assert "values not understood (kept as NULL): surface 1 (e.g. 'Slippery'), vehicles 1 (e.g. 'two')" in line


def test_a_constant_surface_while_weather_varies_is_named(con, tmp_path):
    frame = clip()
    frame["road_surface_conditions"] = "Dry"
    result = import_incidents(con, SETTINGS, save(frame, tmp_path / "c.csv"), preset="stats19-decoded")
    assert any(w.startswith("surface is 'dry' on every one of 272 rows while weather varies")
               for w in result.details["warnings"])
    assert import_incidents(connect(tmp_path / "y.duckdb"), SETTINGS, CLIP, preset="stats19-decoded"
                            ).details["warnings"] == []


def test_lat_lon_swapped_against_the_road_network_are_refused(con, tmp_path):
    con.execute("INSERT INTO segments (segment_id, source, km_from, km_to, length_km, lon, lat, path_json) "
                "VALUES ('s1', 'roads:x', 0, 1, 1, -1.55, 53.8, '[[-1.555, 53.8], [-1.545, 53.8]]')")
    path = tmp_path / "swapped.csv"
    rows = "".join(f"s{i},2024-01-05T08:00:00Z,-1.5{i},53.8{i}\n" for i in range(6))
    path.write_text("incident_id,occurred_at,lat,lon\n" + rows, encoding="utf-8")
    with pytest.raises(WxriskError, match="lat and lon look swapped: 100% of positions fall inside the road network"):
        import_incidents(con, SETTINGS, path)


@pytest.mark.parametrize(("text", "message"), [
    ("columns: [a, b]\n", "columns must be a dictionary"),
    ("- a\n", "a mapping file is a YAML dictionary of keys"),
    ("colums: {a: incident_id}\n", r"unknown mapping keys \['colums'\] \(valid keys: description, base, columns"),
    ("columns: {a: id}\n", r"'id' is not a canonical incident column \(valid: incident_id, occurred_at"),
    ("codes: {surface: {1: icy_road}}\n", "not one of dry, wet, snow, ice, frost, slush, flood, unknown"),
    ("codes: {road_ref: {1: x}}\n", "codes given for road_ref, which takes no codes"),
    ("timezone: Europe/Lodnon\n", "timezone Europe/Lodnon: unknown time zone"),
    ("duplicate_ids: collapse\n", "duplicate_ids: collapse .use quarantine or merge."),
    ("casualties_from_rows: true\n", "casualties_from_rows needs duplicate_ids: merge"),
    ("base: stats20\n", "base: stats20 is not a preset"),
    ("delimiter: ';;'\n", "delimiter must be one character"),
    ("columns: {a: incident_id\n", "not valid YAML"),
])
def test_mapping_mistakes_are_one_line_errors(text, message):
    with pytest.raises(WxriskError, match=message) as error:
        parse_mapping("m.yaml", text)
    assert "\n" not in str(error.value) and str(error.value).startswith("m.yaml: ")


def test_a_preset_can_be_extended_by_a_mapping():
    extended = parse_mapping("us.yaml", 'base: stats19-decoded\ndate_format: "%m/%d/%Y"\ncodes: {surface: {Ice: ice}}\n')
    preset = load_mapping("stats19-decoded")
    assert extended.date_format == "%m/%d/%Y" and extended.columns == preset.columns
    assert extended.codes["surface"] == {**preset.codes["surface"], "ice": "ice"}
    assert extended.codes["weather"] == preset.codes["weather"]


def test_weather_overlap_notice_names_both_windows(con):
    assert "no incident history imported yet" in weather_overlap_notice(con, "2019-03-01T00:00:00", "2019-03-31T23:00:00")
    import_incidents(con, SETTINGS, CLIP, preset="stats19-decoded")
    assert weather_overlap_notice(con, "2019-03-01T00:00:00", "2019-03-31T23:00:00") is None
    notice = weather_overlap_notice(con, "2030-01-01T00:00:00", "2030-01-31T23:00:00")
    assert notice == ("this weather (2030-01-01 to 2030-01-31) overlaps no incident history (incidents 2019-01-17 "
                      "to 2023-12-16): a model cannot learn from it")
