"""Verification metrics for rare events: ranking, calibration and the forecaster's Recall@K.

Scores that tie (a yes/no rule, a per-segment average) are credited their expected value
under a random order among the tied rows, so no scorer gains or loses by how ties happen
to be sorted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score


@dataclass(frozen=True)
class Metrics:
    """One scorer's results on one period."""

    name: str
    pr_auc: float
    roc_auc: float
    brier: float
    ece: float                 # expected calibration error over deciles of predicted risk
    recall_at_k: float         # mean over hours with incidents, K = incident segment-hours of the hour
    lift_top1pct: float        # incident rate in the top 1 % / overall rate
    rows: int
    positives: int
    reliability: list[dict] = field(default_factory=list)  # per decile: mean_risk, observed_rate, rows

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def brier_score(risk: np.ndarray, label: np.ndarray) -> float:
    """Mean squared difference between probability and outcome [probability²]."""
    return float(np.mean((risk - label) ** 2))


def reliability_by_decile(risk: np.ndarray, label: np.ndarray) -> tuple[float, list[dict]]:
    """Expected calibration error and the reliability table over ten equal-count bins of risk."""
    order = np.argsort(risk, kind="stable")
    bins = [b for b in np.array_split(order, 10) if len(b)]
    table = [{"decile": i + 1, "rows": len(b), "mean_risk": float(risk[b].mean()),
              "observed_rate": float(label[b].mean())} for i, b in enumerate(bins)]
    ece = sum(row["rows"] * abs(row["mean_risk"] - row["observed_rate"]) for row in table) / max(len(risk), 1)
    return float(ece), table


def expected_hits_in_top(frame: pd.DataFrame, group: str | None, k_column: str) -> pd.Series:
    """Expected positives among each group's top K scores, ties broken at random (in expectation).

    `frame` has columns `score`, `label`, `k_column` (K, constant within a group) and `group`.
    """
    keys = [group] if group else []
    ties = (frame.groupby([*keys, "score"], sort=False)
            .agg(tied=("label", "size"), tied_pos=("label", "sum"), k=(k_column, "first"))
            .reset_index()
            .sort_values([*keys, "score"], ascending=[True] * len(keys) + [False], kind="stable"))
    before = (ties.groupby(keys)["tied"].cumsum() if keys else ties["tied"].cumsum()) - ties["tied"]
    taken = np.clip(ties["k"] - before, 0, ties["tied"])
    ties = ties.assign(hits=ties["tied_pos"] * taken / ties["tied"])
    return ties.groupby(keys)["hits"].sum() if keys else pd.Series([ties["hits"].sum()])


def recall_at_k(score: np.ndarray, label: np.ndarray, hour: np.ndarray) -> float:
    """Mean over hours with incidents of the share caught by the K riskiest segment-hours of that hour."""
    frame = pd.DataFrame({"score": score, "label": label.astype("int64"), "hour": hour})
    k = frame.groupby("hour")["label"].transform("sum")
    frame = frame.assign(k=k).loc[k > 0]
    if frame.empty:
        return float("nan")
    hits = expected_hits_in_top(frame, "hour", "k")
    per_hour_k = frame.groupby("hour")["k"].first()
    return float((hits / per_hour_k).mean())


def lift_top_fraction(score: np.ndarray, label: np.ndarray, fraction: float = 0.01) -> float:
    """Incident rate among the top `fraction` of scores divided by the overall rate."""
    base = label.mean()
    if base == 0:
        return float("nan")
    top_n = max(1, int(np.ceil(len(score) * fraction)))
    frame = pd.DataFrame({"score": score, "label": label.astype("int64"), "k": top_n})
    hits = float(expected_hits_in_top(frame, None, "k").iloc[0])
    return hits / top_n / base


def score_metrics(name: str, risk: np.ndarray, label: np.ndarray, hour: np.ndarray) -> Metrics:
    """All metrics of one scorer: `risk` probabilities [0-1], `label` 0/1, `hour` the valid time."""
    risk = np.asarray(risk, dtype="float64")
    label = np.asarray(label, dtype="int64")
    both_classes = 0 < label.sum() < len(label)
    ece, table = reliability_by_decile(risk, label)
    return Metrics(
        name=name,
        pr_auc=float(average_precision_score(label, risk)) if both_classes else float("nan"),
        roc_auc=float(roc_auc_score(label, risk)) if both_classes else float("nan"),
        brier=brier_score(risk, label),
        ece=ece,
        recall_at_k=recall_at_k(risk, label, np.asarray(hour)),
        lift_top1pct=lift_top_fraction(risk, label),
        rows=len(label),
        positives=int(label.sum()),
        reliability=table,
    )


def metrics_table(rows: list[Metrics], title: str) -> str:
    """The scorers side by side as a fixed-width text table."""
    header = f"{'scorer':<38}{'PR-AUC':>9}{'ROC-AUC':>9}{'Brier':>11}{'ECE':>10}{'Recall@K':>10}{'Lift@1%':>9}"
    lines = [title, header, "-" * len(header)]
    for m in rows:
        lines.append(f"{m.name[:37]:<38}{m.pr_auc:>9.4f}{m.roc_auc:>9.4f}{m.brier:>11.6f}{m.ece:>10.6f}"
                     f"{m.recall_at_k:>10.4f}{m.lift_top1pct:>9.2f}")
    if rows:
        lines.append(f"{rows[0].rows} segment-hours, {rows[0].positives} with incidents "
                     "(K = incident segment-hours of each hour; ECE over deciles of risk)")
    return "\n".join(lines)


def reliability_table(metrics: Metrics) -> str:
    """The reliability diagram of one scorer as text: predicted vs observed per decile."""
    lines = [f"reliability of {metrics.name} (deciles of predicted risk)",
             f"{'decile':>6}{'rows':>9}{'mean risk':>12}{'observed':>12}"]
    lines += [f"{r['decile']:>6}{r['rows']:>9}{r['mean_risk']:>12.5f}{r['observed_rate']:>12.5f}"
              for r in metrics.reliability]
    return "\n".join(lines)
