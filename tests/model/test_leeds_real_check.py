"""The real check of docs/model.md, through the command line exactly as an analyst types it.

Central Leeds roads, all 6,900 Leeds collisions 2019-2023 and the Open-Meteo hourly series of
central Leeds (tests/data/real, with their licence notes); trained on the winters 2018/19-2021/22
(`--until 2022-07-01`), evaluated on 2022/23. The hourly sum of `ice_risk` over the network must
rank the hours with an ice/snow collision anywhere in Leeds (matched to a segment or not) at least
as well as the better weather score, and the hourly sum of `risk` the hours with any collision at
least as well as the region's hour-of-week rate, in ROC-AUC and in average precision.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
WEATHER_SCORES = ("minus air temperature", "minus temperature, raised after precipitation")
HOUR_OF_WEEK = "hour-of-week rate (history before start)"


def _cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "wxrisk.cli", *args], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=900)
    assert result.returncode == 0, f"wxrisk {' '.join(args)} failed:\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def leeds(tmp_path_factory):
    root = tmp_path_factory.mktemp("leeds-check")
    env = {"WXRISK_TZ": "Europe/London", "WXRISK_DATA": str(root), "WXRISK_DB": str(root / "wxrisk.duckdb"),
           "WXRISK_MODELS": str(root / "models"), "WXRISK_BOARDS": str(root / "boards")}
    _cli(env, "import", "roads", str(REAL / "leeds-roads.geojson"))
    _cli(env, "import", "incidents", str(REAL / "leeds_stats19_collisions_2019_2023_columns.csv"),
         "--preset", "stats19-decoded")
    _cli(env, "import", "weather", str(REAL / "openmeteo_leeds_53.81N_1.56W_48m_2019-2024_hourly.csv.gz"))
    trained = _cli(env, "train", "--until", "2022-07-01", "--promote")
    printed = _cli(env, "evaluate", "--start", "2022-07-01", "--end", "2023-07-01", "--out", str(root / "check.json"))
    report = json.loads((root / "check.json").read_text(encoding="utf-8"))
    scores = {row["scorer"]: row for row in report["region_hours"]["scores"]}
    return {"root": root, "trained": trained, "printed": printed, "report": report, "scores": scores}


def test_ice_risk_ranks_the_ice_and_snow_hours_at_least_as_well_as_the_weather(leeds):
    scores, hours = leeds["scores"], leeds["report"]["region_hours"]
    assert hours["hours"] == 8760 and hours["ice_incidents"] == 29      # the 2022/23 winter, all of Leeds
    ours = scores["network sum of ice_risk"]
    for metric in ("ice ROC-AUC", "ice AP"):
        assert ours[metric] >= max(scores[name][metric] for name in WEATHER_SCORES), metric


def test_risk_ranks_the_collision_hours_at_least_as_well_as_the_hour_of_week_rate(leeds):
    scores = leeds["scores"]
    ours = scores["network sum of risk"]
    for metric in ("any ROC-AUC", "any AP"):
        assert ours[metric] >= scores[HOUR_OF_WEEK][metric], metric


def test_the_tables_are_printed_and_the_card_names_the_winters(leeds):
    assert "region hours" in leeds["printed"] and "network sum of ice_risk" in leeds["printed"]
    assert "yardstick" in leeds["printed"] and "segment-hours, ice/snow incidents" in leeds["printed"]
    [card] = (leeds["root"] / "models").glob("*/card.md")
    text = card.read_text(encoding="utf-8")
    assert "Trees (final models, refit): 2018/19, 2019/20, 2020/21, 2021/22." in text
    assert "Calibration (out-of-fold predictions, cross-fitted by winter): 2019/20, 2020/21, 2021/22." in text
    assert "2021/22 predicted by 2018/19, 2019/20, 2020/21" in text
