"""The "run it on your own region" worked example (docs/own-region.md) on the real Leeds files.

The chain runs once through the command line, exactly as an analyst types it: import roads,
incidents (the bundled `leeds` mapping) and ERA5 2 m temperature, train and promote, score a
72 h hindcast board, export it; then the Streamlit board renders the published Leeds run.
"""

from __future__ import annotations

import json
import os
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
REAL = REPO / "tests" / "data" / "real"
APP = str(APP_PATH)
BOARD_START = "2019-03-25T00:00Z"
BOARD_HOURS = 72


def _environment(root: Path) -> dict[str, str]:
    """Every path in a scratch folder, never the repository's data/ or models/; Leeds local time."""
    return {"WXRISK_TZ": "Europe/London", "WXRISK_DATA": str(root / "data"),
            "WXRISK_DB": str(root / "data" / "wxrisk.duckdb"), "WXRISK_MODELS": str(root / "models"),
            "WXRISK_BOARDS": str(root / "data" / "boards")}


def _cli(env: dict[str, str], *args: str) -> str:
    """Run `wxrisk ARGS` as a subprocess; its stdout, or a failure showing stderr."""
    result = subprocess.run([sys.executable, "-m", "wxrisk.cli", *args], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=180)
    assert result.returncode == 0, f"wxrisk {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def leeds(tmp_path_factory):
    """The worked example run once, end to end; the scratch folder, its environment and outputs."""
    root = tmp_path_factory.mktemp("leeds")
    env = _environment(root)
    out = {
        "roads": _cli(env, "import", "roads", str(REAL / "leeds-roads.geojson")),
        "incidents": _cli(env, "import", "incidents", str(REAL / "leeds-accidents-2019.csv"),
                          "--mapping", "leeds"),
        "weather": _cli(env, "import", "weather", str(REAL / "era5-2mt-2019-03-uk.grib"), "--kind", "analysis"),
        "train": _cli(env, "train", "--promote"),
        "score": _cli(env, "score", "--start", BOARD_START, "--hours", str(BOARD_HOURS)),
        "export_risk": _cli(env, "export", "risk", "--out", str(root / "leeds-risk.csv")),
        "export_board": _cli(env, "export", "board", "--format", "csv", "--out", str(root / "leeds-board.csv")),
    }
    return {"root": root, "env": env, "out": out, "run_id": out["score"].strip().splitlines()[-1]}


def _ledger_details(env: dict[str, str], kind: str) -> tuple[int, int, dict]:
    with connect(env["WXRISK_DB"], read_only=True) as con:
        read, kept, details = con.execute(
            "SELECT rows_read, rows_kept, details FROM import_ledger WHERE kind = ? AND status = 'imported'",
            [kind]).fetchone()
    return read, kept, json.loads(details)


def test_roads_become_segments_without_cycleways(leeds):
    _, _, details = _ledger_details(leeds["env"], "roads")
    with connect(leeds["env"]["WXRISK_DB"], read_only=True) as con:
        highways = {row[0] for row in con.execute("SELECT DISTINCT highway FROM segments").fetchall()}
        n_segments, longest_km = con.execute("SELECT count(*), max(length_km) FROM segments").fetchone()
    assert n_segments == details["segments"] > 1000
    assert "cycleway" not in highways and details["excluded"].get("cycleway", 0) > 0
    assert longest_km <= 1.0 + 1e-9


def test_casualty_rows_collapse_to_about_1450_incidents(leeds):
    # Issue 3: "the Leeds accidents give about 1,450 incidents from 1,907 casualty rows".
    read, kept, details = _ledger_details(leeds["env"], "incidents")
    assert read == 1907 and abs(kept - 1450) <= 10
    assert details["mapping"] == "leeds" and details["matched"] + details["unmatched"] == kept
    with connect(leeds["env"]["WXRISK_DB"], read_only=True) as con:
        surfaces = {row[0] for row in con.execute("SELECT DISTINCT surface FROM incidents").fetchall()}
    assert {"dry", "wet", "ice"} <= surfaces, "STATS19 surface codes 1, 2, 4 mapped to words"


