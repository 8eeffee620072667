"""Drivers in words: amounts with their unit, flags by name, codes by what they mean."""

from wxrisk.features import SPECS_BY_NAME
from wxrisk.features.physics import PHASE_FREEZING, PHASE_SNOW


def test_a_phase_code_is_named_not_shown_as_a_bare_label():
    phase = SPECS_BY_NAME["phase_code"]
    assert phase.describe(PHASE_SNOW, "en") == "precipitation phase: snow"
    assert phase.describe(PHASE_FREEZING, "zh") == "降水相态：冻雨"
    assert phase.describe(float("nan"), "en") == "precipitation phase"


def test_amounts_and_flags_keep_their_words():
    assert SPECS_BY_NAME["fzra_mm_1h"].describe(2.06, "en").endswith(" 2.1 mm")
    assert SPECS_BY_NAME["bridge"].describe(1.0, "en") == SPECS_BY_NAME["bridge"].label_en
