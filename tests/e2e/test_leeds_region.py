"""The "run it on your own region" worked example (docs/own-region.md) on the real Leeds files.

The page's commands run through the command line, as the page types them:

- its three imports of the full files (cheap), each printed line checked against the page;
- the model chain (`train --until 2022-07-01 --promote`, `evaluate` of the winter 2022/23,
  `score` of the morning of 14 December 2022, the exports, the board). At full size that is
  minutes of CPU and gigabytes, so the suite runs the same commands on committed clips: the
  city-centre roads (119 segments), the point series of 2020-07 to 2023-06 (two training
  winters) and the model's fast options (`[model] target_rows`). Its checks are the page's
  claims that hold at any size (all 29 ice/snow collisions of 2022/23 judged; `ice_risk`, not
  `risk`, ranks their hours).
- `WXRISK_LEEDS_FULL=1` runs the chain on the page's own files and checks that the page shows
  every line `train` and `evaluate` print (how the page's figures were made and are re-checked).
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
R = "tests/data/real"  # as the page types it, from the repository
ROADS = f"{R}/leeds-roads.geojson"
COLLISIONS = f"{R}/leeds_stats19_collisions_2019_2023_columns.csv"
POINT = f"{R}/openmeteo_leeds_53.81N_1.56W_48m_2019-2024_hourly.csv.gz"
FULL = os.environ.get("WXRISK_LEEDS_FULL") == "1"
CHAIN_ROADS = ROADS if FULL else f"{R}/leeds-roads-city-centre.geojson"
CHAIN_POINT = POINT if FULL else f"{R}/openmeteo_leeds_53.81N_1.56W_48m_2020-2023_hourly.csv.gz"
FAST_OPTIONS = "[model]\ntarget_rows = 40000\nrounds_max = 100\nshare_rounds_max = 100\n"
SHORT_SEGMENT_FLOORS = (  # section 6 of the page, as typed there
    "sed -e 's/^    blue: 0.002$/    blue: 0.0002/' -e 's/^    yellow: 0.0025$/    yellow: 0.00025/' "
    "-e 's/^    orange: 0.003$/    orange: 0.0003/' -e 's/^    red: 0.0035$/    red: 0.00035/' "
    "src/wxrisk/board/tiers.yaml > $WXRISK_DATA/leeds-tiers.yaml",
    "printf '[board]\\nrules = \"%s/leeds-tiers.yaml\"\\n' $WXRISK_DATA > $WXRISK_DATA/wxrisk.toml",
)
BOARD_START = "2022-12-14T05:00Z"
BOARD_HOURS = 72
VERSION = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")  # a model version: its training time differs each run
PROGRESS = re.compile(r"^\[\d\d:\d\d:\d\d\]|^  \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d: ")  # per-week/fortnight lines


def _environment(root: Path, options: str = "") -> dict[str, str]:
    """Every path in a scratch folder, never the repository's data/ or models/; Leeds local time;
    `options` in the settings file beside the database (read without naming it, as on the page)."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "wxrisk.toml").write_text(options, encoding="utf-8")
    return {"WXRISK_TZ": "Europe/London", "WXRISK_DATA": str(root / "data"),
            "WXRISK_DB": str(root / "data" / "wxrisk.duckdb"), "WXRISK_MODELS": str(root / "models"),
            "WXRISK_BOARDS": str(root / "data" / "boards")}


def _shell(env: dict[str, str], command: str) -> None:
    """A shell line of the page (sed, printf), run from the repository."""
    subprocess.run(["bash", "-c", command], check=True, env={**os.environ, **env}, cwd=REPO, timeout=60)


def _board(env: dict[str, str]) -> dict[str, int]:
    """The published board's stretch count and tiered segment-hours."""
    with open_board(current_board_path_or_none(Path(env["WXRISK_BOARDS"]))) as con:
        stretches = con.execute("SELECT count(*) FROM stretches").fetchone()[0]
        tiered = con.execute("SELECT count(*) FROM risk WHERE tier <> 'none'").fetchone()[0]
    return {"stretches": stretches, "tiered": tiered}


def _cli(env: dict[str, str], *args: str) -> str:
    """Run `wxrisk ARGS` from the repository; its stdout, or a failure showing stderr."""
    result = subprocess.run([sys.executable, "-m", "wxrisk.cli", *args], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=1800, cwd=REPO)
    assert result.returncode == 0, f"wxrisk {' '.join(args)} failed:\n{result.stderr[-3000:]}"
    return result.stdout


def _imports(env: dict[str, str], roads: str, point: str) -> dict[str, str]:
    return {"roads": _cli(env, "import", "roads", roads),
            "incidents": _cli(env, "import", "incidents", COLLISIONS, "--preset", "stats19-decoded"),
            "weather": _cli(env, "import", "weather", point)}


