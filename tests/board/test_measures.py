"""The playbook: every tier and condition maps to measures, with start times and reasons."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from wxrisk.board.measures import (
    BOARD_TIERS,
    CONDITIONS,
    assign_measures,
    default_playbook_path,
    load_playbook,
)
from wxrisk.config import WxriskError


def stretch(tier: str, conditions: list[str], onsets: dict[str, str]) -> dict:
    return {"stretch_id": f"S-{tier}-{'-'.join(conditions) or 'none'}", "tier": tier,
            "conditions": json.dumps(conditions), "tier_onsets": json.dumps(onsets),
            "onset": pd.Timestamp(min(onsets.values()))}


TZ = "Asia/Shanghai"
ONSETS = {"blue": "2024-02-02T00:00:00", "yellow": "2024-02-02T03:00:00",
          "orange": "2024-02-02T06:00:00", "red": "2024-02-02T09:00:00"}


def test_every_tier_and_condition_has_measures():
    book = load_playbook()
    for tier in BOARD_TIERS:
        for condition in CONDITIONS:
            assert book["playbook"][tier][condition], f"{tier}.{condition} has no measure"


@pytest.mark.parametrize("tier", BOARD_TIERS)
@pytest.mark.parametrize("condition", [c for c in CONDITIONS if c != "general"])
def test_each_condition_adds_its_measures(tier, condition):
    book = load_playbook()
    onsets = {t: ONSETS[t] for t in BOARD_TIERS[: BOARD_TIERS.index(tier) + 1]}
    measures = assign_measures(pd.DataFrame([stretch(tier, [condition], onsets)]), book, tz=TZ)
    expected = set(book["playbook"][tier][condition]) | set(book["playbook"][tier]["general"])
    assert expected <= set(measures["measure_id"])
    assert measures["reason_zh"].str.len().gt(0).all() and measures["reason_en"].str.len().gt(0).all()


def test_red_freezing_rain_gets_escort_convoy_and_timed_starts():
    book = load_playbook()
    measures = assign_measures(pd.DataFrame([stretch("red", ["freezing_rain", "bridge"], ONSETS)]), book, tz=TZ)
    by_id = measures.set_index("measure_id")
    assert {"police_escort", "convoy", "closure_diversion", "deicing", "ban_hazmat_coach"} <= set(by_id.index)
    # hours are labelled by their end: the first blue hour (label 00:00 UTC) begins at 23:00;
    # de-icing is first called for at blue (freezing rain) -> 3 h before that
    assert by_id.loc["deicing", "start_at"] == pd.Timestamp("2024-02-01T20:00:00")
    # police escort is first called for at orange (freezing rain) -> 1 h before the orange hour begins (05:00 UTC)
    assert by_id.loc["police_escort", "start_at"] == pd.Timestamp("2024-02-02T04:00:00")
    assert "橙色" in by_id.loc["police_escort", "reason_zh"] and "冻雨" in by_id.loc["police_escort", "reason_zh"]
    assert "13:00" in by_id.loc["police_escort", "reason_en"]  # 05:00 UTC is 13:00 Beijing time
    # closure only at red: 2 h before the red hour begins (08:00 UTC)
    assert by_id.loc["closure_diversion", "start_at"] == pd.Timestamp("2024-02-02T06:00:00")
    assert measures["priority"].is_monotonic_increasing


def test_blue_stretch_gets_no_escort():
    measures = assign_measures(pd.DataFrame([stretch("blue", [], {"blue": ONSETS["blue"]})]), load_playbook(), tz=TZ)
    assert measures["measure_id"].tolist() == ["patrol_warning"]


def test_playbook_rejects_an_unknown_measure(tmp_path):
    text = default_playbook_path().read_text(encoding="utf-8")
    path = tmp_path / "playbook.yaml"
    path.write_text(text.replace("fog: [police_escort, pacing]", "fog: [police_escort, helicopter]"), encoding="utf-8")
    with pytest.raises(WxriskError, match=r"orange\.fog: unknown measure\(s\) helicopter"):
        load_playbook(path)


def test_a_warning_adds_its_measures_from_its_own_onset():
    """A yellow stretch under a red road-icing warning gets the closure criteria, timed by the warning."""
    book = load_playbook()
    row = stretch("yellow", ["freezing_rain"], {"blue": ONSETS["blue"], "yellow": ONSETS["yellow"]})
    row["warning_onsets"] = json.dumps({"icing": {"yellow": "2024-02-01T22:00:00", "red": "2024-02-02T05:00:00"},
                                        "visibility": {}})
    by_id = assign_measures(pd.DataFrame([row]), book, tz=TZ).set_index("measure_id")
    assert "closure_diversion" in by_id.index and "police_escort" not in by_id.index  # the tier stays yellow
    assert by_id.loc["closure_diversion", "start_at"] == pd.Timestamp("2024-02-02T02:00:00")  # 2 h before 04:00
    assert "道路结冰红色预警" in by_id.loc["closure_diversion", "reason_zh"]
    # de-icing is called for by the yellow warning (begins 21:00) before the blue tier (begins 23:00): earlier wins
    assert by_id.loc["deicing", "start_at"] == pd.Timestamp("2024-02-01T18:00:00")
    assert "道路结冰黄色预警" in by_id.loc["deicing", "reason_zh"]


def test_playbook_rejects_an_unknown_warning_level(tmp_path):
    text = default_playbook_path().read_text(encoding="utf-8")
    path = tmp_path / "playbook.yaml"
    path.write_text(text.replace("    red: [pacing, closure_diversion]", "    purple: [pacing]"), encoding="utf-8")
    with pytest.raises(WxriskError, match=r"warnings\.visibility\.purple: level is not one of"):
        load_playbook(path)
