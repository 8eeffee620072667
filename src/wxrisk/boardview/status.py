"""Is the board trustworthy now? Weather age, missing inputs and the champion model's card."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from wxrisk.boardview.i18n import ICE_SCORER_PREFIX, SCORER_WORDS, metric_label, scorer_label, t
from wxrisk.boardview.snapshot import RunInfo, to_local
from wxrisk.config import STALE_FORECAST_HOURS

POINTER_NAMES = ("CHAMPION", "champion")
COUNT_METRICS = ("rows", "positives")
MAX_WEATHER_AGE_H = STALE_FORECAST_HOURS  # one threshold: the pipeline flags the same age


def freshness_reference(run: RunInfo, now_utc: datetime) -> datetime:
    """The time the weather's age is judged at [UTC]: the run's own start for a synthetic run (a
    replay of a past event), the wall clock for a real one."""
    return run.start_time if run.synthetic else now_utc


def replay_text(run: RunInfo, tz: str, lang: str = "zh") -> str:
    """`回放：2024年2月2日05:00 的看板` / `Replay of the board of 2024-02-02 05:00` (run start, local time)."""
    start = to_local(run.start_time, tz)
    when = f"{start.year}年{start.month}月{start.day}日{start:%H:%M}" if lang != "en" else f"{start:%Y-%m-%d %H:%M}"
    return t("replay", lang, when=when)


def osm_attribution() -> str:
    """The OpenStreetMap attribution of the demo world's Anhui bridges (ODbL), as the world states it."""
    from wxrisk.scenario.osm_bridges import ATTRIBUTION  # imported only for a board that shows them

    return ATTRIBUTION


def input_words(item: str, lang: str = "zh", labels: dict[str, tuple[str, str]] | None = None) -> str:
    """A missing input as the officer reads it: `feature:grade_pct` -> `纵坡 (grade_pct)`; others as given.

    labels : feature name -> (zh, en), as published with the board (`RunInfo.feature_labels`)
    """
    kind, _, name = item.partition(":")
    words = (labels or {}).get(name) if kind == "feature" else None
    if words is None:
        return item
    return f"{words[1] if lang == 'en' else words[0]} ({name})"


def data_warnings(run: RunInfo, now_utc: datetime, lang: str = "zh",
                  max_weather_age_h: float = MAX_WEATHER_AGE_H) -> list[str]:
    """Warnings for the duty officer: stale or undated weather, missing inputs (empty when fine).
    The weather's age is counted to `freshness_reference(run, now_utc)`."""
    warnings = []
    if run.weather_kind == "analysis":
        warnings.append(t("hindcast", lang))
    elif run.weather_issued_at is None:
        warnings.append(t("no_weather_issue", lang))
    else:
        age_h = (freshness_reference(run, now_utc) - run.weather_issued_at).total_seconds() / 3600
        if age_h > max_weather_age_h:
            key = "stale_weather_replay" if run.synthetic else "stale_weather"
            warnings.append(t(key, lang, age=age_h, limit=f"{max_weather_age_h:g}"))
    if run.missing_inputs:
        items = ", ".join(input_words(i, lang, run.feature_labels) for i in run.missing_inputs)
        warnings.append(t("missing_inputs", lang, items=items))
    return warnings


@dataclass(frozen=True)
class ChampionCard:
    """What the registry says of the champion: version, card text (Markdown), metadata, metrics."""

    version: str
    card_md: str
    meta: dict
    metrics: dict[str, float]


def _champion_version(pointer: Path) -> str | None:
    text = pointer.read_text(encoding="utf-8").strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return text.splitlines()[0].strip()
    if isinstance(value, dict):
        return str(value.get("version") or "") or None
    return str(value)


def _numeric_metrics(meta: dict) -> dict[str, float]:
    metrics = meta.get("metrics", {})
    if not isinstance(metrics, dict):
        return {}
    flat = {}
    for name, value in metrics.items():
        if isinstance(value, dict):
            flat.update({f"{name}.{k}": float(v) for k, v in value.items() if isinstance(v, int | float)})
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


def metric_tables(metrics: dict[str, float], lang: str = "zh") -> dict[str, pd.DataFrame]:
    """The champion's metrics in words, per view (`any` incident; `ice`/snow incidents, scorers
    named `ice_<scorer>`): one row per metric, one column per scorer (the model and its
    yardsticks), values as text (counts whole, others to 4 significant digits). Flattened keys
    `scorer.metric` split on the known scorers; others are the model's."""
    cells: dict[str, dict[tuple[str, str], float]] = {}
    for key, value in metrics.items():
        scorer, _, metric = key.partition(".")
        view = "ice" if scorer.startswith(ICE_SCORER_PREFIX) else "any"
        scorer = scorer.removeprefix(ICE_SCORER_PREFIX)
        if scorer not in SCORER_WORDS or not metric:
            view, scorer, metric = "any", "model", key
        cells.setdefault(view, {})[(metric, scorer)] = value
    return {view: _metric_frame(cells[view], lang) for view in ("any", "ice") if view in cells}


def _metric_frame(cells: dict[tuple[str, str], float], lang: str) -> pd.DataFrame:
    scorers = [s for s in SCORER_WORDS if any(c[1] == s for c in cells)]
    names = list(dict.fromkeys(metric for metric, _ in cells))
    table = pd.DataFrame({scorer_label(s, lang): [_metric_text(m, cells.get((m, s))) for m in names] for s in scorers})
    table.insert(0, t("metric_name", lang), [metric_label(m, lang) for m in names])
    return table


def _metric_text(metric: str, value: float | None) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{value:,.0f}" if metric in COUNT_METRICS else f"{value:.4g}"


def read_champion(models_dir: Path) -> ChampionCard | None:
    """The champion named in `models_dir/CHAMPION` (or `champion`), or None when there is none (yet) or
    it is unreadable. The pointer holds `{"version": ...}` or the bare version name."""
    pointer = next((p for p in (Path(models_dir) / n for n in POINTER_NAMES) if p.is_file()), None)
    if pointer is None:
        return None
    version = _champion_version(pointer)
    if version is None:
        return None
    folder = Path(models_dir) / version
    card_path, meta_path = folder / "card.md", folder / "meta.json"
    card_md = card_path.read_text(encoding="utf-8") if card_path.is_file() else ""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    except ValueError:
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    if not card_md and not meta:
        return None
    return ChampionCard(version=version, card_md=card_md, meta=meta, metrics=_numeric_metrics(meta))
