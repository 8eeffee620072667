"""Verification of a past period: every segment-hour scored and compared, beside plain scorers.

For `[start, end)` the model scores every segment-hour on analysis weather (or, with
`published=True`, the published boards' risk is read instead). Beside it, on the same rows:
the plain yardstick stored with the version (default-parameter LightGBM on raw inputs), the
historical average (incidents before `start` only) and the physical rule. Three views:

1. segment-hours: `risk` against incidents matched to segments, `ice_risk` against ice/snow ones;
2. region hours: the hourly sum over the network against the hours with an incident anywhere in
   the region (every incident of the period, matched to a segment or not), beside weather scores
   (minus the network's mean air temperature; the same raised after precipitation) and the
   region's hour-of-week incident rate before `start`;
3. with `truth` (a scenario world's `truth.parquet`): skill against the known hazard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from wxrisk.config import Settings, WxriskError
from wxrisk.model import baselines
from wxrisk.model.dataset import DatabaseFeatures, FrameFeatures, incident_table, label_frame
from wxrisk.model.exposure import HOURS_PER_WEEK, hour_of_week
from wxrisk.model.metrics import (
    HazardSkill,
    Metrics,
    hazard_skill,
    hazard_table,
    metrics_table,
    reliability_table,
    score_metrics,
)
from wxrisk.model.registry import LoadedModel, load_model
from wxrisk.model.truth import read_truth, truth_probability

CHUNK = timedelta(days=7)  # hours scored at a time
WET_RAISE_K = 2.0  # "minus temperature, raised after precipitation": +2 K ...
WET_RAISE_MM_12H = 0.2  # ... where at least this much fell in the 12 h before [mm]


@dataclass
class EvaluationReport:
    start: datetime
    end: datetime
    source: str            # what was verified: published forecasts or a model on analysis weather
    model_version: str
    segment_metrics: dict[str, list[Metrics]]
    region: pd.DataFrame   # per scorer: ROC-AUC and AP on the hours with any / ice-snow incidents
    hazard: dict[str, list[HazardSkill]] = field(default_factory=dict)
    table: str = ""

    def __str__(self) -> str:
        return self.table

    def to_json(self) -> dict:
        """Every figure of the report, for scripts and tests (`wxrisk evaluate --out FILE.json`)."""
        region = self.region.reset_index().to_dict(orient="records")
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "source": self.source,
                "model_version": self.model_version,
                "segment_hours": {view: [m.as_dict() for m in rows] for view, rows in self.segment_metrics.items()},
                "region_hours": {"scores": region, **self.region.attrs},
                "hazard": {view: [h.as_dict() for h in rows] for view, rows in self.hazard.items()}}


@dataclass
class _Scored:
    """Per segment-hour arrays of the period, gathered a chunk at a time."""

    parts: list[pd.DataFrame] = field(default_factory=list)
    hourly: list[pd.DataFrame] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        return pd.concat(self.parts, ignore_index=True)

    def hours(self) -> pd.DataFrame:
        return pd.concat(self.hourly).groupby(level=0).sum()


def published_risk(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> pd.DataFrame:
    """The latest complete run's risk, ice_risk, tier and warnings per segment-hour in `[start, end)`
    (forecast runs first)."""
    rows = con.execute(
        "SELECT r.segment_id, r.valid_time, r.risk AS published_risk, r.ice_risk AS published_ice_risk, "
        "r.tier, r.icing_warning, r.visibility_warning "
        "FROM risk r JOIN runs u USING (run_id) "
        "WHERE u.status = 'complete' AND r.valid_time >= ? AND r.valid_time < ? "
        "QUALIFY row_number() OVER (PARTITION BY r.segment_id, r.valid_time "
        "ORDER BY (u.weather_kind = 'forecast') DESC, u.created_at DESC) = 1",
        [start, end],
    ).df()
    return rows.assign(segment_id=rows["segment_id"].astype("string"),
                       valid_time=pd.to_datetime(rows["valid_time"]).astype("datetime64[us]"))


class _Baselines:
    """Historical averages (incidents before `start`) and the rule with the version's rates."""

    def __init__(self, con, loaded: LoadedModel, start: datetime):
        self.any_rates = baselines.segment_rates_from_history(con, start)
        self.ice_rates = baselines.segment_rates_from_history(con, start, ice_only=True)
        meta = loaded.meta["baselines"]
        self.roles, self.rates, self.ice_rule_rates = meta["rule_features"], meta["rule_rates"], meta["ice_rule_rates"]

    def scores(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        out = {"historical average": baselines.historical_average(frame["segment_id"], *self.any_rates),
               "ice historical average": baselines.historical_average(frame["segment_id"], *self.ice_rates)}
        if self.roles and all(name in frame.columns for name in self.roles.values()):
            out["physical rule"] = baselines.rule_probability(frame, self.roles, self.rates)
            out["ice physical rule"] = baselines.rule_probability(frame, self.roles, self.ice_rule_rates)
        return out


def _score_chunk(loaded: LoadedModel, frame: pd.DataFrame, plain: _Baselines) -> dict[str, np.ndarray]:
    risk = loaded.risk(frame)
    scores = {"model": risk, "ice model": loaded.ice_risk(frame, risk)}
    for label, name in (("label", "yardstick"), ("ice_label", "ice yardstick")):
        predicted = loaded.yardstick(frame, label)
        if predicted is not None:
            scores[name] = predicted
    return scores | plain.scores(frame)


def _weather_by_hour(frame: pd.DataFrame) -> pd.DataFrame:
    """Sums per hour of what the weather scores need (divided by the row count later)."""
    columns = {"rows": np.ones(len(frame))}
    for name in ("t2m_c", "precip_mm_12h"):
        if name in frame.columns:
            columns[name] = frame[name].to_numpy(dtype="float64", na_value=np.nan)
    return pd.DataFrame(columns, index=frame["valid_time"].to_numpy()).groupby(level=0).sum(min_count=1)


def score_period(con, settings: Settings, loaded: LoadedModel, start: datetime, end: datetime,
                 features: pd.DataFrame | None, published: bool, progress) -> _Scored:
    """Every segment-hour of the period with its labels and every scorer, a week at a time."""
    source = FrameFeatures(features) if features is not None else DatabaseFeatures(con, settings)
    plain = _Baselines(con, loaded, start)
    incidents = incident_table(con, start, end)
    shown = published_risk(con, start, end) if published else None
    scored = _Scored()
    chunk_start = start
    while chunk_start < end:
        chunk_end = min(chunk_start + CHUNK, end)
        frame = source.frame(chunk_start, chunk_end)
        if len(frame):
            labelled = label_frame(frame, incidents)
            scores = _score_chunk(loaded, labelled, plain)
            part = labelled[["segment_id", "valid_time", "label", "ice_label"]].assign(
                **{name: values.astype("float32") for name, values in scores.items()})
            if shown is not None:
                part = part.merge(shown, on=["segment_id", "valid_time"], how="inner")
                part = part.assign(model=part.pop("published_risk"), **{"ice model": part.pop("published_ice_risk")})
            scored.parts.append(part)
            scored.hourly.append(_weather_by_hour(labelled).join(
                part.groupby("valid_time")[[c for c in scores if c in part]].sum()))
            progress(f"  scored {chunk_start:%Y-%m-%d} to {chunk_end:%Y-%m-%d}: {len(part)} segment-hours")
        chunk_start = chunk_end
    if not scored.parts or not sum(len(p) for p in scored.parts):
        what = "published risk" if published else "analysis features"
        raise WxriskError(f"evaluate {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}: no {what} for that period "
                          f"({'score boards for it first' if published else 'import analysis weather first'})")
    return scored


# --- the three views ------------------------------------------------------------------------------

def segment_tables(rows: pd.DataFrame) -> dict[str, list[Metrics]]:
    """`risk` scorers against any incident and `ice_risk` scorers against ice/snow incidents."""
    hour = rows["valid_time"].to_numpy()
    views = {"any": ("label", ["model", "yardstick", "historical average", "physical rule"]),
             "ice": ("ice_label", ["ice model", "ice yardstick", "ice historical average", "ice physical rule"])}
    return {view: [score_metrics(name, rows[name].to_numpy(dtype="float64"), rows[label].to_numpy(), hour)
                   for name in names if name in rows and rows[name].notna().all()]
            for view, (label, names) in views.items()}


def hour_of_week_rate(con, before: datetime, hours: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """Each hour's region-wide incident rate in its local hour of the week, from every incident before
    `before` over the hours of the incident record (its first incident to `before`) [incidents/h]."""
    record = con.execute("SELECT date_trunc('hour', occurred_at) + INTERVAL 1 HOUR FROM incidents "
                         "WHERE occurred_at < ?", [before]).df().iloc[:, 0]
    if record.empty:
        return np.zeros(len(hours))
    record_hours = pd.date_range(record.min(), pd.Timestamp(before), freq="h", inclusive="left")
    exposure = np.bincount(hour_of_week(record_hours, timezone), minlength=HOURS_PER_WEEK)
    counts = np.bincount(hour_of_week(record, timezone), minlength=HOURS_PER_WEEK)
    return (counts / np.maximum(exposure, 1))[hour_of_week(hours, timezone)]


def region_table(con, scored: _Scored, start: datetime, end: datetime, timezone: str) -> pd.DataFrame:
    """ROC-AUC and AP of hourly scores on the hours with any incident / ice-snow incident in the region."""
    hours = scored.hours()
    incidents = incident_table(con, start, end)
    any_hour = hours.index.isin(pd.DatetimeIndex(incidents["valid_time"]))
    ice_hour = hours.index.isin(pd.DatetimeIndex(incidents.loc[incidents["ice"], "valid_time"]))
    mean_t2m = hours["t2m_c"] / hours["rows"] if "t2m_c" in hours else None
    scores = {"network sum of risk": hours.get("model"), "network sum of ice_risk": hours.get("ice model"),
              "network sum of yardstick": hours.get("yardstick"),
              "network sum of ice yardstick": hours.get("ice yardstick")}
    if mean_t2m is not None:
        scores["minus air temperature"] = -mean_t2m
        if "precip_mm_12h" in hours:
            wet = (hours["precip_mm_12h"] / hours["rows"]) >= WET_RAISE_MM_12H
            scores["minus temperature, raised after precipitation"] = -mean_t2m + WET_RAISE_K * wet
    scores["hour-of-week rate (history before start)"] = pd.Series(
        hour_of_week_rate(con, start, hours.index, timezone), index=hours.index)
    rows = []
    for name, score in scores.items():
        if score is None or score.isna().any():
            continue
        row = {"scorer": name}
        for view, positive in (("any", any_hour), ("ice", ice_hour)):
            both = 0 < positive.sum() < len(positive)
            row[f"{view} ROC-AUC"] = roc_auc_score(positive, score) if both else np.nan
            row[f"{view} AP"] = average_precision_score(positive, score) if both else np.nan
        rows.append(row)
    table = pd.DataFrame(rows).set_index("scorer")
    table.attrs.update(hours=len(hours), any_hours=int(any_hour.sum()), ice_hours=int(ice_hour.sum()),
                       incidents=len(incidents), ice_incidents=int(incidents["ice"].sum()))
    return table


def region_text(table: pd.DataFrame, title: str) -> str:
    header = f"{'hourly score':<48}{'any: ROC-AUC':>13}{'AP':>8}{'ice/snow: ROC-AUC':>19}{'AP':>8}"
    lines = [title, header, "-" * len(header)]
    for name, r in table.iterrows():
        lines.append(f"{name[:47]:<48}{r['any ROC-AUC']:>13.4f}{r['any AP']:>8.4f}"
                     f"{r['ice ROC-AUC']:>19.4f}{r['ice AP']:>8.4f}")
    a = table.attrs
    lines.append(f"{a['hours']} hours; {a['any_hours']} with any of the period's {a['incidents']} incidents, "
                 f"{a['ice_hours']} with one of its {a['ice_incidents']} ice/snow incidents (matched or not)")
    return "\n".join(lines)


def hazard_tables(rows: pd.DataFrame, truth: pd.DataFrame) -> tuple[dict[str, list[HazardSkill]], int]:
    """Skill against the hazard's P(>=1 incident) (any, ice/snow), on the rows the truth covers."""
    joined = rows.merge(truth, on=["segment_id", "valid_time"], how="inner")
    out = {}
    views = {"any": ("expected_incidents", ["model", "yardstick", "historical average", "physical rule"]),
             "ice": ("expected_ice_incidents", ["ice model", "ice yardstick", "ice historical average",
                                                "ice physical rule"])}
    for view, (column, names) in views.items():
        p = truth_probability(joined[column].to_numpy())
        best = hazard_skill("the hazard itself", p, p, 1.0)
        own = hazard_skill("the hazard itself", p, p, best.expected_pr_auc)
        out[view] = [hazard_skill(name, joined[name].to_numpy(dtype="float64"), p, best.expected_pr_auc,
                                  calibrated=name not in ("yardstick", "ice yardstick"))
                     for name in names if name in joined and joined[name].notna().all()] + [own]
    return out, len(joined)


def level_tables(rows: pd.DataFrame) -> str:
    """Observed incident rate per published tier and warning level, with lift over the average."""
    from wxrisk.levels import TIERS, WARNING_LEVELS, rates_by_level, rates_text

    texts = []
    for column, order in (("tier", TIERS), ("icing_warning", WARNING_LEVELS), ("visibility_warning", WARNING_LEVELS)):
        if column not in rows or rows[column].isna().all():
            continue
        levels = rows[column].fillna("none").astype(str)
        for label, what in (("label", "any incident"), ("ice_label", "ice/snow incidents")):
            texts.append(rates_text(rates_by_level(levels, rows[label].to_numpy() == 1, order),
                                    f"published {column.replace('_', ' ')}: observed rate, {what}"))
    return "\n\n".join(texts)


def evaluate_period(con: duckdb.DuckDBPyConnection, settings: Settings, start: datetime, end: datetime,
                    model: str = "champion", truth: Path | str | None = None, features: pd.DataFrame | None = None,
                    published: bool = False, progress: Callable[[str], None] = print) -> EvaluationReport:
    """Score `[start, end)` against what happened (and the known hazard), beside the plain scorers.

    `features` replaces `wxrisk.features` for the period (tests, notebooks).
    """
    if end <= start:
        raise WxriskError(f"evaluate: end {end} is not after start {start}")
    loaded = load_model(settings, model)
    hazard = read_truth(truth, start, end) if truth is not None else None
    scored = score_period(con, settings, loaded, start, end, features, published, progress)
    rows = scored.frame()
    source = "published boards" if published else f"model {loaded.version} on analysis weather"
    period = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC ({source})"
    segment = segment_tables(rows)
    region = region_table(con, scored, start, end, settings.timezone)
    texts = [metrics_table(segment["any"], f"segment-hours, any incident: {period}"),
             metrics_table(segment["ice"], "segment-hours, ice/snow incidents") if segment["ice"] else "",
             region_text(region, "region hours: hourly score against the hours with incidents anywhere in the region"),
             reliability_table(segment["any"][0]),
             level_tables(rows) if published else ""]
    skill: dict[str, list[HazardSkill]] = {}
    if hazard is not None:
        skill, covered = hazard_tables(rows, hazard)
        texts += [hazard_table(skill["any"], f"against the known hazard, any incident ({covered} segment-hours; "
                               "expected PR-AUC: average precision with P(>=1 incident) of the hazard as soft labels)"),
                  hazard_table(skill["ice"], "against the known hazard, ice/snow incidents")]
    table = "\n\n".join(t for t in texts if t)
    return EvaluationReport(start, end, source, loaded.version, segment, region, skill, table)
