"""The incidents importer on the real Leeds City Council file (one row per casualty)."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from wxrisk.config import Settings, WxriskError
from wxrisk.incidents.importer import import_incidents, rematch_incidents
from wxrisk.roads.importer import import_roads
from wxrisk.store import connect

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
LEEDS_CSV = REAL / "leeds-accidents-2019.csv"
LEEDS_ROADS = REAL / "leeds-roads.geojson"
LEEDS_MAPPING = Path(__file__).resolve().parents[2] / "src" / "wxrisk" / "incidents" / "mappings" / "leeds.yaml"
SETTINGS = Settings()  # Asia/Shanghai: the Leeds mapping must bring its own Europe/London


def table(con, sql: str, params=()):
    return con.execute(sql, list(params)).fetchall()


def casualty_rows() -> list[dict]:
    """The file read independently with the csv module."""
    with open(LEEDS_CSV, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def first_row_per_accident() -> dict[str, dict]:
    """The first casualty row of each accident."""
    first: dict[str, dict] = {}
    for row in casualty_rows():
        first.setdefault(row["Reference Number"], row)
    return first


@pytest.fixture(scope="module")
def leeds(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("leeds") / "x.duckdb")
    result = import_incidents(con, SETTINGS, LEEDS_CSV, mapping="leeds")
    yield con, result
    con.close()


def test_1907_casualty_rows_become_about_1450_incidents(leeds):
    con, result = leeds
    # NOTICE.md: 1,907 casualty rows, about 1,450 accidents (1,450 distinct Reference Numbers)
    assert (result.rows_read, result.rows_kept, result.rows_quarantined) == (1907, 1450, 0)
    assert result.details["rows_merged"] == 1907 - 1450
    assert table(con, "SELECT count(*), sum(casualties) FROM incidents") == [(1450, 1907)]
    # 58F1730 has seven casualty rows in the file, all slight (Casualty Severity 3)
    assert table(con, "SELECT casualties, severity, vehicles, road_ref FROM incidents "
                      "WHERE incident_id = '58F1730'") == [(7, "slight", 2, "A6120")]
    # an accident's severity is its worst casualty's: 22 fatal casualty rows (Casualty Severity 1)
    fatal = {row["Reference Number"] for row in casualty_rows() if row["Casualty Severity"] == "1"}
    assert table(con, "SELECT count(*) FROM incidents WHERE severity = 'fatal'") == [(len(fatal),)]


def test_surface_codes_are_mapped(leeds):
    con, _ = leeds
    # STATS19 Road Surface codes (DfT data guide): 1 dry, 2 wet or damp, 3 snow, 4 frost or ice, 5 flood, 9 unknown
    names = {"1": "dry", "2": "wet", "3": "snow", "4": "ice", "5": "flood", "9": "unknown"}
    expected = Counter(names[row["Road Surface"]] for row in first_row_per_accident().values())
    assert dict(table(con, "SELECT surface, count(*) FROM incidents GROUP BY 1")) == expected
    assert expected["ice"] == 14 and expected["snow"] == 3 and expected["flood"] == 3


def test_local_times_are_stored_in_utc(leeds):
    con, _ = leeds
    # 58F1730: 15/08/2019 at 1812 British Summer Time (UTC+1); 6111674: 01/01/2019 at 1505 GMT (UTC+0)
    assert table(con, "SELECT occurred_at FROM incidents WHERE incident_id = '58F1730'") == [
        (datetime(2019, 8, 15, 17, 12),)]
    assert table(con, "SELECT occurred_at FROM incidents WHERE incident_id = '6111674'") == [
        (datetime(2019, 1, 1, 15, 5),)]


def test_grid_references_become_lat_lon_inside_leeds(leeds):
    con, _ = leeds
    # Leeds metropolitan district lies within about 53.70-53.95°N, 1.80-1.29°W (Ordnance Survey maps)
    (lat_min, lat_max, lon_min, lon_max) = table(con, "SELECT min(lat), max(lat), min(lon), max(lon) FROM incidents")[0]
    assert lat_min > 53.70 and lat_max < 53.95
    assert lon_min > -1.80 and lon_max < -1.29


def test_same_file_twice_changes_nothing(leeds):
    con, first = leeds
    again = import_incidents(con, SETTINGS, LEEDS_CSV, mapping=LEEDS_MAPPING)
    assert again.status == "unchanged" and again.import_id == first.import_id
    assert table(con, "SELECT count(*) FROM incidents") == [(1450,)]
    assert table(con, "SELECT count(*) FROM import_ledger") == [(1,)]


def test_a_modified_file_at_the_same_path_replaces(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    export = tmp_path / LEEDS_CSV.name
    export.write_bytes(LEEDS_CSV.read_bytes())
    import_incidents(con, SETTINGS, export, mapping="leeds")
    lines = LEEDS_CSV.read_bytes().splitlines(keepends=True)
    export.write_bytes(b"".join(lines[:101]))  # header + the first 100 casualty rows
    result = import_incidents(con, SETTINGS, export, mapping="leeds")
    expected = len({line.split(b",")[0] for line in lines[1:101]})
    assert result.status == "replaced"
    assert table(con, "SELECT count(*), count(DISTINCT import_id) FROM incidents") == [(expected, 1)]


def test_a_truncated_csv_fails_in_one_line_and_writes_nothing(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    cut = tmp_path / LEEDS_CSV.name
    cut.write_bytes(LEEDS_CSV.read_bytes()[:70_000])
    with pytest.raises(WxriskError) as error:
        import_incidents(con, SETTINGS, cut, mapping="leeds")
    message = str(error.value)
    assert "\n" not in message and message.startswith(str(cut)) and "truncated" in message
    assert table(con, "SELECT (SELECT count(*) FROM incidents) + (SELECT count(*) FROM import_ledger) "
                      "+ (SELECT count(*) FROM quarantine)") == [(0,)]


def test_without_the_mapping_the_leeds_file_is_refused(tmp_path):
    with pytest.raises(WxriskError, match="missing required column incident_id"):
        import_incidents(connect(tmp_path / "x.duckdb"), SETTINGS, LEEDS_CSV)


def test_matching_to_the_leeds_roads_and_rematch_after_a_roads_import(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    before = import_incidents(con, SETTINGS, LEEDS_CSV, mapping="leeds")
    assert before.details["unmatched"] == 1450  # no roads yet
    import_roads(con, SETTINGS, LEEDS_ROADS)
    matched = rematch_incidents(con, SETTINGS)
    assert table(con, "SELECT count(segment_id), max(match_distance_m) FROM incidents")[0][0] == matched
    # The roads file covers central Leeds only (A/B roads, no unclassified streets), the accidents the
    # whole district; inside the network's extent most accidents on numbered roads find their road.
    # 251 of 1,450 (17 %) at 100 m when written; 238 at 50 m, 374 at 500 m: positions are good, the
    # low rate is coverage (1,005 of the 1,907 casualty rows are on unclassified roads, and no motorways).
    assert 200 < matched < 300
    (median_m,) = table(con, "SELECT median(match_distance_m) FROM incidents")[0]
    assert median_m < 30
    same_road = table(con, """
        SELECT count(*) FILTER (WHERE s.road_ref = i.road_ref), count(*)
        FROM incidents i JOIN segments s USING (segment_id) WHERE i.road_ref IS NOT NULL AND s.road_ref IS NOT NULL""")[0]
    assert same_road[0] / same_road[1] > 0.8
