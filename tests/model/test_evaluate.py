from datetime import datetime

import numpy as np
import pytest

from wxrisk.config import WxriskError
from wxrisk.model.evaluate import evaluate_period

TEST_START, TEST_END = datetime(2025, 1, 5), datetime(2025, 1, 25)


def test_verification_of_a_period_with_the_model_on_analysis_weather(trained, world):
    report, _ = trained
    con, settings, features = world
    printed: list[str] = []
    result = evaluate_period(con, settings, TEST_START, TEST_END, features=features, progress=printed.append)
    assert result.source == f"model {report.version} on analysis weather"
    model, history, rule = result.metrics
    assert (history.name, rule.name) == ("historical average", "physical rule")
    # the same period and model as training's held-out test: the same scores
    assert model.pr_auc == pytest.approx(report.metrics["model (challenger)"].pr_auc)
    assert model.pr_auc > history.pr_auc and model.pr_auc > rule.pr_auc
    assert history.pr_auc > 0.0 and np.isfinite(history.brier)
    assert printed == [result.table] and "reliability" in result.table


def test_verification_reads_published_forecasts_when_there_are_some(trained, world):
    con, settings, features = world
    period = features[(features["valid_time"] >= TEST_START) & (features["valid_time"] < TEST_END)]
    flat = period[["segment_id", "valid_time"]].assign(run_id="run-1", risk=0.01, tier="none")
    con.execute("INSERT INTO runs (run_id, created_at, start_time, hours, weather_kind, status) "
                "VALUES ('run-1', ?, ?, 480, 'forecast', 'complete')", [TEST_START, TEST_START])
    con.register("published", flat)
    con.execute("INSERT INTO risk (run_id, segment_id, valid_time, risk, tier) "
                "SELECT run_id, segment_id, valid_time, risk, tier FROM published")
    try:
        result = evaluate_period(con, settings, TEST_START, TEST_END, features=features, progress=lambda _: None)
    finally:
        con.execute("DELETE FROM risk WHERE run_id = 'run-1'")
        con.execute("DELETE FROM runs WHERE run_id = 'run-1'")
    published = result.metrics[0]
    assert result.source == "published forecasts" and published.rows == len(period)
    rate = published.positives / published.rows
    # a flat forecast: average precision is the base rate, Brier is mean((0.01 - y)^2)
    assert published.pr_auc == pytest.approx(rate)
    assert published.brier == pytest.approx(rate * 0.99**2 + (1 - rate) * 0.01**2)


def test_empty_period_is_a_clear_error(trained, world):
    con, settings, features = world
    with pytest.raises(WxriskError, match="no analysis features"):
        evaluate_period(con, settings, datetime(2030, 1, 1), datetime(2030, 1, 2), features=features,
                        progress=lambda _: None)
