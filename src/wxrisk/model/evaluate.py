"""Verification: a past period's risk scored against the incidents that then happened.

The risk comes from the published runs in table `risk` when there are any for the period (for
each segment-hour the latest complete run, forecast runs before analysis ones), otherwise
from the chosen model on the period's analysis weather. The baselines use only what was
known before the period: each segment's incident history before `start`, and the physical
rule with the incident rates of the model's training data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from wxrisk.config import Settings, WxriskError
from wxrisk.model import baselines
from wxrisk.model.dataset import analysis_features, label_frame, normalise_keys
from wxrisk.model.metrics import Metrics, metrics_table, reliability_table, score_metrics
from wxrisk.model.predict import feature_matrix
from wxrisk.model.registry import load_model


@dataclass
class EvaluationReport:
    start: datetime
    end: datetime
    source: str            # what was verified: published forecasts or a model on analysis weather
    model_version: str
    metrics: list[Metrics]
    table: str

    def __str__(self) -> str:
        return self.table


def published_risk(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> pd.DataFrame:
    """The latest complete run's risk per segment-hour in `[start, end)` (forecast runs first)."""
    rows = con.execute(
        "SELECT r.segment_id, r.valid_time, r.risk FROM risk r JOIN runs u USING (run_id) "
        "WHERE u.status = 'complete' AND r.valid_time >= ? AND r.valid_time < ? "
        "QUALIFY row_number() OVER (PARTITION BY r.segment_id, r.valid_time "
        "ORDER BY (u.weather_kind = 'forecast') DESC, u.created_at DESC) = 1",
        [start, end],
    ).df()
    return normalise_keys(rows) if len(rows) else rows


def evaluate_period(con: duckdb.DuckDBPyConnection, settings: Settings, start: datetime, end: datetime,
                    model: str = "champion", features: pd.DataFrame | None = None,
                    progress: Callable[[str], None] = print) -> EvaluationReport:
    """Score `[start, end)` against its incidents beside the two baselines; prints and returns the table.

    `features` replaces `wxrisk.features.build_features` for the period (tests, notebooks).
    """
    if end <= start:
        raise WxriskError(f"evaluate: end {end} is not after start {start}")
    loaded = load_model(settings, model)
    weather_only = loaded.meta["label"]["weather_related_only"]
    labelled = label_frame(con, analysis_features(con, settings, start, end, features), weather_only)
    if labelled.empty:
        raise WxriskError(f"evaluate {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}: no analysis features "
                          "for that period (import analysis weather first)")
    published = published_risk(con, start, end)
    if len(published):
        labelled = labelled.merge(published, on=["segment_id", "valid_time"], how="inner")
        risk, source, scorer = labelled["risk"].to_numpy(), "published forecasts", "published forecasts"
    else:
        risk = loaded.risk(feature_matrix(labelled, loaded.feature_names))
        source, scorer = f"model {loaded.version} on analysis weather", f"model {loaded.version}"
    label, hour = labelled["label"].to_numpy(), labelled["valid_time"].to_numpy()
    rates, network = baselines.segment_rates_from_history(con, start, weather_only)
    rows = [score_metrics(scorer, risk, label, hour),
            score_metrics("historical average", baselines.historical_average(labelled["segment_id"], rates, network),
                          label, hour)]
    roles = loaded.meta["baselines"]["rule_features"]
    if roles and all(name in labelled.columns for name in roles.values()):
        rule = baselines.rule_probability(labelled, roles, loaded.meta["baselines"]["rule_rates"])
        rows.append(score_metrics("physical rule", rule, label, hour))
    table = metrics_table(rows, f"verification {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC "
                                f"({source})") + "\n\n" + reliability_table(rows[0])
    progress(table)
    return EvaluationReport(start, end, source, loaded.version, rows, table)
