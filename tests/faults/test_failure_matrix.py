"""What happens when...: real files and corruptions of them, through the `wxrisk` command line.

Each case runs the CLI as a subprocess in a fresh folder and database: setup commands first (each
must succeed), then the command the case is about. Its exit status, its counts and an excerpt of
its message must be the ones the table in docs/importers.md ("What happens when...") shows, and
the table must list exactly these cases, so the docs and the behaviour cannot drift apart.

`python tests/faults/test_failure_matrix.py` prints the table rows as the code behaves now.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "tests" / "data" / "real"
DOCS = REPO / "docs" / "importers.md"
CLIP = REAL / "leeds-stats19-decoded-clip.csv"  # 272 real collisions, one row each (decoded labels)
CASUALTIES = REAL / "leeds-accidents-2019.csv"  # 1,907 real casualty rows of 1,450 accidents
ERA5 = REAL / "era5-2mt-2019-03-uk.grib"  # 744 hourly messages of 3,342 bytes, each padded to 3,360
ROADS = REAL / "leeds-roads.geojson"
DECODED = ["--preset", "stats19-decoded"]
LEEDS = ["--mapping", "leeds"]
START, END = "<!-- failure-matrix:start -->", "<!-- failure-matrix:end -->"

pytestmark = pytest.mark.slow


def wxrisk_command() -> list[str]:
    """The installed `wxrisk` script beside this Python, else the module."""
    script = Path(sys.executable).parent / "wxrisk"
    return [str(script)] if script.exists() else [sys.executable, "-m", "wxrisk.cli"]


def clip_frame() -> pd.DataFrame:
    return pd.read_csv(CLIP, dtype=str, keep_default_na=False)


def write_frame(frame: pd.DataFrame, path: Path, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, **options)
    return path


def casualty_lines() -> list[str]:
    return CASUALTIES.read_text(encoding="utf-8").splitlines(keepends=True)


def with_casualty_column(folder: Path, name: str, change: Callable[[dict], None]) -> Path:
    """The casualty file with `change` applied to every row (read and written with the csv module)."""
    rows = list(csv.DictReader(io.StringIO(CASUALTIES.read_text(encoding="utf-8"))))
    for row in rows:
        change(row)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = folder / name
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def month_first(row: dict) -> None:
    day, month, year = row["Accident Date"].split("/")
    row["Accident Date"] = f"{month}/{day}/{year}"


@dataclass(frozen=True)
class Case:
    """A case of the matrix: its name (the docs' first column) and how to build its commands."""

    name: str
    commands: Callable[[Path], list[list[str]]]
    needs_roads: bool = False


def _incidents(path: Path | str, *options: str) -> list[str]:
    return ["import", "incidents", str(path), *options]


def _weather(path: Path | str) -> list[str]:
    return ["import", "weather", str(path)]


def case_clip(folder: Path) -> list[list[str]]:
    return [_incidents(CLIP, *DECODED)]


def case_casualties(folder: Path) -> list[list[str]]:
    return [_incidents(CASUALTIES, *LEEDS)]


def case_same_again(folder: Path) -> list[list[str]]:
    return [_incidents(CASUALTIES, *LEEDS), _incidents(CASUALTIES, *LEEDS)]


def case_other_tz(folder: Path) -> list[list[str]]:
    return [_incidents(CASUALTIES, *LEEDS), _incidents(CASUALTIES, *LEEDS, "--tz", "UTC")]


def case_no_mapping(folder: Path) -> list[list[str]]:
    return [_incidents(CASUALTIES)]


def case_mangled_ids(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    frame["accident_index"] = ["2.019131E+12" if i % 2 else "2.022131E+12" for i in range(len(frame))]
    return [_incidents(write_frame(frame, folder / "collisions.csv"), *DECODED)]


def case_mangled_casualty_ids(folder: Path) -> list[list[str]]:
    def mangle(row: dict) -> None:
        row["Reference Number"] = "5.8E+06"
    return [_incidents(with_casualty_column(folder, "accidents.csv", mangle), *LEEDS)]


def case_missing_time(folder: Path) -> list[list[str]]:
    text = CASUALTIES.read_text(encoding="utf-8").replace("Time (24hr)", "Time", 1)
    (folder / "accidents.csv").write_text(text, encoding="utf-8")
    return [_incidents(folder / "accidents.csv", *LEEDS)]


def case_renamed_surface(folder: Path) -> list[list[str]]:
    frame = clip_frame().rename(columns={"road_surface_conditions": "Road Surface Conditions"})
    return [_incidents(write_frame(frame, folder / "collisions.csv"), *DECODED)]


def case_month_first_day_first(folder: Path) -> list[list[str]]:
    return [_incidents(with_casualty_column(folder, "accidents.csv", month_first), *LEEDS)]


def case_month_first_iso(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%m/%d/%Y")
    return [_incidents(write_frame(frame, folder / "collisions.csv"), *DECODED)]


def case_month_first_fixed(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%m/%d/%Y")
    (folder / "us-dates.yaml").write_text('base: stats19-decoded\ndate_format: "%m/%d/%Y"\n', encoding="utf-8")
    return [_incidents(write_frame(frame, folder / "collisions.csv"), "--mapping", str(folder / "us-dates.yaml"))]


def _by_year(folder: Path) -> tuple[Path, Path]:
    frame = clip_frame()
    first = write_frame(frame[frame["accident_year"] == "2019"], folder / "2019" / "accidents.csv")
    second = write_frame(frame[frame["accident_year"] == "2020"], folder / "2020" / "accidents.csv")
    return first, second


def case_same_name_two_folders(folder: Path) -> list[list[str]]:
    first, second = _by_year(folder)
    return [_incidents(first, *DECODED), _incidents(second, *DECODED)]


def case_revised_elsewhere(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    old = write_frame(frame, folder / "downloads" / "collisions.csv")
    new = write_frame(frame.iloc[:-10], folder / "data" / "collisions.csv")
    return [_incidents(old, *DECODED), _incidents(new, *DECODED)]


def case_revised_elsewhere_replace(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    old = write_frame(frame, folder / "downloads" / "collisions.csv")
    new = write_frame(frame.iloc[:-10], folder / "data" / "collisions.csv")
    return [_incidents(old, *DECODED), _incidents(new, *DECODED, "--replace", str(old))]


def case_remove(folder: Path) -> list[list[str]]:
    return [_incidents(CLIP, *DECODED), ["import", "remove", str(CLIP)]]


def case_after_remove(folder: Path) -> list[list[str]]:
    return [_incidents(CLIP, *DECODED), ["import", "remove", str(CLIP)], _incidents(CLIP, *DECODED)]


def _latin1(folder: Path) -> Path:
    frame = clip_frame()
    frame["local_authority_district"] = "Leeds Café"
    return write_frame(frame, folder / "collisions.csv", encoding="latin-1")


def case_latin1(folder: Path) -> list[list[str]]:
    return [_incidents(_latin1(folder), *DECODED)]


def case_latin1_given(folder: Path) -> list[list[str]]:
    return [_incidents(_latin1(folder), *DECODED, "--encoding", "latin-1")]


def case_gb18030(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    police = pd.DataFrame({
        "事故编号": frame["accident_index"], "发生时间": frame["date"] + " " + frame["time"],
        "经度": frame["longitude"], "纬度": frame["latitude"],
        "路面状况": frame["road_surface_conditions"].map(
            {"Dry": "干燥", "Wet or damp": "潮湿", "Snow": "积雪", "Frost or ice": "结冰", "Flood over 3cm. deep": "积水"}),
        "天气": frame["weather_conditions"].str.split().str[0].map(
            {"Fine": "晴", "Raining": "雨", "Snowing": "雪", "Fog": "雾", "Other": "", "Unknown": ""}),
        "事故等级": frame["accident_severity"].map({"Fatal": "死亡", "Serious": "重伤", "Slight": "轻伤"}),
        "车辆数": frame["number_of_vehicles"], "伤亡人数": frame["number_of_casualties"],
        "路线编号": "",
    })
    return [_incidents(write_frame(police, folder / "police.csv", encoding="gb18030"), "--mapping", "police-zh",
                       "--tz", "Europe/London")]


def case_semicolon(folder: Path) -> list[list[str]]:
    return [_incidents(write_frame(clip_frame(), folder / "collisions.csv", sep=";"), *DECODED)]


def case_tab(folder: Path) -> list[list[str]]:
    return [_incidents(write_frame(clip_frame(), folder / "collisions.tsv", sep="\t"), *DECODED)]


def case_all_quarantined(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    frame[["longitude", "latitude", "location_easting_osgr", "location_northing_osgr"]] = ""
    return [_incidents(write_frame(frame, folder / "collisions.csv"), *DECODED)]


def case_some_duplicates(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    frame = pd.concat([frame, frame.iloc[:3]], ignore_index=True)
    return [_incidents(write_frame(frame, folder / "collisions.csv"), *DECODED)]


def case_swapped(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    frame["latitude"], frame["longitude"] = frame["longitude"].copy(), frame["latitude"].copy()
    return [_incidents(write_frame(frame, folder / "collisions.csv"), *DECODED)]


def case_out_of_range_with_grid(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    frame.loc[:4, "latitude"] = "153.7"
    return [_incidents(write_frame(frame, folder / "collisions.csv"), *DECODED)]


def case_out_of_range_without_grid(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    frame.loc[:4, "latitude"] = "153.7"
    frame.loc[:4, ["location_easting_osgr", "location_northing_osgr"]] = ""
    return [_incidents(write_frame(frame, folder / "collisions.csv"), *DECODED)]


def case_row_time_zones(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    frame["tz"] = "Europe/London"
    frame.loc[1, "tz"] = "+05:30"
    frame.loc[0, "tz"] = "Mars/Phobos"
    (folder / "zones.yaml").write_text("base: stats19-decoded\ncolumns: {tz: tz}\n", encoding="utf-8")
    return [_incidents(write_frame(frame, folder / "collisions.csv"), "--mapping", str(folder / "zones.yaml"))]


def case_hour_minute(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    frame["Hour"], frame["Minute"] = frame["time"].str[:2], frame["time"].str[3:]
    (folder / "hm.yaml").write_text("base: stats19-decoded\ncolumns: {Hour: hour, Minute: minute}\noptional: [time]\n",
                                    encoding="utf-8")
    frame = frame.drop(columns=["time", "hour"])
    return [_incidents(write_frame(frame, folder / "collisions.csv"), "--mapping", str(folder / "hm.yaml"))]


def case_all_dry(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    frame["road_surface_conditions"] = "Dry"
    return [_incidents(write_frame(frame, folder / "collisions.csv"), *DECODED)]


def case_numeric_preset_on_labels(folder: Path) -> list[list[str]]:
    (folder / "iso-stats19.yaml").write_text('base: stats19\ndate_format: "%Y-%m-%d"\n', encoding="utf-8")
    return [_incidents(CLIP, "--mapping", str(folder / "iso-stats19.yaml"))]


def case_truncated_csv(folder: Path) -> list[list[str]]:
    (folder / "accidents.csv").write_bytes(CASUALTIES.read_bytes()[:70_000])
    return [_incidents(folder / "accidents.csv", *LEEDS)]


def case_bad_yaml_shape(folder: Path) -> list[list[str]]:
    (folder / "m.yaml").write_text("columns:\n  - Reference Number\n  - Accident Date\n", encoding="utf-8")
    return [_incidents(CASUALTIES, "--mapping", str(folder / "m.yaml"))]


def case_bad_canonical(folder: Path) -> list[list[str]]:
    (folder / "m.yaml").write_text("columns: {Reference Number: accident_id}\n", encoding="utf-8")
    return [_incidents(CASUALTIES, "--mapping", str(folder / "m.yaml"))]


def case_bad_zone_yaml(folder: Path) -> list[list[str]]:
    (folder / "m.yaml").write_text("base: stats19-decoded\ntimezone: Europe/Lodnon\n", encoding="utf-8")
    return [_incidents(CLIP, "--mapping", str(folder / "m.yaml"))]


def case_bad_zone_option(folder: Path) -> list[list[str]]:
    return [_incidents(CLIP, *DECODED, "--tz", "GMT+25")]


def case_grib_whole(folder: Path) -> list[list[str]]:
    frame = clip_frame()
    recent = write_frame(frame[frame["accident_year"] == "2022"], folder / "collisions-2022.csv")
    return [_incidents(recent, *DECODED), _weather(ERA5)]


def _cut_grib(folder: Path, cut: int) -> list[list[str]]:
    (folder / "era5.grib").write_bytes(ERA5.read_bytes()[:cut])
    return [_weather(folder / "era5.grib")]


def case_grib_short_of_boundary(folder: Path) -> list[list[str]]:
    return _cut_grib(folder, 100 * 3360 - 1)


def case_grib_short_of_marker(folder: Path) -> list[list[str]]:
    return _cut_grib(folder, 99 * 3360 + 3342 - 1)


def case_grib_padding_missing(folder: Path) -> list[list[str]]:
    return _cut_grib(folder, 99 * 3360 + 3342)


def case_grib_at_boundary(folder: Path) -> list[list[str]]:
    return _cut_grib(folder, 100 * 3360)


def case_grib_two_step_types(folder: Path) -> list[list[str]]:
    return [_weather(REAL / "cfrzr_and_cprat.grib")]


def case_not_grib(folder: Path) -> list[list[str]]:
    (folder / "forecast.grib").write_text("<html>502 Bad Gateway</html>", encoding="utf-8")
    return [_weather(folder / "forecast.grib")]


CASES = [
    Case("Leeds 2019-2023 collisions (decoded labels) with `--preset stats19-decoded`", case_clip),
    Case("Leeds casualty rows with `--mapping leeds` (rows of one accident merge)", case_casualties),
    Case("the same file again", case_same_again),
    Case("the same bytes with another `--tz`", case_other_tz),
    Case("the casualty file without its mapping", case_no_mapping),
    Case("spreadsheet-mangled ids (`2.019131E+12`), one row per collision", case_mangled_ids),
    Case("spreadsheet-mangled ids in a casualty file (merging preset)", case_mangled_casualty_ids),
    Case("a mapped column missing (`Time (24hr)` renamed)", case_missing_time),
    Case("a mapped column missing (surface column renamed)", case_renamed_surface),
    Case("month-first dates under a day-first mapping", case_month_first_day_first),
    Case("month-first dates under an ISO-date preset", case_month_first_iso),
    Case("month-first dates with `date_format: \"%m/%d/%Y\"` on the preset", case_month_first_fixed),
    Case("same file name in two folders (2019/ and 2020/)", case_same_name_two_folders),
    Case("a revised export saved in another folder", case_revised_elsewhere),
    Case("the same with `--replace` naming the earlier file", case_revised_elsewhere_replace),
    Case("`wxrisk import remove FILE`", case_remove),
    Case("importing a removed file again", case_after_remove),
    Case("a Latin-1 file (`Café`)", case_latin1),
    Case("the Latin-1 file with `--encoding latin-1`", case_latin1_given),
    Case("a GB18030 police export (Chinese headers and labels)", case_gb18030),
    Case("a semicolon-delimited file", case_semicolon),
    Case("a tab-delimited file", case_tab),
    Case("every row without coordinates", case_all_quarantined),
    Case("three rows repeated in a one-row-per-collision file", case_some_duplicates),
    Case("lat and lon swapped", case_swapped),
    Case("latitude 153.7 on 5 rows with a valid grid reference", case_out_of_range_with_grid),
    Case("latitude 153.7 on 5 rows without a grid reference", case_out_of_range_without_grid),
    Case("a per-row time zone column (one unknown zone)", case_row_time_zones),
    Case("separate hour and minute columns", case_hour_minute),
    Case("surface `Dry` on every row while weather varies", case_all_dry),
    Case("numeric-code preset on a file of labels", case_numeric_preset_on_labels),
    Case("a CSV cut mid-row", case_truncated_csv),
    Case("`columns:` written as a list", case_bad_yaml_shape),
    Case("a mapping naming a column that is not canonical", case_bad_canonical),
    Case("a misspelt `timezone:` in a mapping", case_bad_zone_yaml),
    Case("an impossible `--tz`", case_bad_zone_option),
    Case("the ERA5 GRIB (March 2019) after incidents of 2022 only", case_grib_whole, needs_roads=True),
    Case("the GRIB cut one byte short of a message boundary", case_grib_short_of_boundary, needs_roads=True),
    Case("the GRIB cut one byte short of a message's end marker", case_grib_short_of_marker, needs_roads=True),
    Case("the GRIB cut right after a message, its padding missing", case_grib_padding_missing, needs_roads=True),
    Case("the GRIB cut exactly between two padded messages", case_grib_at_boundary, needs_roads=True),
    Case("a GRIB2 file with two step types (GFS `cfrzr`)", case_grib_two_step_types, needs_roads=True),
    Case("an HTML error page saved as `.grib`", case_not_grib, needs_roads=True),
]


@dataclass(frozen=True)
class Outcome:
    """What the last command of a case did: exit status, counts, its output (folder paths removed)."""

    exit: int
    counts: str
    output: str


COUNTS = re.compile(r"(\d+ read(?: = |, )[^;\n]*?)(?:;|$)", re.MULTILINE)


def run_case(case: Case, folder: Path, roads_db: Path | None) -> Outcome:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "wxrisk.duckdb"
    if case.needs_roads:
        shutil.copy(roads_db, db)
    env = {**os.environ, "WXRISK_DB": str(db), "WXRISK_DATA": str(folder), "WXRISK_TZ": "Asia/Shanghai"}
    *setup, last = case.commands(folder)
    for command in setup:
        done = subprocess.run([*wxrisk_command(), *command], capture_output=True, text=True, env=env, cwd=folder)
        assert done.returncode == 0, f"setup {command} failed: {done.stderr}"
    done = subprocess.run([*wxrisk_command(), *last], capture_output=True, text=True, env=env, cwd=folder)
    output = (done.stdout + done.stderr).replace(str(folder) + os.sep, "").replace(str(REAL) + os.sep, "")
    found = COUNTS.search(done.stdout)
    return Outcome(done.returncode, found.group(1) if found else "—", output)


def prepare_roads(folder: Path) -> Path:
    """A database holding the central-Leeds roads (1,121 segments), copied by the weather cases."""
    db = folder / "roads.duckdb"
    env = {**os.environ, "WXRISK_DB": str(db), "WXRISK_DATA": str(folder)}
    subprocess.run([*wxrisk_command(), "import", "roads", str(ROADS)], check=True, capture_output=True, env=env)
    return db


@dataclass(frozen=True)
class DocRow:
    exit: int
    counts: str
    message: str


def docs_table() -> dict[str, DocRow]:
    """The rows of the docs' table: case -> (exit, counts, message excerpt)."""
    text = DOCS.read_text(encoding="utf-8")
    table = text[text.index(START) + len(START):text.index(END)]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        name, exit_status, counts, message = cells
        rows[name] = DocRow(int(exit_status), counts.strip("`"), message.strip("`").replace("\\|", "|"))
    return rows


@pytest.fixture(scope="module")
def roads_db(tmp_path_factory):
    return prepare_roads(tmp_path_factory.mktemp("roads"))


def test_the_docs_table_lists_exactly_the_matrix():
    assert list(docs_table()) == [case.name for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=[f"{n:02d}" for n in range(1, len(CASES) + 1)])
def test_case_behaves_as_the_docs_say(case, tmp_path, roads_db):
    documented = docs_table()[case.name]
    outcome = run_case(case, tmp_path / "case", roads_db)
    assert (outcome.exit, outcome.counts) == (documented.exit, documented.counts), outcome.output
    assert documented.message in outcome.output
    assert "Traceback" not in outcome.output
    if outcome.exit:
        assert outcome.output.startswith("wxrisk: ") and outcome.output.count("\n") == 1, outcome.output


def table_row(case: Case, outcome: Outcome) -> str:
    first_line = outcome.output.strip().splitlines()[-1 if outcome.exit else 0]
    return f"| {case.name} | {outcome.exit} | `{outcome.counts}` | `{first_line[:160]}` |"


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        roads = prepare_roads(Path(scratch))
        for number, matrix_case in enumerate(CASES, start=1):
            print(table_row(matrix_case, run_case(matrix_case, Path(scratch) / str(number), roads)), flush=True)