@pytest.fixture(scope="module")
def leeds(tmp_path_factory):
    """The model chain once: imports, train, evaluate, the board of 05:00 UTC on 14 Dec 2022 with the
    packaged tier floors and with the page's floors for short segments, exports."""
    root = tmp_path_factory.mktemp("leeds")
    env = _environment(root, "" if FULL else FAST_OPTIONS)
    out = _imports(env, CHAIN_ROADS, CHAIN_POINT)
    out["train"] = _cli(env, "train", "--until", "2022-07-01", "--promote")
    out["evaluate"] = _cli(env, "evaluate", "--start", "2022-07-01T00:00Z", "--end", "2023-07-01T00:00Z",
                           "--out", str(root / "data" / "leeds-evaluation.json"))
    out["score"] = _cli(env, "score", "--start", BOARD_START, "--hours", str(BOARD_HOURS))
    packaged_floors = _board(env)
    for line in SHORT_SEGMENT_FLOORS:
        _shell(env, line)
    out["score_short_segments"] = _cli(env, "score", "--start", BOARD_START, "--hours", str(BOARD_HOURS))
    out["export_board"] = _cli(env, "export", "board", "--format", "csv", "--lang", "en",
                               "--out", str(root / "data" / "leeds-board.csv"))
    out["export_risk"] = _cli(env, "export", "risk", "--out", str(root / "data" / "leeds-risk.csv"))
    evaluation = json.loads((root / "data" / "leeds-evaluation.json").read_text(encoding="utf-8"))
    return {"root": root / "data", "env": env, "out": out, "evaluation": evaluation,
            "boards": {"packaged floors": packaged_floors, "short-segment floors": _board(env)},
            "run_id": out["score"].strip().splitlines()[-1]}


@pytest.fixture(scope="module")
def full_imports(leeds, tmp_path_factory):
    """The page's three imports of the full files (the chain's own when it ran at full size)."""
    if FULL:
        return {"env": leeds["env"], "out": leeds["out"]}
    env = _environment(tmp_path_factory.mktemp("leeds-imports"))
    return {"env": env, "out": _imports(env, ROADS, POINT)}


def page_text() -> str:
    return VERSION.sub("VERSION", DOC.read_text(encoding="utf-8"))


def printed_lines(text: str) -> list[str]:
    """The lines a command printed that the page must show: progress lines left out, versions masked."""
    return [VERSION.sub("VERSION", line).rstrip() for line in text.splitlines()
            if line.strip() and not PROGRESS.match(line)]


def _ledger(env: dict[str, str], kind: str) -> tuple[int, int, dict]:
    with connect(env["WXRISK_DB"], read_only=True) as con:
        read, kept, details = con.execute(
            "SELECT rows_read, rows_kept, details FROM import_ledger WHERE kind = ? ORDER BY import_id DESC",
            [kind]).fetchone()
    return read, kept, json.loads(details)


def test_the_imports_print_what_the_page_shows(full_imports):
    page = page_text()
    for step in ("roads", "incidents", "weather"):
        for line in printed_lines(full_imports["out"][step]):
            assert line in page, f"docs/own-region.md does not show the {step} line {line!r}"


def test_all_collisions_kept_and_the_ice_and_snow_ones_counted(full_imports):
    env = full_imports["env"]
    read, kept, details = _ledger(env, "incidents")
    assert read == kept == 6900 and details["mapping"] == "stats19-decoded"
    with connect(env["WXRISK_DB"], read_only=True) as con:
        surfaces = dict(con.execute("SELECT surface, count(*) FROM incidents GROUP BY 1").fetchall())
        matched_icy = con.execute("SELECT count(*) FROM incidents WHERE surface IN ('ice', 'snow') "
                                  "AND segment_id IS NOT NULL").fetchone()[0]
    assert surfaces["ice"] == 70 and surfaces["snow"] == 21, "Frost or ice 70, Snow 21 (NOTICE.md)"
    assert matched_icy == 12 and details["matched"] == 1192


def test_the_point_serves_every_segment_with_the_files_temperatures(full_imports):
    env = full_imports["env"]
    _, kept, details = _ledger(env, "weather")
    assert kept == 52608 and details["segments_served"] == 1122 == details["segments"]
    with gzip.open(REPO / POINT, "rt", encoding="utf-8") as handle:
        point = pd.read_csv(handle, parse_dates=["time"]).set_index("time")["temperature_2m (°C)"]
    with connect(env["WXRISK_DB"], read_only=True) as con:
        rows = con.execute("SELECT valid_time, t2m_c FROM weather_rows WHERE valid_time >= '2022-12-14' "
                           "AND valid_time < '2022-12-15'").df()
    assert len(rows) == 24 * 1122
    assert abs(rows["t2m_c"].to_numpy() - point.reindex(rows["valid_time"]).to_numpy()).max() < 1e-4
    assert rows["t2m_c"].min() == pytest.approx(-4.5), "-4.5 °C on the evening of 14 Dec 2022"


