"""The measures playbook (`playbook.yaml`, editable by headquarters) applied to stretches.

Each stretch gets the `general` measures of every tier up to its own plus those of each of its
conditions; a measure starts `lead_hours` before the stretch first reaches the lowest tier
that calls for it. An official warning on the stretch (road icing, visibility control) adds the
measures the playbook lists for it, starting `lead_hours` before the warning first reaches that
level; a measure called for both ways starts at the earlier time. Every measure says why, in
Chinese and English.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from wxrisk.board.stretches import local_hour_words
from wxrisk.config import WxriskError
from wxrisk.levels import (
    CONDITION_WORDS,
    TIER_RANK,
    TIERS,
    WARNING_KINDS,
    WARNING_LEVELS,
    tier_word,
    warning_word,
)

BOARD_TIERS = TIERS[1:]
CONDITIONS = ("general", *CONDITION_WORDS)
MEASURE_FIELDS = ("label_zh", "label_en", "lead_hours", "priority", "police")
MEASURE_COLUMNS = ["stretch_id", "measure_id", "label_zh", "label_en", "start_at", "lead_hours",
                   "reason_zh", "reason_en", "priority", "police"]


def default_playbook_path() -> Path:
    return Path(str(resources.files("wxrisk.board").joinpath("playbook.yaml")))


def _check_ids(path: Path, where: str, measure_ids, book: dict) -> None:
    unknown = [m for m in measure_ids or [] if m not in book["measures"]]
    if unknown:
        raise WxriskError(f"{path}: {where}: unknown measure(s) {', '.join(unknown)}")


def load_playbook(path: str | Path | None = None) -> dict:
    """The playbook from YAML (default: the packaged `playbook.yaml`), checked.

    Returns {"measures": {id: {label_zh, label_en, lead_hours [h], priority, police}},
             "playbook": {tier: {condition: [measure ids]}},
             "warnings": {icing|visibility: {level: [measure ids]}}} (`warnings` may be empty).
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
            _check_ids(path, f"{tier}.{condition}", measure_ids, book)
    book["warnings"] = book.get("warnings") or {}
    for kind, by_level in book["warnings"].items():
        if kind not in WARNING_KINDS:
            raise WxriskError(f"{path}: warnings.{kind}: unknown warning (known: {', '.join(WARNING_KINDS)})")
        for level, measure_ids in (by_level or {}).items():
            if level not in WARNING_LEVELS[1:]:
                raise WxriskError(f"{path}: warnings.{kind}.{level}: level is not one of {', '.join(WARNING_LEVELS[1:])}")
            _check_ids(path, f"warnings.{kind}.{level}", measure_ids, book)
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


@dataclass(frozen=True)
class Call:
    """Why a measure is on a stretch: from when [UTC], and the words for it."""

    at: pd.Timestamp
    zh: str
    en: str


HOUR = pd.Timedelta(hours=1)


def hour_begins(label) -> pd.Timestamp:
    """When a board hour begins [UTC]: hours are labelled by their end (`valid_time`)."""
    return pd.Timestamp(label) - HOUR


def tier_call(level: str, why: list[str], onset: pd.Timestamp, tz: str) -> Call:
    """`02月02日14时起达橙色等级，冻雨` / `orange from 02 Feb 14:00 local with freezing rain`
    (onset: when the first hour at that tier begins [UTC])."""
    named = [c for c in why if c != "general"]
    zh_cond = "、".join(CONDITION_WORDS[c][0] for c in named)
    en_cond = ", ".join(CONDITION_WORDS[c][1] for c in named)
    local_zh, local_en = local_hour_words(onset, tz)
    return Call(onset, f"{local_zh}起达{tier_word(level)}等级" + (f"，{zh_cond}" if zh_cond else ""),
                f"{tier_word(level, 'en')} from {local_en} local" + (f" with {en_cond}" if en_cond else ""))


def warning_calls(onsets: dict[str, dict[str, str]], book: dict, tz: str) -> dict[str, Call]:
    """Measure id -> its earliest call by a warning on the stretch (`warning_onsets` JSON, parsed)."""
    calls: dict[str, Call] = {}
    for kind, by_level in book["warnings"].items():
        for level, measure_ids in (by_level or {}).items():
            if level not in onsets.get(kind, {}):
                continue
            at = hour_begins(onsets[kind][level])
            local_zh, local_en = local_hour_words(at, tz)
            call = Call(at, f"{local_zh}起{warning_word(kind, level)}",
                        f"{warning_word(kind, level, 'en')} from {local_en} local")
            for measure_id in measure_ids or []:
                if measure_id not in calls or at < calls[measure_id].at:
                    calls[measure_id] = call
    return calls


