"""The Leeds real check's verdicts (the check itself, `python -m wxrisk.model.realcheck`, is too heavy for the suite)."""

from wxrisk.model.realcheck import verdicts


def _report(ice_auc: float, ice_ap: float, any_auc: float, any_ap: float) -> dict:
    def row(name, i_auc, i_ap, a_auc, a_ap):
        return {"scorer": name, "ice ROC-AUC": i_auc, "ice AP": i_ap, "any ROC-AUC": a_auc, "any AP": a_ap}

    return {"region_hours": {"scores": [
        row("network sum of risk", 0.5, 0.01, any_auc, any_ap),
        row("network sum of ice_risk", ice_auc, ice_ap, 0.6, 0.2),
        row("minus air temperature", 0.90, 0.10, 0.4, 0.1),
        row("minus temperature, raised after precipitation", 0.88, 0.16, 0.4, 0.1),
        row("hour-of-week rate (history before start)", 0.6, 0.01, 0.70, 0.30),
    ]}}


def test_ice_risk_must_match_the_better_weather_score_in_each_metric():
    passed = [ok for _, ok in verdicts(_report(0.91, 0.17, 0.71, 0.31))]
    assert passed == [True, True, True, True]
    lines = verdicts(_report(0.91, 0.12, 0.71, 0.31))
    assert [ok for _, ok in lines] == [True, False, True, True]
    assert "minus temperature, raised after precipitation 0.160" in lines[1][0]   # the better one by AP


def test_risk_must_match_the_hour_of_week_rate():
    assert [ok for _, ok in verdicts(_report(0.95, 0.2, 0.69, 0.31))] == [True, True, False, True]
