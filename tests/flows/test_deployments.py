"""The scheduled deployments: the daily board at 05:00 local time, the weekly retrain."""

from __future__ import annotations

from wxrisk.flows.deployments import deployments


def test_daily_board_at_five_local_and_weekly_retrain():
    by_name = {d.name: d for d in deployments("data/x.duckdb", "Asia/Shanghai")}
    daily = by_name["daily-board"].schedules[0].schedule
    retrain = by_name["weekly-retrain"].schedules[0].schedule
    assert (daily.cron, daily.timezone) == ("0 5 * * *", "Asia/Shanghai")
    assert retrain.cron.endswith("* * 1")
    assert by_name["weekly-retrain"].parameters == {"db": "data/x.duckdb", "promote": True}
