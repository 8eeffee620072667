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


def brier_score(risk: np.ndarray, label: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Mean squared difference between probability and outcome [probability²]."""
    return float(np.average((risk - label) ** 2, weights=weight))


def reliability_by_decile(risk: np.ndarray, label: np.ndarray,
                          weight: np.ndarray | None = None) -> tuple[float, list[dict]]:
    """Expected calibration error and the reliability table over ten equal-count bins of risk
    (equal total weight when rows are weighted)."""
    weight = np.ones(len(risk)) if weight is None else np.asarray(weight, dtype="float64")
    order = np.argsort(risk, kind="stable")
    position = np.cumsum(weight[order]) / max(weight.sum(), 1e-12)
    bins = [b for b in np.split(order, np.searchsorted(position, np.arange(1, 10) / 10)) if len(b)]
    table = [{"decile": i + 1, "rows": float(weight[b].sum()), "mean_risk": float(np.average(risk[b], weights=weight[b])),
              "observed_rate": float(np.average(label[b], weights=weight[b]))} for i, b in enumerate(bins)]
    ece = sum(row["rows"] * abs(row["mean_risk"] - row["observed_rate"]) for row in table) / max(weight.sum(), 1e-12)
    return float(ece), table


def expected_hits_in_top(frame: pd.DataFrame, group: str | None, k_column: str) -> pd.Series:
    """Expected positives among each group's top K scores, ties broken at random (in expectation).

    `frame` has columns `score`, `label`, `k_column` (K, constant within a group), `group`, and
    optionally `weight` (rows each stand for that many, K counted in the same unit).
    """
    keys = [group] if group else []
    frame = frame if "weight" in frame else frame.assign(weight=1.0)
    frame = frame.assign(weighted_label=frame["label"] * frame["weight"])
    ties = (frame.groupby([*keys, "score"], sort=False)
            .agg(tied=("weight", "sum"), tied_pos=("weighted_label", "sum"), k=(k_column, "first"))
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


def lift_top_fraction(score: np.ndarray, label: np.ndarray, fraction: float = 0.01,
                      weight: np.ndarray | None = None) -> float:
    """Incident rate among the top `fraction` of scores divided by the overall rate."""
    weight = np.ones(len(score)) if weight is None else np.asarray(weight, dtype="float64")
    base = np.average(label, weights=weight)
    if base == 0:
        return float("nan")
    top_n = max(1.0, float(np.ceil(weight.sum() * fraction)))
    frame = pd.DataFrame({"score": score, "label": label.astype("int64"), "weight": weight, "k": top_n})
    hits = float(expected_hits_in_top(frame, None, "k").iloc[0])
    return hits / top_n / base


def score_metrics(name: str, risk: np.ndarray, label: np.ndarray, hour: np.ndarray,
                  weight: np.ndarray | None = None) -> Metrics:
    """All metrics of one scorer: `risk` probabilities [0-1], `label` 0/1, `hour` the valid time,
    `weight` how many segment-hours each row stands for (thinned samples; default 1).

    Recall@K needs every segment-hour of an hour, so it is NaN on a weighted (thinned) sample.
    """
    risk = np.asarray(risk, dtype="float64")
    label = np.asarray(label, dtype="int64")
    both_classes = 0 < label.sum() < len(label)
    ece, table = reliability_by_decile(risk, label, weight)
    return Metrics(
        name=name,
        pr_auc=float(average_precision_score(label, risk, sample_weight=weight)) if both_classes else float("nan"),
        roc_auc=float(roc_auc_score(label, risk, sample_weight=weight)) if both_classes else float("nan"),
        brier=brier_score(risk, label, weight),
        ece=ece,
        recall_at_k=recall_at_k(risk, label, np.asarray(hour)) if weight is None else float("nan"),
        lift_top1pct=lift_top_fraction(risk, label, weight=weight),
        rows=int(round(np.sum(weight))) if weight is not None else len(label),
        positives=int(label.sum()),
        reliability=table,
    )


def soft_average_precision(score: np.ndarray, truth: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Average precision against soft labels: `truth` is each row's probability of a positive.

    Each row counts as `truth` of a positive and `1 - truth` of a negative (times `weight`), so
    AP = sum over the distinct scores, from the highest, of (gain in expected recall) x
    (expected precision down to that score); rows with equal scores enter together. With 0/1
    truth it is scikit-learn's average precision.
    """
    score, truth = np.asarray(score, dtype="float64"), np.asarray(truth, dtype="float64")
    weight = np.ones(len(score)) if weight is None else np.asarray(weight, dtype="float64")
    order = np.argsort(-score, kind="stable")
    score, positive, count = score[order], (truth * weight)[order], weight[order]
    last_of_tie = np.append(score[1:] != score[:-1], True)
    true_pos, seen = np.cumsum(positive)[last_of_tie], np.cumsum(count)[last_of_tie]
    total = true_pos[-1] if len(true_pos) else 0.0
    if total <= 0:
        return float("nan")
    gained = np.diff(true_pos, prepend=0.0) / total
    return float(np.sum(gained * true_pos / seen))


def soft_roc_auc(score: np.ndarray, truth: np.ndarray, weight: np.ndarray | None = None) -> float:
    """ROC-AUC against soft labels: P(score of a positive > score of a negative), ties counting half."""
    score, truth = np.asarray(score, dtype="float64"), np.asarray(truth, dtype="float64")
    weight = np.ones(len(score)) if weight is None else np.asarray(weight, dtype="float64")
    order = np.argsort(score, kind="stable")
    score, positive, negative = score[order], (truth * weight)[order], ((1 - truth) * weight)[order]
    starts = np.flatnonzero(np.append(True, score[1:] != score[:-1]))
    tied_pos, tied_neg = np.add.reduceat(positive, starts), np.add.reduceat(negative, starts)
    negatives_below = np.cumsum(tied_neg) - tied_neg
    total_pos, total_neg = positive.sum(), negative.sum()
    if total_pos <= 0 or total_neg <= 0:
        return float("nan")
    return float(np.sum(tied_pos * (negatives_below + 0.5 * tied_neg)) / (total_pos * total_neg))


@dataclass(frozen=True)
class HazardSkill:
    """One scorer against a scenario world's known hazard."""

    name: str
    expected_pr_auc: float     # average precision against P(>=1 incident) of the hazard
    roc_auc: float
    share_of_best: float       # expected PR-AUC / the hazard's own expected PR-AUC
    mean_ratio: float          # mean predicted / mean true probability (nan for a rank-only score)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def hazard_skill(name: str, score: np.ndarray, truth: np.ndarray, best: float, calibrated: bool = True,
                 weight: np.ndarray | None = None) -> HazardSkill:
    """Skill of `score` against `truth`, the hazard's P(>=1 incident) per row; `best` = the hazard's own AP."""
    ap = soft_average_precision(score, truth, weight)
    ratio = float(np.average(score, weights=weight) / np.average(truth, weights=weight)) if calibrated else float("nan")
    return HazardSkill(name, ap, soft_roc_auc(score, truth, weight), ap / best if best > 0 else float("nan"), ratio)


