"""The measures playbook (`playbook.yaml`, editable by headquarters) applied to stretches.

Each stretch gets the `general` measures of every tier up to its own plus those of each of its
conditions; a measure starts `lead_hours` before the stretch first reaches the lowest tier
that calls for it, and says why in Chinese and English.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from wxrisk.board.stretches import CONDITION_WORDS, TIER_WORDS
from wxrisk.board.tiers import TIER_RANK, TIERS
from wxrisk.config import WxriskError

BOARD_TIERS = TIERS[1:]
CONDITIONS = ("general", *CONDITION_WORDS)
MEASURE_FIELDS = ("label_zh", "label_en", "lead_hours", "priority", "police")
MEASURE_COLUMNS = ["stretch_id", "measure_id", "label_zh", "label_en", "start_at", "lead_hours",
                   "reason_zh", "reason_en", "priority", "police"]


def default_playbook_path() -> Path:
    return Path(str(resources.files("wxrisk.board").joinpath("playbook.yaml")))


def load_playbook(path: str | Path | None = None) -> dict:
    """The playbook from YAML (default: the packaged `playbook.yaml`), checked.

    Returns {"measures": {id: {label_zh, label_en, lead_hours [h], priority, police}},
             "playbook": {tier: {condition: [measure ids]}}}.
    """
    path = Path(path) if path is not None else default_playbook_path()
    try:
        book = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise WxriskError(f"{path}: cannot read playbook ({str(exc).splitlines()[0]})") from exc
    if not isinstance(book, dict) or not {"measures", "playbook"} <= set(book):
        raise WxriskError(f"{path}: playbook needs the sections `measures` and `playbook`")
    for measure_id, measure in book["measures"].items():
        missing = [f for f in MEASURE_FIELDS if f not in (measure or {})]
        if missing:
            raise WxriskError(f"{path}: measure {measure_id} lacks {', '.join(missing)}")
    for tier, by_condition in book["playbook"].items():
        if tier not in BOARD_TIERS:
            raise WxriskError(f"{path}: playbook tier {tier!r} is not one of {', '.join(BOARD_TIERS)}")
        for condition, measure_ids in (by_condition or {}).items():
            if condition not in CONDITIONS:
                raise WxriskError(f"{path}: {tier}.{condition}: unknown condition (known: {', '.join(CONDITIONS)})")
            unknown = [m for m in measure_ids or [] if m not in book["measures"]]
            if unknown:
                raise WxriskError(f"{path}: {tier}.{condition}: unknown measure(s) {', '.join(unknown)}")
    return book


def measures_for(tier: str, conditions: list[str], book: dict) -> dict[str, tuple[str, list[str]]]:
    """Measure id -> (lowest tier calling for it, the conditions that call for it at that tier)."""
    chosen: dict[str, tuple[str, list[str]]] = {}
    for level in BOARD_TIERS[: TIER_RANK[tier]]:
        by_condition = book["playbook"].get(level) or {}
        for condition in ("general", *conditions):
            for measure_id in by_condition.get(condition) or []:
                first_tier, why = chosen.setdefault(measure_id, (level, []))
                if first_tier == level and condition not in why:
                    why.append(condition)
    return chosen


def _reason(measure: dict, level: str, why: list[str], onset: pd.Timestamp, tz: str) -> tuple[str, str]:
    local = onset.tz_localize("UTC").tz_convert(tz)
    named = [c for c in why if c != "general"]
    zh_cond = "、".join(CONDITION_WORDS[c][0] for c in named)
    en_cond = ", ".join(CONDITION_WORDS[c][1] for c in named)
    lead = float(measure["lead_hours"])
    zh = (f"{local:%m月%d日%H时}起达{TIER_WORDS[level][0]}等级" + (f"，{zh_cond}" if zh_cond else "")
          + f"：提前 {lead:g} 小时{measure['label_zh']}")
    en = (f"{TIER_WORDS[level][1]} from {local:%d %b %H:%M} local" + (f" with {en_cond}" if en_cond else "")
          + f": {measure['label_en']} {lead:g} h ahead")
    return zh, en


def assign_measures(stretches: pd.DataFrame, book: dict, tz: str = "Asia/Shanghai") -> pd.DataFrame:
    """The measures of every stretch (columns `MEASURE_COLUMNS`), by priority.

    stretches : rows of `build_stretches` (`tier`, `conditions` JSON, `tier_onsets` JSON [UTC])
    `start_at` [UTC naive] = first hour at the measure's tier - lead time.
    """
    rows = []
    for stretch in stretches.itertuples(index=False):
        onsets = {t: pd.Timestamp(ts) for t, ts in json.loads(stretch.tier_onsets).items()}
        conditions = json.loads(stretch.conditions)
        for measure_id, (level, why) in measures_for(stretch.tier, conditions, book).items():
            measure = book["measures"][measure_id]
            onset = onsets.get(level, pd.Timestamp(stretch.onset))
            reason_zh, reason_en = _reason(measure, level, why, onset, tz)
            rows.append({
                "stretch_id": stretch.stretch_id,
                "measure_id": measure_id,
                "label_zh": measure["label_zh"],
                "label_en": measure["label_en"],
                "start_at": onset - pd.Timedelta(hours=float(measure["lead_hours"])),
                "lead_hours": float(measure["lead_hours"]),
                "reason_zh": reason_zh,
                "reason_en": reason_en,
                "priority": int(measure["priority"]),
                "police": bool(measure["police"]),
            })
    frame = pd.DataFrame(rows, columns=MEASURE_COLUMNS)
    return frame.sort_values(["stretch_id", "priority"], ignore_index=True)
