from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from wxrisk.config import WxriskError
from wxrisk.model.evaluate import evaluate_period
from wxrisk.model.metrics import soft_average_precision
from wxrisk.model.truth import truth_probability

TEST_START, TEST_END = datetime(2025, 1, 5), datetime(2025, 1, 25)


def _quiet(_: str) -> None:
    pass


def test_verification_shows_ours_beside_the_yardstick_and_both_baselines(trained, world):
    report, _ = trained
    con, settings, features = world
    result = evaluate_period(con, settings, TEST_START, TEST_END, features=features, progress=_quiet)
    assert result.source == f"model {report.version} on analysis weather"
    model, yard, history, rule = result.segment_metrics["any"]
    assert (yard.name, history.name, rule.name) == ("yardstick", "historical average", "physical rule")
    assert model.rows == len(features[features["valid_time"] >= TEST_START])
    assert model.pr_auc > max(yard.pr_auc, history.pr_auc, rule.pr_auc)
    assert [m.name for m in result.segment_metrics["ice"]][0] == "ice model"
    assert "reliability" in result.table and "region hours" in result.table


def test_region_hours_rank_the_network_sum_beside_the_hour_of_week_rate(trained, world):
    con, settings, features = world
    result = evaluate_period(con, settings, TEST_START, TEST_END, features=features, progress=_quiet)
    region = result.region
    assert {"network sum of risk", "network sum of ice_risk", "hour-of-week rate (history before start)"} <= set(
        region.index)
    assert region.attrs["hours"] == 20 * 24 and 0 < region.attrs["any_hours"] < region.attrs["hours"]
    assert region.loc["network sum of risk", "any ROC-AUC"] > 0.6


def test_skill_against_the_known_hazard(trained, world, truth_file):
    con, settings, features = world
    result = evaluate_period(con, settings, TEST_START, TEST_END, features=features, truth=truth_file,
                             progress=_quiet)
    skill = {row.name: row for row in result.hazard["any"]}
    hazard, model, yard = skill["the hazard itself"], skill["model"], skill["yardstick"]
    assert hazard.share_of_best == pytest.approx(1.0)
    assert 0.5 < model.share_of_best < 1.0 and model.share_of_best > yard.share_of_best
    assert 0.8 < model.mean_ratio < 1.25                     # calibrated: mean predicted / mean true
    assert np.isnan(yard.mean_ratio)                          # the yardstick is only ranked, not calibrated
    expected = pd.read_parquet(truth_file).query("valid_time >= @TEST_START")["expected_incidents"]
    p = truth_probability(expected)
    assert hazard.expected_pr_auc == pytest.approx(soft_average_precision(p, p))
    assert "against the known hazard" in result.table and "ice/snow" in result.table


def test_a_truth_file_without_the_hazard_columns_is_refused(trained, world, tmp_path):
    con, settings, features = world
    bad = tmp_path / "truth.parquet"
    pd.DataFrame({"segment_id": ["S001"], "valid_time": [TEST_START]}).to_parquet(bad)
    with pytest.raises(WxriskError, match="missing column.*expected_incidents"):
        evaluate_period(con, settings, TEST_START, TEST_END, features=features, truth=bad, progress=_quiet)


def test_published_boards_are_verified_on_request(trained, world):
    con, settings, features = world
    period = features[(features["valid_time"] >= TEST_START) & (features["valid_time"] < TEST_END)]
    flat = period[["segment_id", "valid_time"]].assign(run_id="run-1", risk=0.01, tier="none")
    flat.loc[flat["segment_id"] == "S000", "tier"] = "red"
    flat["icing_warning"] = np.where(flat["segment_id"] == "S001", "yellow", "none")
    con.execute("INSERT INTO runs (run_id, created_at, start_time, hours, weather_kind, status) "
                "VALUES ('run-1', ?, ?, 480, 'forecast', 'complete')", [TEST_START, TEST_START])
    con.register("published", flat)
    con.execute("INSERT INTO risk (run_id, segment_id, valid_time, risk, tier, icing_warning) "
                "SELECT run_id, segment_id, valid_time, risk, tier, icing_warning FROM published")
    try:
        result = evaluate_period(con, settings, TEST_START, TEST_END, features=features, published=True,
                                 progress=_quiet)
    finally:
        con.execute("DELETE FROM risk WHERE run_id = 'run-1'")
        con.execute("DELETE FROM runs WHERE run_id = 'run-1'")
    published = result.segment_metrics["any"][0]
    assert result.source == "published boards" and published.rows == len(period)
    rate = published.positives / published.rows
    # a flat forecast: average precision is the base rate, Brier is mean((0.01 - y)^2)
    assert published.pr_auc == pytest.approx(rate)
    assert published.brier == pytest.approx(rate * 0.99**2 + (1 - rate) * 0.01**2)
    # the observed rate per published tier and warning level (issue 15), any and ice/snow incidents
    red_rows = int((flat["tier"] == "red").sum())
    tiers = result.table.split("published tier: observed rate, any incident\n")[1].split("\n\n")[0].splitlines()
    assert tiers[0].split()[:2] == ["level", "seg-hours"] and tiers[-1].split()[:2] == ["red", f"{red_rows:,}"]
    assert "published tier: observed rate, ice/snow incidents" in result.table
    assert "published icing warning: observed rate, any incident" in result.table
    assert "visibility warning" not in result.table   # none published: no table


def test_empty_period_is_a_clear_error(trained, world):
    con, settings, features = world
    with pytest.raises(WxriskError, match="no analysis features"):
        evaluate_period(con, settings, datetime(2030, 1, 1), datetime(2030, 1, 2), features=features,
                        progress=_quiet)
