"""Open-Meteo point series: real Leeds file through the command line, then its rules on small files.

The series is stored once per point and reaches the segments through the nearest-station map
(`weather_rows`), temperature lapse-adjusted where the road's height is known.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from wxrisk.config import Settings, WxriskError
from wxrisk.store import connect
from wxrisk.weather.importer import import_weather

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
LEEDS_POINT = REAL / "openmeteo_leeds_53.81N_1.56W_48m_2019-2024_hourly.csv.gz"
LEEDS_ROADS = REAL / "leeds-roads.geojson"
METADATA = "latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation\n{lat},{lon},{ele},0,GMT,GMT\n\n"
HEADER = "time,temperature_2m (°C),precipitation (mm),snowfall (cm),wind_speed_10m (km/h),dew_point_2m (°C)\n"


def cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wxrisk.cli", *args, "--db", str(db)], capture_output=True,
                          text=True, env={**os.environ, "WXRISK_TZ": "Europe/London"}, timeout=300)


@pytest.fixture(scope="module")
def leeds_db(tmp_path_factory):
    """Central Leeds roads plus the Open-Meteo point, imported with the command line only."""
    db = tmp_path_factory.mktemp("leeds-point") / "wx.duckdb"
    roads = cli(db, "import", "roads", str(LEEDS_ROADS))
    weather = cli(db, "import", "weather", str(LEEDS_POINT))
    assert roads.returncode == 0 and weather.returncode == 0, roads.stderr + weather.stderr
    return db, weather.stdout


def test_leeds_segment_hours_of_2024_carry_the_files_temperatures(leeds_db):
    db, _ = leeds_db
    point = pd.read_csv(LEEDS_POINT, parse_dates=["time"])
    point = point[point["time"].dt.year == 2024].set_index("time")["temperature_2m (°C)"]
    with connect(db, read_only=True) as con:
        n_segments = con.execute("SELECT count(*) FROM segments").fetchone()[0]
        rows = con.execute("SELECT segment_id, valid_time, t2m_c FROM weather_rows "
                           "WHERE valid_time >= '2024-01-01' AND valid_time < '2025-01-01'").df()
    assert n_segments == 1122 and len(rows) == n_segments * 8784 == n_segments * len(point)
    expected = point.reindex(rows["valid_time"]).to_numpy()
    assert abs(rows["t2m_c"].to_numpy() - expected).max() < 1e-4, "every segment-hour is the file's value (UTC)"
    coldest = rows.loc[rows["t2m_c"].idxmin()]
    assert coldest["t2m_c"] == pytest.approx(-4.2) and coldest["valid_time"].date().isoformat() == "2024-01-17"


def test_the_point_is_stored_once_not_per_segment(leeds_db):
    db, out = leeds_db
    with connect(db, read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM station_hourly").fetchone()[0]
        fanned = con.execute("SELECT count(*) FROM weather_hourly").fetchone()[0]
        details = json.loads(con.execute("SELECT details FROM import_ledger WHERE kind = 'weather'").fetchone()[0])
    assert stored == 52608 and fanned == 0
    assert details["segments_served"] == 1122 and details["segments_beyond_reach"] == 0
    assert details["position_from"] == "file name" and details["stations"][0]["elevation_m"] == 48.0
    assert details["missing_variables"] == ["skt_c", "ptype", "vis_m"]
    assert "1122 of 1122 segments within 25 km, 0 beyond" in out


def test_units_converted_once_at_the_boundary(leeds_db):
    db, _ = leeds_db
    raw = pd.read_csv(LEEDS_POINT, parse_dates=["time"]).set_index("time")
    with connect(db, read_only=True) as con:
        stored = con.execute("SELECT valid_time, snowfall_mm, wind_ms, precip_mm FROM station_hourly").df()
    stored = stored.set_index("valid_time")
    snowy = raw.index[raw["snowfall (cm)"] > 0]
    assert len(snowy) > 10
    # Open-Meteo: 7 cm of snow = 10 mm of water; 3.6 km/h = 1 m/s; mm stay mm.
    assert stored.loc[snowy, "snowfall_mm"].to_numpy() == pytest.approx(raw.loc[snowy, "snowfall (cm)"] / 0.7, rel=1e-5)
    assert stored["wind_ms"].to_numpy() == pytest.approx(raw["wind_speed_10m (km/h)"].to_numpy() / 3.6, rel=1e-5)
    assert stored["precip_mm"].sum() == pytest.approx(raw["precipitation (mm)"].sum(), rel=1e-5)


def test_same_bytes_unchanged_other_reach_imported_again(leeds_db, tmp_path):
    db, _ = leeds_db
    again = cli(db, "import", "weather", str(LEEDS_POINT))
    assert again.returncode == 0 and "unchanged" in again.stdout
    other = cli(db, "import", "weather", str(LEEDS_POINT), "--max-km", "2")
    assert other.returncode == 0 and "replaced weather" in other.stdout, other.stdout + other.stderr
    assert " beyond (no weather from it)" in other.stdout
    with connect(db) as con:
        served, farthest = con.execute("SELECT count(*), max(distance_km) FROM segment_station").fetchone()
        rows = con.execute("SELECT count(*) FROM station_hourly").fetchone()[0]
        beyond = json.loads(con.execute("SELECT details FROM import_ledger ORDER BY import_id DESC").fetchone()[0])
        assert farthest <= 2.0 and 0 < served < 1122 and rows == 52608
        assert beyond["segments_beyond_reach"] == 1122 - served
        con.execute("DELETE FROM import_ledger WHERE import_id = (SELECT max(import_id) FROM import_ledger)")
    back = cli(db, "import", "weather", str(LEEDS_POINT))  # restore the 25 km map for other tests
    assert back.returncode == 0


def small_db(tmp_path, segments: dict[str, tuple[float, float, float | None]]):
    con = connect(tmp_path / "wx.duckdb")
    con.executemany("INSERT INTO segments (segment_id, source, km_from, km_to, length_km, lon, lat, elevation_m, "
                    "path_json) VALUES (?, 'test', 0, 1, 1, ?, ?, ?, '[]')",
                    [(sid, lon, lat, ele) for sid, (lon, lat, ele) in segments.items()])
    return con


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_metadata_lines_give_the_position_and_heights_adjust_temperature(tmp_path):
    con = small_db(tmp_path, {"low": (10.0, 50.0, 100.0), "high": (10.01, 50.0, 600.0), "unknown": (10.0, 50.01, None),
                              "far": (11.0, 50.0, 100.0)})
    rows = "".join(f"2024-01-01T{h:02d}:00,1.0,0.5,0.7,36,0.5\n" for h in range(3))
    path = write(tmp_path / "point.csv", METADATA.format(lat=50.0, lon=10.0, ele=100.0) + HEADER + rows)
    [result] = import_weather(con, Settings(), path)
    assert result.details["position_from"] == "metadata lines"
    got = dict(con.execute("SELECT segment_id, t2m_c FROM weather_rows WHERE hour(valid_time) = 0").fetchall())
    # ICAO standard atmosphere: -6.5 K per km; the `high` road is 500 m above the point.
    assert got == pytest.approx({"low": 1.0, "high": 1.0 - 3.25, "unknown": 1.0})
    dew = dict(con.execute("SELECT segment_id, d2m_c FROM weather_rows WHERE hour(valid_time) = 0").fetchall())
    assert dew["high"] == pytest.approx(1.0 - 3.25), "dew point capped at the adjusted temperature"
    assert result.details["segments_beyond_reach"] == 1 and result.details["segments_height_adjusted"] == 2
    snow, wind = con.execute("SELECT DISTINCT snowfall_mm, wind_ms FROM station_hourly").fetchone()
    assert snow == pytest.approx(1.0) and wind == pytest.approx(10.0)


def test_a_point_without_a_position_is_refused(tmp_path):
    con = small_db(tmp_path, {"s": (10.0, 50.0, None)})
    path = write(tmp_path / "point.csv", HEADER + "2024-01-01T00:00,1,0,0,3.6,0\n")
    with pytest.raises(WxriskError, match=r"point.csv: where is this point\?.*--station lon,lat"):
        import_weather(con, Settings(), path)
    assert con.execute("SELECT count(*) FROM station_hourly").fetchone()[0] == 0
    [result] = import_weather(con, Settings(), path, station="10.0,50.0,80")
    assert result.details["position_from"] == "--station" and result.details["stations"][0]["elevation_m"] == 80.0


def test_a_station_option_far_from_the_metadata_is_refused(tmp_path):
    con = small_db(tmp_path, {"s": (10.0, 50.0, None)})
    path = write(tmp_path / "point.csv", METADATA.format(lat=50.0, lon=10.0, ele=5) + HEADER + "2024-01-01T00:00,1,0,0,3.6,0\n")
    with pytest.raises(WxriskError, match="disagrees with the file's metadata"):
        import_weather(con, Settings(), path, station="12.0,50.0")


def test_bad_values_are_quarantined_and_absent_hours_named(tmp_path):
    con = small_db(tmp_path, {"s": (10.0, 50.0, None)})
    rows = ("2024-01-01T00:00,1,0,0,3.6,0\n"
            "2024-01-01T01:00,abc,0,0,3.6,0\n"      # not a number
            "2024-01-01T02:00,300,0,0,3.6,0\n"      # 300 °C: impossible (a unit mislabelled?)
            "2024-01-01T05:00,,0,0,3.6,0\n")        # 01-04 absent (two rejected); 05 has no temperature
    path = write(tmp_path / "point.csv", METADATA.format(lat=50.0, lon=10.0, ele=5) + HEADER + rows)
    [result] = import_weather(con, Settings(), path)
    assert (result.rows_read, result.rows_kept, result.rows_quarantined) == (4, 2, 2)
    reasons = [r[0] for r in con.execute("SELECT reason FROM quarantine ORDER BY row_number").fetchall()]
    assert "not a number" in reasons[0] and "outside" in reasons[1]
    gaps = result.details["gaps"]
    assert gaps["absent_steps"] == 4 and gaps["absent_ranges"][0] == "2024-01-01T01:00:00/2024-01-01T04:00:00"
    assert gaps["empty_values"] == {"t2m_c": 1}
    assert con.execute("SELECT count(*) FROM station_hourly").fetchone()[0] == 2, "no hour is filled in"


@pytest.mark.parametrize(("text", "message"), [
    (HEADER + "2024-01-01T00:00,1,0,0,3.6,0\n2024-01-01T00:00,2,0,0,3.6,0\n", "repeat a station and time"),
    (HEADER + "yesterday,1,0,0,3.6,0\n", "row 1: time 'yesterday' is not ISO 8601"),
    ("time,temperature_2m,precipitation (mm)\n2024-01-01T00:00,1,0\n", "has no unit"),
    ("time,temperature_2m (furlongs)\n2024-01-01T00:00,1\n", "unknown unit 'furlongs' for t2m_c"),
    ("time,cloud_cover (%)\n2024-01-01T00:00,1\n", "none of the known Open-Meteo variables"),
])
def test_broken_files_are_refused_in_one_line_and_write_nothing(tmp_path, text, message):
    con = small_db(tmp_path, {"s": (10.0, 50.0, None)})
    path = write(tmp_path / "p_50.0N_10.0E_.csv", text)
    with pytest.raises(WxriskError, match=message):
        import_weather(con, Settings(), path)
    assert con.execute("SELECT count(*) FROM import_ledger").fetchone()[0] == 0


def test_local_times_of_the_metadata_zone_become_utc(tmp_path):
    con = small_db(tmp_path, {"s": (-1.5, 53.8, None)})
    meta = ("latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation\n"
            "53.8,-1.5,48,3600,Europe/London,BST\n\n")
    path = write(tmp_path / "point.csv", meta + HEADER + "2024-07-01T09:00,20,0,0,3.6,10\n")
    import_weather(con, Settings(), path)
    assert str(con.execute("SELECT valid_time FROM station_hourly").fetchone()[0]) == "2024-07-01 08:00:00"


def test_two_points_each_segment_takes_its_nearest(tmp_path):
    con = small_db(tmp_path, {"west": (10.02, 50.0, None), "east": (10.18, 50.0, None)})
    meta = ("location_id,latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation\n"
            "0,50.0,10.0,10,0,GMT,GMT\n1,50.0,10.2,10,0,GMT,GMT\n\n")
    table = "location_id," + HEADER + "0,2024-01-01T00:00,1,0,0,3.6,0\n1,2024-01-01T00:00,5,0,0,3.6,0\n"
    path = write(tmp_path / "two.csv", meta + table)
    import_weather(con, Settings(), path)
    got = dict(con.execute("SELECT segment_id, t2m_c FROM weather_rows").fetchall())
    assert got == {"west": 1.0, "east": 5.0}


def test_one_id_at_two_places_is_refused(tmp_path):
    con = small_db(tmp_path, {"s": (10.0, 50.0, None)})
    first = write(tmp_path / "a.csv", HEADER + "2024-01-01T00:00,1,0,0,3.6,0\n")
    second = write(tmp_path / "b.csv", HEADER + "2024-01-01T01:00,1,0,0,3.6,0\n")
    import_weather(con, Settings(), first, station="10.0,50.0,10")
    with pytest.raises(WxriskError, match="one id, two places"):
        import_weather(con, Settings(), second, station="10.0,50.0,400")


def test_gzipped_and_plain_files_read_alike(tmp_path):
    con = small_db(tmp_path, {"s": (10.0, 50.0, None)})
    text = METADATA.format(lat=50.0, lon=10.0, ele=5) + HEADER + "2024-01-01T00:00,1.5,0,0,3.6,0\n"
    packed = tmp_path / "point.csv.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    [result] = import_weather(con, Settings(), packed)
    assert result.status == "imported" and con.execute("SELECT t2m_c FROM weather_rows").fetchone()[0] == 1.5


def test_station_options_on_a_grid_are_refused(tmp_path):
    con = small_db(tmp_path, {"s": (-1.5, 53.8, None)})
    with pytest.raises(WxriskError, match="--station apply to station and point files"):
        import_weather(con, Settings(), REAL / "era5-2mt-2019-03-uk.grib", station="1,2")


def test_roads_imported_after_the_point_are_mapped_again(tmp_path):
    db = tmp_path / "wx.duckdb"
    point = write(tmp_path / "p.csv", HEADER + "2024-01-01T00:00,1,0,0,3.6,0\n")
    first = cli(db, "import", "roads", str(LEEDS_ROADS))
    weather = cli(db, "import", "weather", str(point), "--station", "-1.55,53.80")
    with connect(db) as con:
        con.execute("DELETE FROM segment_station")
        con.execute("DELETE FROM import_ledger WHERE kind = 'roads'")
    again = cli(db, "import", "roads", str(LEEDS_ROADS))
    assert first.returncode == weather.returncode == again.returncode == 0, again.stderr
    assert "hourly weather stations re-mapped: 1122 segments served" in again.stdout


def test_the_bench_counts_stored_and_fanned_out_rows(tmp_path):
    from wxrisk.weather.bench import run

    rows = "".join(f"2022-12-01T{h:02d}:00,1.0,0.5,0.7,36,0.5\n" for h in range(24))
    point = write(tmp_path / "p_53.81N_1.56W_48m.csv", HEADER + rows)
    figures = dict(run(LEEDS_ROADS, point, "2022-12", fan_out=True))
    assert figures["segments"] == "1,122" and figures["station-hours stored"] == "24"
    assert figures["fanned out: rows"] == f"{1122 * 24:,}"
    assert figures["build_features 2022-12, all segments"].startswith(f"{1122 * 744:,} segment-hours")


def test_an_analysts_damaged_copies_are_refused_or_named(tmp_path):
    con = small_db(tmp_path, {"s": (-1.56, 53.81, None)})
    data = gzip.decompress(LEEDS_POINT.read_bytes())
    cut = tmp_path / "cut_53.81N_1.56W_48m.csv.gz"
    cut.write_bytes(gzip.compress(data)[:200_000])  # a download that stopped
    with pytest.raises(WxriskError, match="cut_53.81N_1.56W_48m.csv.gz: cannot read as UTF-8 text"):
        import_weather(con, Settings(), cut)
    excel = tmp_path / "excel_53.81N_1.56W_48m.csv"  # re-saved by a spreadsheet in a European locale
    excel.write_bytes(data[:5000].replace(b",", b";"))
    with pytest.raises(WxriskError, match="not an Open-Meteo CSV .*separated by ';', as a spreadsheet re-saves it"):
        import_weather(con, Settings(), excel)
    half_row = tmp_path / "half_53.81N_1.56W_48m.csv"  # the last line cut mid-row
    half_row.write_bytes(data[:data.index(b"\n2019-01-02T00:00") + 25])
    [result] = import_weather(con, Settings(), half_row)
    assert (result.rows_read, result.rows_kept, result.details["hours"]) == (25, 24, 24)
    [(row, reason)] = con.execute("SELECT row_number, reason FROM quarantine").fetchall()
    assert row == 25 and "fields where the header has 12 (a cut or damaged line)" in reason, "kept, not read blank"
    assert con.execute("SELECT count(*) FROM import_ledger").fetchone()[0] == 1


def test_removing_a_point_import_takes_its_weather_away_from_the_segments(tmp_path):
    from wxrisk.store.ledger import remove_import

    con = small_db(tmp_path, {"s": (10.0, 50.0, None)})
    near = write(tmp_path / "near.csv", HEADER + "2024-01-01T00:00,1,0,0,3.6,0\n")
    far = write(tmp_path / "far.csv", HEADER + "2024-01-01T00:00,7,0,0,3.6,0\n")
    import_weather(con, Settings(), near, station="10.0,50.0")
    import_weather(con, Settings(), far, station="10.1,50.0")
    assert con.execute("SELECT t2m_c FROM weather_rows").fetchall() == [(1.0,)]
    removed = remove_import(con, str(near))
    assert removed.status == "removed" and removed.details["rows_deleted"] == 1
    assert con.execute("SELECT t2m_c FROM weather_rows").fetchall() == [(7.0,)], "the next station within reach"
    assert con.execute("SELECT count(*) FROM weather_stations").fetchone()[0] == 1
