import numpy as np
import pytest

from wxrisk.model.metrics import (
    brier_score,
    lift_top_fraction,
    metrics_table,
    recall_at_k,
    reliability_by_decile,
    score_metrics,
)


def test_recall_at_k_uses_each_hours_incident_count():
    # hour 1: 2 incidents, the two top scores catch one -> 0.5; hour 2: 1 incident, top score catches it -> 1
    score = np.array([0.9, 0.8, 0.1, 0.05, 0.7, 0.2, 0.1])
    label = np.array([1, 0, 1, 0, 1, 0, 0])
    hour = np.array([1, 1, 1, 1, 2, 2, 2])
    assert recall_at_k(score, label, hour) == pytest.approx(0.75)


def test_recall_at_k_credits_ties_their_expected_share():
    # a yes/no rule: 4 rows tie at 1, one of them the incident, K = 1 -> expected recall 1/4
    score = np.array([1.0, 1.0, 1.0, 1.0, 0.0])
    label = np.array([0, 1, 0, 0, 0])
    assert recall_at_k(score, label, np.zeros(5)) == pytest.approx(0.25)
    assert recall_at_k(score[::-1].copy(), label[::-1].copy(), np.zeros(5)) == pytest.approx(0.25)


def test_hours_without_incidents_do_not_count():
    assert np.isnan(recall_at_k(np.array([0.5, 0.2]), np.array([0, 0]), np.array([1, 1])))


def test_lift_in_top_one_percent():
    score = np.linspace(1, 0, 1000)
    label = np.zeros(1000, dtype=int)
    label[[0, 500]] = 1                       # rate 0.002; the top 10 rows hold one: rate 0.1 -> lift 50
    assert lift_top_fraction(score, label) == pytest.approx(50.0)


def test_calibration_error_is_zero_for_a_calibrated_scorer_and_large_for_a_biased_one():
    rng = np.random.default_rng(0)
    risk = rng.uniform(0, 0.2, 200_000)
    label = (rng.random(200_000) < risk).astype(int)
    ece, table = reliability_by_decile(risk, label)
    assert ece < 0.003
    assert len(table) == 10 and sum(r["rows"] for r in table) == 200_000
    biased_ece, _ = reliability_by_decile(np.clip(risk * 2, 0, 1), label)
    assert biased_ece > 0.05


def test_brier_score_of_certain_forecasts():
    assert brier_score(np.array([1.0, 0.0]), np.array([1, 0])) == 0.0
    assert brier_score(np.array([0.5, 0.5]), np.array([1, 0])) == 0.25


def test_table_lists_every_scorer_and_metric():
    label = np.array([0, 1, 0, 0, 1, 0])
    hour = np.array([0, 0, 0, 1, 1, 1])
    rows = [score_metrics("model", np.array([0.1, 0.9, 0.2, 0.1, 0.8, 0.3]), label, hour),
            score_metrics("rule", np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]), label, hour)]
    text = metrics_table(rows, "test")
    for word in ("PR-AUC", "ROC-AUC", "Brier", "ECE", "Recall@K", "Lift@1%", "model", "rule"):
        assert word in text
    assert rows[0].recall_at_k == 1.0 and rows[1].recall_at_k == pytest.approx(1 / 3)
