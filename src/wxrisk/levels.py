"""The board's levels in words and colours: risk tiers, the official warnings, stretch conditions;
and whether a level ranks (observed rate and lift per level: `rates_by_level`).

Two things the board shows apart:
- the **risk tier** (`none` < `blue` < `yellow` < `orange` < `red`), the model's ranking of where
  incidents are most likely: red is what the teams act on first;
- the **warnings** (`none` < `yellow` < `orange` < `red`), rule-based and named as the officials
  name them: the CMA road-icing warning signal (道路结冰预警信号) and the visibility control
  levels of the expressway speed rules (道路交通安全法实施条例 第八十一条).

Every room that names or paints a level imports it from here (board rules, exports, the app).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    "icing": ("道路结冰预警", "Road-icing warning"), "visibility": ("能见度管控", "Visibility control"),
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


def window_start(onset):
    """When a stretch's window begins, as the board and the briefing show it: hours are labelled by
    their end (`valid_time`, like the model's label), so the first risky hour, labelled `onset`,
    begins an hour earlier (measure start times count back from there too)."""
    return pd.Timestamp(onset) - pd.Timedelta(hours=1)


def hex_colour(rgba: list[int]) -> str:
    """`#rrggbb` of an [R, G, B, A] colour."""
    return "#{:02x}{:02x}{:02x}".format(*rgba[:3])


# --- does a level rank? (the board's verification and `wxrisk evaluate` on published runs) ---

def rates_by_level(levels: pd.Series | np.ndarray, hit: np.ndarray, order: tuple[str, ...]) -> pd.DataFrame:
    """Does a level rank? Per level (in `order`): `segment_hours`, `incident_hours` (with >= 1
    incident), `share_of_incidents`, `rate` (incident hours / segment-hours) and `lift` (rate over
    the rate of all segment-hours). Levels never seen keep a row of zeros (rate NaN).

    levels : the level of each segment-hour (a tier or a warning level)
    hit    : >= 1 incident (bool), or the expected number of incidents (float: a scenario world's
             known hazard, `truth.parquet`; `incident_hours` is then their sum)
    """
    values = np.asarray(hit)
    counted = values.dtype == bool
    frame = pd.DataFrame({"level": np.asarray(levels, dtype=object), "hit": values.astype(float)})
    table = frame.groupby("level")["hit"].agg(segment_hours="size", incident_hours="sum").reindex(list(order))
    table = table.fillna(0).astype({"segment_hours": int, "incident_hours": int if counted else float})
    average = frame["hit"].mean() if len(frame) else np.nan
    total = frame["hit"].sum() or 1.0
    table["share_of_incidents"] = table["incident_hours"] / total
    table["rate"] = table["incident_hours"] / table["segment_hours"].where(table["segment_hours"] > 0)
    table["lift"] = table["rate"] / average if average and average > 0 else np.nan
    return table.rename_axis("level").reset_index()


def rates_text(table: pd.DataFrame, title: str) -> str:
    """The table of `rates_by_level` as plain text for the command line."""
    lines = [title, f"{'level':<8} {'seg-hours':>10} {'inc-hours':>9} {'share':>7} {'rate':>9} {'lift':>6}"]
    for row in table.itertuples(index=False):
        rate = "—" if pd.isna(row.rate) else f"{row.rate:.5f}"
        lift = "—" if pd.isna(row.lift) else f"{row.lift:.2f}"
        hours = f"{row.incident_hours:>9,}" if isinstance(row.incident_hours, int) else f"{row.incident_hours:>9,.1f}"
        lines.append(f"{row.level:<8} {row.segment_hours:>10,} {hours} {row.share_of_incidents:>7.1%} "
                     f"{rate:>9} {lift:>6}")
    return "\n".join(lines)