def hazard_table(rows: list[HazardSkill], title: str) -> str:
    """Scorers against the known hazard as a fixed-width table."""
    header = f"{'scorer':<38}{'expected PR-AUC':>16}{'share of best':>15}{'ROC-AUC':>9}{'mean pred/true':>16}"
    lines = [title, header, "-" * len(header)]
    for r in rows:
        ratio = "-" if np.isnan(r.mean_ratio) else f"{r.mean_ratio:.3f}"
        lines.append(f"{r.name[:37]:<38}{r.expected_pr_auc:>16.4f}{r.share_of_best:>15.3f}{r.roc_auc:>9.4f}{ratio:>16}")
    return "\n".join(lines)


def metrics_table(rows: list[Metrics], title: str) -> str:
    """The scorers side by side as a fixed-width text table."""
    header = f"{'scorer':<38}{'PR-AUC':>9}{'ROC-AUC':>9}{'Brier':>11}{'ECE':>10}{'Recall@K':>10}{'Lift@1%':>9}"
    lines = [title, header, "-" * len(header)]
    for m in rows:
        recall = "-" if np.isnan(m.recall_at_k) else f"{m.recall_at_k:.4f}"
        lines.append(f"{m.name[:37]:<38}{m.pr_auc:>9.3g}{m.roc_auc:>9.4f}{m.brier:>11.3g}{m.ece:>10.3g}"
                     f"{recall:>10}{m.lift_top1pct:>9.2f}")
    if rows:
        lines.append(f"{rows[0].rows} segment-hours, {rows[0].positives} with incidents "
                     "(K = incident segment-hours of each hour; ECE over deciles of risk)")
    return "\n".join(lines)


def reliability_table(metrics: Metrics) -> str:
    """The reliability diagram of one scorer as text: predicted vs observed per decile."""
    lines = [f"reliability of {metrics.name} (deciles of predicted risk)",
             f"{'decile':>6}{'rows':>9}{'mean risk':>12}{'observed':>12}"]
    lines += [f"{r['decile']:>6}{r['rows']:>9.0f}{r['mean_risk']:>12.5f}{r['observed_rate']:>12.5f}"
              for r in metrics.reliability]
    return "\n".join(lines)
