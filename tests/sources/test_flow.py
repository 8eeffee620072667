"""The scheduled fetch deployment follows each source's run times (UTC)."""

from __future__ import annotations

from wxrisk.flows.fetch_weather import SCHEDULES_UTC, fetch_weather_deployments


def test_one_deployment_for_the_chosen_source_after_its_runs_publish():
    (deployment,) = fetch_weather_deployments("data/x.duckdb", "Asia/Shanghai", source="gfs")
    schedule = deployment.schedules[0].schedule
    assert deployment.name == "fetch-gfs"
    assert (schedule.cron, schedule.timezone) == ("0 5,11,17,23 * * *", "UTC")
    assert deployment.parameters == {"db": "data/x.duckdb", "source": "gfs"}
    assert set(SCHEDULES_UTC) == {"ecmwf", "gfs", "open-meteo"}