class StretchCalls:
    """Measure id -> the earliest call for it on a stretch, by its tier or by a warning.

    A board repeats few tiers, conditions, onset hours and warnings, so each distinct playbook
    choice, call and JSON text is worked out once per board.
    """

    def __init__(self, book: dict, tz: str) -> None:
        self.book, self.tz = book, tz
        self.chosen: dict[tuple[str, str], list[tuple[str, str, tuple[str, ...]]]] = {}
        self.by_tier: dict[tuple, Call] = {}
        self.by_warning: dict[str, dict[str, Call]] = {}
        self.onsets: dict[str, dict[str, str]] = {}

    def __call__(self, tier: str, conditions: str, tier_onsets: str, onset, warning_onsets: str | None
                 ) -> dict[str, Call]:
        """conditions, tier_onsets, warning_onsets: the stretch's JSON texts; onset: its first hour [UTC]."""
        onsets = self._parsed(tier_onsets)
        calls = {measure_id: self._tier_call(level, why, onsets.get(level, onset))
                 for measure_id, level, why in self._chosen(tier, conditions)}
        for measure_id, call in self._warning_calls(warning_onsets or "{}").items():
            if measure_id not in calls or call.at < calls[measure_id].at:
                calls[measure_id] = call
        return calls

    def _parsed(self, text: str) -> dict:
        if text not in self.onsets:
            self.onsets[text] = json.loads(text)
        return self.onsets[text]

    def _chosen(self, tier: str, conditions: str) -> list[tuple[str, str, tuple[str, ...]]]:
        key = (tier, conditions)
        if key not in self.chosen:
            self.chosen[key] = [(measure_id, level, tuple(why)) for measure_id, (level, why)
                                in measures_for(tier, json.loads(conditions), self.book).items()]
        return self.chosen[key]

    def _tier_call(self, level: str, why: tuple[str, ...], onset) -> Call:
        key = (level, why, onset)
        if key not in self.by_tier:
            self.by_tier[key] = tier_call(level, list(why), hour_begins(onset), self.tz)
        return self.by_tier[key]

    def _warning_calls(self, text: str) -> dict[str, Call]:
        if text not in self.by_warning:
            self.by_warning[text] = warning_calls(json.loads(text), self.book, self.tz)
        return self.by_warning[text]


def _measure_rows(calls: dict[str, Call], book: dict) -> tuple[list, ...]:
    """The rows of a stretch's calls as columns `MEASURE_COLUMNS[1:]` (all but the stretch id)."""
    rows = []
    for measure_id, call in calls.items():
        measure = book["measures"][measure_id]
        lead = float(measure["lead_hours"])
        rows.append((measure_id, measure["label_zh"], measure["label_en"], call.at - pd.Timedelta(hours=lead), lead,
                     f"{call.zh}：提前 {lead:g} 小时{measure['label_zh']}",
                     f"{call.en}: {measure['label_en']} {lead:g} h ahead", int(measure["priority"]),
                     bool(measure["police"])))
    return tuple(list(column) for column in zip(*rows, strict=True)) if rows else ([],) * (len(MEASURE_COLUMNS) - 1)


def assign_measures(stretches: pd.DataFrame, book: dict, tz: str) -> pd.DataFrame:
    """The measures of every stretch (columns `MEASURE_COLUMNS`), by priority.

    stretches : rows of `build_stretches` (`tier`, `conditions` JSON, `tier_onsets` JSON [UTC],
                optionally `warning_onsets` JSON)
    `start_at` [UTC naive] = when the calling hour begins - the measure's lead time.
    Stretches alike in tier, conditions and onsets get the same rows, worked out once.
    """
    calls_of = StretchCalls(book, tz)
    rows_of: dict[tuple, tuple[list, ...]] = {}
    columns: dict[str, list] = {name: [] for name in MEASURE_COLUMNS}
    warned = stretches["warning_onsets"].tolist() if "warning_onsets" in stretches else [None] * len(stretches)
    for stretch_id, *stretch in zip(*(stretches[c].tolist() for c in ("stretch_id", "tier", "conditions",
                                                                     "tier_onsets", "onset")), warned, strict=True):
        key = tuple(stretch)
        rows = rows_of.get(key)
        if rows is None:
            rows = rows_of[key] = _measure_rows(calls_of(*stretch), book)
        columns["stretch_id"] += [stretch_id] * len(rows[0])
        for name, values in zip(MEASURE_COLUMNS[1:], rows, strict=True):
            columns[name] += values
    frame = pd.DataFrame(columns if columns["stretch_id"] else [], columns=MEASURE_COLUMNS)
    return frame.sort_values(["stretch_id", "priority"], ignore_index=True)
