"""The board's levels in words and colours: risk tiers, the official warnings, stretch conditions.

Two things the board shows apart:
- the **risk tier** (`none` < `blue` < `yellow` < `orange` < `red`), the model's ranking of where
  incidents are most likely: red is what the teams act on first;
- the **warnings** (`none` < `yellow` < `orange` < `red`), rule-based and named as the officials
  name them: the CMA road-icing warning signal (道路结冰预警信号) and the visibility control
  levels of the expressway speed rules (道路交通安全法实施条例 第八十一条).

Every room that names or paints a level imports it from here (board rules, exports, the app).
"""

from __future__ import annotations

from wxrisk.vocab import TIER_RANK as TIER_RANK  # the tiers' names, re-exported beside their words
from wxrisk.vocab import TIERS as TIERS

WARNING_LEVELS = ("none", "yellow", "orange", "red")
WARNING_RANK = {name: rank for rank, name in enumerate(WARNING_LEVELS)}
WARNING_KINDS = ("icing", "visibility")

TIER_WORDS: dict[str, tuple[str, str]] = {
    "none": ("无", "none"), "blue": ("蓝色", "blue"), "yellow": ("黄色", "yellow"),
    "orange": ("橙色", "orange"), "red": ("红色", "red"),
}

# (zh, en) per warning kind and level.
WARNING_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "icing": {
        "none": ("无道路结冰预警", "no road-icing warning"),
        "yellow": ("道路结冰黄色预警", "road-icing warning, yellow (icing within 12 h)"),
        "orange": ("道路结冰橙色预警", "road-icing warning, orange (icing within 6 h)"),
        "red": ("道路结冰红色预警", "road-icing warning, red (icing within 2 h or now)"),
    },
    "visibility": {
        "none": ("无能见度管控", "no visibility control"),
        "yellow": ("能见度管控（低于200米，限速60）", "visibility control: below 200 m, 60 km/h"),
        "orange": ("能见度管控（低于100米，限速40）", "visibility control: below 100 m, 40 km/h"),
        "red": ("能见度管控（低于50米，限速20并驶离）", "visibility control: below 50 m, 20 km/h, leave the expressway"),
    },
}
WARNING_SHORT_WORDS: dict[str, tuple[str, str]] = {
    "icing": ("道路结冰", "road icing"), "visibility": ("能见度管控", "visibility control"),
}

CONDITION_WORDS: dict[str, tuple[str, str]] = {
    "freezing_rain": ("冻雨", "freezing rain"),
    "snow": ("降雪", "snow"),
    "black_ice": ("路面结冰", "black ice"),
    "fog": ("低能见度", "low visibility"),
    "grade": ("长陡坡", "mountain grade"),
    "bridge": ("桥梁", "bridge"),
    "cross_province": ("跨省交界", "provincial border"),
}

# Colours [R, G, B, A]: the usual Chinese warning colours; `none` is a quiet grey.
TIER_RGBA: dict[str, list[int]] = {
    "red": [215, 25, 28, 255],
    "orange": [240, 125, 0, 255],
    "yellow": [230, 184, 0, 255],
    "blue": [31, 111, 209, 255],
    "none": [120, 130, 140, 150],
}
# Warnings are drawn as a translucent halo under the road, so they never read as a tier.
WARNING_RGBA: dict[str, list[int]] = {
    "red": [215, 25, 28, 60],
    "orange": [240, 125, 0, 60],
    "yellow": [230, 184, 0, 70],
    "none": [0, 0, 0, 0],
}


def words(table: dict[str, tuple[str, str]], key: str, lang: str = "zh") -> str:
    """The Chinese (default) or English word for `key` in a (zh, en) table; the key itself if unknown."""
    zh, en = table.get(key, (key, key))
    return en if lang == "en" else zh


def tier_word(tier: str, lang: str = "zh") -> str:
    return words(TIER_WORDS, tier, lang)


def warning_word(kind: str, level: str, lang: str = "zh") -> str:
    """`道路结冰橙色预警` / `road-icing warning, orange (...)`; empty for an unknown kind."""
    return words(WARNING_WORDS.get(kind, {}), level, lang)


def hex_colour(rgba: list[int]) -> str:
    """`#rrggbb` of an [R, G, B, A] colour."""
    return "#{:02x}{:02x}{:02x}".format(*rgba[:3])
