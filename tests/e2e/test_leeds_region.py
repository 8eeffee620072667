"""The "run it on your own region" worked example (docs/own-region.md) on the real Leeds files.

The chain runs once through the command line, exactly as the page types it: import the central
Leeds roads, the 2019-2023 collisions (decoded labels) and the Open-Meteo point series; train on
the winters before 2022-07-01; evaluate the winter 2022/23; score the board of the morning of
14 December 2022 and export it. The tests then check what the page says about each step.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from wxrisk.boardview.bench import APP_PATH
from wxrisk.store import connect
from wxrisk.store.publish import current_board_path_or_none, open_board

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "own-region.md"
APP = str(APP_PATH)
R = "tests/data/real"  # as the page types it, from the repository
ROADS = f"{R}/leeds-roads.geojson"
COLLISIONS = f"{R}/leeds_stats19_collisions_2019_2023_columns.csv"
POINT = f"{R}/openmeteo_leeds_53.81N_1.56W_48m_2019-2024_hourly.csv.gz"
UNTIL = "2022-07-01"
EVALUATE = ("2022-07-01T00:00Z", "2023-07-01T00:00Z")
BOARD_START = "2022-12-14T05:00Z"
BOARD_HOURS = 72


def _environment(root: Path) -> dict[str, str]:
    """Every path in a scratch folder, never the repository's data/ or models/; Leeds local time."""
    return {"WXRISK_TZ": "Europe/London", "WXRISK_DATA": str(root / "data"),
            "WXRISK_DB": str(root / "data" / "wxrisk.duckdb"), "WXRISK_MODELS": str(root / "models"),
            "WXRISK_BOARDS": str(root / "data" / "boards")}


def _cli(env: dict[str, str], *args: str) -> str:
    """Run `wxrisk ARGS` as a subprocess; its stdout, or a failure showing stderr."""
    result = subprocess.run([sys.executable, "-m", "wxrisk.cli", *args], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=900, cwd=REPO)
    assert result.returncode == 0, f"wxrisk {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def leeds(tmp_path_factory):
    """The worked example run once, end to end; the scratch folder, its environment and outputs."""
    root = tmp_path_factory.mktemp("leeds")
    env = _environment(root)
    out = {
        "roads": _cli(env, "import", "roads", ROADS),
        "incidents": _cli(env, "import", "incidents", COLLISIONS, "--preset", "stats19-decoded"),
        "weather": _cli(env, "import", "weather", POINT),
        "train": _cli(env, "train", "--until", UNTIL, "--promote"),
        "evaluate": _cli(env, "evaluate", "--start", EVALUATE[0], "--end", EVALUATE[1]),
        "score": _cli(env, "score", "--start", BOARD_START, "--hours", str(BOARD_HOURS)),
        "export_risk": _cli(env, "export", "risk", "--out", str(root / "leeds-risk.csv")),
        "export_board": _cli(env, "export", "board", "--format", "csv", "--lang", "en",
                             "--out", str(root / "leeds-board.csv")),
    }
    return {"root": root, "env": env, "out": out, "run_id": out["score"].strip().splitlines()[-1]}


def _ledger(env: dict[str, str], kind: str) -> tuple[int, int, dict]:
    with connect(env["WXRISK_DB"], read_only=True) as con:
        read, kept, details = con.execute(
            "SELECT rows_read, rows_kept, details FROM import_ledger WHERE kind = ? ORDER BY import_id DESC",
            [kind]).fetchone()
    return read, kept, json.loads(details)


def test_the_imports_print_what_the_page_shows(leeds):
    out = leeds["out"]
    page = DOC.read_text(encoding="utf-8")
    for step in ("roads", "incidents", "weather"):
        for line in out[step].strip().splitlines():
            assert line in page, f"docs/own-region.md does not show the {step} line {line!r}"


def test_all_collisions_kept_and_the_ice_and_snow_ones_counted(leeds):
    read, kept, details = _ledger(leeds["env"], "incidents")
    assert read == kept == 6900 and details["mapping"] == "stats19-decoded"
    with connect(leeds["env"]["WXRISK_DB"], read_only=True) as con:
        surfaces = dict(con.execute("SELECT surface, count(*) FROM incidents GROUP BY 1").fetchall())
        matched_icy = con.execute("SELECT count(*) FROM incidents WHERE surface IN ('ice', 'snow') "
                                  "AND segment_id IS NOT NULL").fetchone()[0]
    assert surfaces["ice"] == 70 and surfaces["snow"] == 21, "Frost or ice 70, Snow 21 (NOTICE.md)"
    assert matched_icy == 12 and details["matched"] == 1192


def test_the_point_serves_every_segment_with_the_files_temperatures(leeds):
    _, kept, details = _ledger(leeds["env"], "weather")
    assert kept == 52608 and details["segments_served"] == 1122 == details["segments"]
    with gzip.open(REPO / POINT, "rt", encoding="utf-8") as handle:
        point = pd.read_csv(handle, parse_dates=["time"]).set_index("time")["temperature_2m (°C)"]
    with connect(leeds["env"]["WXRISK_DB"], read_only=True) as con:
        rows = con.execute("SELECT valid_time, t2m_c FROM weather_rows WHERE valid_time >= '2022-12-14' "
                           "AND valid_time < '2022-12-15'").df()
    assert len(rows) == 24 * 1122
    assert (rows["t2m_c"].to_numpy() - point.reindex(rows["valid_time"]).to_numpy()).max() < 1e-4
    assert rows["t2m_c"].min() == pytest.approx(-4.5), "-4.5 °C on the evening of 14 Dec 2022"


def test_the_evaluation_table_is_the_one_in_the_docs(leeds):
    table = leeds["out"]["evaluate"]
    page = DOC.read_text(encoding="utf-8")
    rows = [line for line in table.splitlines() if re.match(r"^\S.*\s\d\.\d{2,}", line)]
    assert rows, f"no scorer rows in:\n{table}"
    for line in rows:
        assert line.strip() in page, f"docs/own-region.md does not show the evaluation row {line!r}"


def test_the_board_of_14_december_covers_every_segment_for_72_hours(leeds):
    board = current_board_path_or_none(Path(leeds["env"]["WXRISK_BOARDS"]))
    assert board is not None and board.stem == leeds["run_id"]
    with open_board(board) as con:
        risk = con.execute("SELECT segment_id, valid_time, risk, ice_risk FROM risk").df()
    assert len(risk) == BOARD_HOURS * 1122 and risk["risk"].between(0.0, 1.0).all()
    assert risk["valid_time"].min() == pd.Timestamp("2022-12-14 05:00")
    exported = pd.read_csv(leeds["root"] / "leeds-risk.csv")
    assert len(exported) == len(risk) and {"risk", "ice_risk"} <= set(exported.columns)


def test_streamlit_board_renders_the_leeds_run_as_real_data(leeds, monkeypatch):
    for name, value in leeds["env"].items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "English"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(leeds["run_id"] in c.value for c in at.caption)
    assert any("ptype" in w.value for w in at.warning), "the board says precipitation type was left out"
    assert not any("synthetic" in e.value.lower() for e in at.error), "real data carries no demo banner"
