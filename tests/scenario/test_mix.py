"""The worlds' incident mix: mostly traffic incidents, ice/snow ones a minority concentrated in icing episodes,
and the Leeds signature (all incidents do not rise in dry frost, ice/snow ones rise steeply)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from wxrisk.config import WxriskError
from wxrisk.scenario import generate
from wxrisk.scenario.history import reports_ice_or_snow
from wxrisk.scenario.summary import DRY_FROST, MILD, format_mix, replace_docs_block, world_mix

DOCS = Path(__file__).resolve().parents[2] / "docs" / "demo-world.md"
WORLDS = ("demo", "guizhou")


@pytest.fixture(scope="module")
def mixes():
    """Both full worlds, seed 2024, with the incidents `generate` draws (about 7 s of CPU)."""
    return {world: world_mix("demo", 2024, world) for world in WORLDS}


@pytest.mark.parametrize("world", WORLDS)
def test_ice_and_snow_are_a_minority_of_all_incidents_over_the_windows(mixes, world):
    # Issue 14: in real records ice/snow collisions are a few percent over a winter (Leeds 1.3 %), dominant only
    # inside icing episodes. The worlds' windows are chosen for their icing episodes: 15-30 % over all of them.
    mix = mixes[world]
    assert 15.0 <= mix.all_windows.ice_share <= 30.0
    for w in mix.windows:
        assert 10.0 <= w.whole.ice_share <= 40.0, w.winter.label
        assert w.traffic > 0.6 * w.whole.expected, w.winter.label
        drawn_share = 100 * w.drawn_ice / w.drawn
        assert abs(drawn_share - w.whole.ice_share) < 4.0, w.winter.label


@pytest.mark.parametrize("world", WORLDS)
def test_ice_and_snow_incidents_happen_in_icing_episodes(mixes, world):
    for w in mixes[world].windows:
        assert w.icing.ice >= 0.9 * w.whole.ice, w.winter.label
        assert w.icing.ice_share >= 20.0 and w.other.ice_share <= 3.0, w.winter.label
        assert 5 <= w.icing_days <= w.days // 2, w.winter.label


@pytest.mark.parametrize("world", WORLDS)
def test_the_leeds_signature_all_incidents_do_not_rise_in_dry_frost_ice_and_snow_ones_do(mixes, world):
    frost, mild = mixes[world].hour_classes[DRY_FROST], mixes[world].hour_classes[MILD]
    assert frost.hours > 0.05 * mixes[world].all_windows.hours
    assert frost.rate <= mild.rate
    assert frost.per_100m_vehicle_km <= mild.per_100m_vehicle_km
    assert frost.ice_rate >= 30 * mild.ice_rate and frost.ice_rate > 0.05


@pytest.mark.parametrize("world", WORLDS)
def test_the_docs_show_what_the_summary_command_prints(mixes, world):
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(rf"<!-- summary:{world} -->\n(.*?)\n<!-- /summary:{world} -->", text, re.S)
    assert block, f"docs/demo-world.md has no summary block for {world}"
    assert block.group(1).splitlines() == format_mix(mixes[world]), (
        f"run: python -m wxrisk.scenario.summary --world {world} --docs docs/demo-world.md")


def test_the_summary_counts_the_incidents_generate_writes(tmp_path):
    files = generate(tmp_path / "tiny", seed=2024, size="tiny")
    with files.incidents.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    mix = world_mix("tiny", 2024, "demo")
    for w in mix.windows:
        written = [r for r in rows if r["incident_id"].startswith(f"SYN-{w.winter.label}-")]
        assert (w.drawn, w.drawn_ice) == (len(written), sum(map(reports_ice_or_snow, written)))
    assert sum(w.drawn for w in mix.windows) == len(rows)


def test_a_docs_file_without_the_block_is_refused():
    assert replace_docs_block("a\n<!-- summary:demo -->\nold\n<!-- /summary:demo -->\nb", "demo", ["new"]) == (
        "a\n<!-- summary:demo -->\nnew\n<!-- /summary:demo -->\nb")
    with pytest.raises(WxriskError, match="summary:guizhou"):
        replace_docs_block("no markers here", "guizhou", ["new"])