def test_training_shows_ours_beside_the_yardstick_the_average_and_the_rule(leeds):
    printed = leeds["out"]["train"]
    for scorer in ("model", "yardstick", "historical average", "physical rule",
                   "ice model", "ice yardstick", "ice historical average", "ice physical rule"):
        assert re.search(rf"^{scorer}\s+\S", printed, re.M), f"train prints no {scorer!r} row"
    assert "rolling origin by winter: " in printed and "2021/22 predicted by 20" in printed and "promoted" in printed


def test_ice_risk_not_risk_ranks_the_hours_of_the_29_ice_and_snow_collisions(leeds):
    hours = leeds["evaluation"]["region_hours"]
    assert hours["hours"] == 8760 and hours["ice_incidents"] == 29, "2022/23: all of Leeds, matched or not"
    scores = {row["scorer"]: row for row in hours["scores"]}
    ice, risk = scores["network sum of ice_risk"], scores["network sum of risk"]
    assert ice["ice ROC-AUC"] >= 0.9 and ice["ice ROC-AUC"] >= risk["ice ROC-AUC"] + 0.2
    assert ice["ice AP"] > 2 * risk["ice AP"]
    assert f"{hours['ice_incidents']} ice/snow collisions" in DOC.read_text(encoding="utf-8")


@pytest.mark.skipif(not FULL, reason="the page's figures come from the full-size run: WXRISK_LEEDS_FULL=1")
def test_the_page_shows_every_line_train_and_evaluate_print(leeds):
    page = page_text()
    for step in ("train", "evaluate", "score", "score_short_segments"):
        for line in printed_lines(leeds["out"][step]):
            assert line in page, f"docs/own-region.md does not show the {step} line {line!r}"


def test_the_page_types_the_floor_commands_the_test_runs():
    page = DOC.read_text(encoding="utf-8").replace("\\\n      ", "")
    for line in SHORT_SEGMENT_FLOORS:
        assert line in page, f"docs/own-region.md does not type {line!r}"


def test_lower_floors_for_short_segments_tier_more_of_the_frost(leeds):
    packaged, short = leeds["boards"]["packaged floors"], leeds["boards"]["short-segment floors"]
    if not FULL and not short["tiered"]:
        pytest.skip("the clipped chain's ice_risk stays under both floor sets (nothing tiered): "
                    "WXRISK_LEEDS_FULL=1 runs the page's frost")
    assert short["tiered"] > packaged["tiered"]
    if FULL:
        page = DOC.read_text(encoding="utf-8")
        assert f"board: {packaged['stretches']} stretches" in page and f"board: {short['stretches']} stretches" in page


def test_the_board_of_14_december_covers_every_segment_for_72_hours(leeds):
    with connect(leeds["env"]["WXRISK_DB"], read_only=True) as con:
        segments = con.execute("SELECT count(*) FROM segments").fetchone()[0]
    board = current_board_path_or_none(Path(leeds["env"]["WXRISK_BOARDS"]))
    assert board is not None and board.stem == leeds["run_id"]
    with open_board(board) as con:
        risk = con.execute("SELECT segment_id, valid_time, risk, ice_risk FROM risk").df()
    assert len(risk) == BOARD_HOURS * segments and risk["risk"].between(0.0, 1.0).all()
    assert risk["ice_risk"].notna().all() and (risk["ice_risk"] <= risk["risk"] + 1e-12).all()
    assert risk["valid_time"].min() == pd.Timestamp("2022-12-14 05:00")
    exported = pd.read_csv(leeds["root"] / "leeds-risk.csv")
    assert len(exported) == len(risk) and {"risk", "ice_risk"} <= set(exported.columns)
    assert (leeds["root"] / "leeds-board.csv").read_text(encoding="utf-8-sig").startswith("Priority,Stretch id,")


def test_the_city_boards_highest_ranked_segment_hours_say_why(leeds):
    """Short city segments have a small risk per segment-hour: the reasons follow the board's ranking
    (ice_risk), not a floor on risk set for 1 km expressway segments."""
    board = current_board_path_or_none(Path(leeds["env"]["WXRISK_BOARDS"]))
    with open_board(board) as con:
        top = con.execute("SELECT risk, top_drivers_en FROM risk ORDER BY ice_risk DESC LIMIT 500").df()
    assert len(top) == 500 and top["risk"].max() < 0.003
    assert top["top_drivers_en"].notna().all()


def test_streamlit_board_renders_the_leeds_run_as_real_data(leeds, monkeypatch):
    for name, value in leeds["env"].items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(str(APP_PATH), default_timeout=120)
    at.session_state["lang"] = "English"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(leeds["run_id"] in c.value for c in at.caption)
    assert any("ptype" in w.value for w in at.warning), "the board says precipitation type was left out"
    assert not any("synthetic" in e.value.lower() for e in at.error), "real data carries no demo banner"