def test_era5_gives_t2m_in_celsius_for_every_march_hour_on_every_segment(leeds):
    with connect(leeds["env"]["WXRISK_DB"], read_only=True) as con:
        n_segments = con.execute("SELECT count(*) FROM segments").fetchone()[0]
        hours, segments, rows, with_t2m, low_c, mean_c, high_c = con.execute(
            "SELECT count(DISTINCT valid_time), count(DISTINCT segment_id), count(*), count(t2m_c), "
            "min(t2m_c), avg(t2m_c), max(t2m_c) FROM weather_hourly "
            "WHERE valid_time >= TIMESTAMP '2019-03-01' AND valid_time < TIMESTAMP '2019-04-01'").fetchone()
    assert hours == 31 * 24 and segments == n_segments and rows == with_t2m == hours * segments
    # Degrees Celsius, not kelvin: the UK's March records are -22.8 °C (1958) and 25.6 °C (1968)
    # (Met Office UK climate extremes); a Leeds March month averages a few degrees above zero.
    assert low_c >= -22.8 and high_c <= 25.6 and 2.0 <= mean_c <= 12.0


def test_missing_precipitation_is_reported_not_a_crash(leeds):
    _, _, details = _ledger_details(leeds["env"], "weather")
    assert details["variables"] == {"t2m_c": "t2m"}
    assert {"precip_mm", "snowfall_mm", "ptype"} <= set(details["missing_variables"])
    with connect(leeds["env"]["WXRISK_DB"], read_only=True) as con:
        status, missing, synthetic = con.execute(
            "SELECT status, missing_inputs, synthetic FROM runs WHERE run_id = ?", [leeds["run_id"]]).fetchone()
    missing = set(json.loads(missing))
    assert status == "complete" and synthetic is False
    assert {"precip_mm", "feature:precip_mm_3h", "feature:snow_mm_1h"} <= missing
    assert "feature:t2m_c" not in missing


def test_a_model_is_trained_and_promoted(leeds):
    models = Path(leeds["env"]["WXRISK_MODELS"])
    champion = json.loads((models / "CHAMPION").read_text())["version"]
    assert (models / champion / "model.txt").exists()
    assert f"version {champion}: promoted" in leeds["out"]["train"]
    assert leeds["run_id"].endswith(champion), "the board was scored with the champion"


def test_published_board_has_72_hours_for_every_segment(leeds):
    board = current_board_path_or_none(Path(leeds["env"]["WXRISK_BOARDS"]))
    assert board is not None and board.stem == leeds["run_id"]
    with connect(leeds["env"]["WXRISK_DB"], read_only=True) as con:
        n_segments = con.execute("SELECT count(*) FROM segments").fetchone()[0]
    with open_board(board) as con:
        risk = con.execute("SELECT segment_id, valid_time, risk FROM risk").df()
    assert len(risk) == BOARD_HOURS * n_segments
    assert risk.groupby("segment_id")["valid_time"].nunique().eq(BOARD_HOURS).all()
    assert risk["valid_time"].min() == pd.Timestamp("2019-03-25 00:00")
    assert risk["risk"].between(0.0, 1.0).all()
    exported = pd.read_csv(leeds["root"] / "leeds-risk.csv")
    assert len(exported) == len(risk) and exported["risk"].between(0.0, 1.0).all()
    assert (leeds["root"] / "leeds-board.csv").read_text(encoding="utf-8-sig").startswith("优先序,路段编号")  # the priority list


def test_streamlit_board_renders_the_leeds_run_and_names_what_is_missing(leeds, monkeypatch):
    for name, value in leeds["env"].items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "English"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(leeds["run_id"] in c.value for c in at.caption)
    assert any("precip_mm" in w.value for w in at.warning), "the board says precipitation was left out"
    assert not any("synthetic" in e.value.lower() for e in at.error), "real data carries no demo banner"


@pytest.mark.parametrize("page", ["app_pages/stretch.py", "app_pages/dispatch.py", "app_pages/verification.py",
                                  "app_pages/model_data.py"])
def test_every_page_runs_on_a_board_without_stretches_or_teams(leeds, monkeypatch, page):
    for name, value in leeds["env"].items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "each page has a title"
