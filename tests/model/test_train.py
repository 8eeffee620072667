"""Behavioural tests of training on the synthetic world (conftest: a known generating hazard)."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from wxrisk.config import Settings, WxriskError
from wxrisk.model.predict import predict_risk
from wxrisk.model.region import region_inputs
from wxrisk.model.registry import champion_version, list_versions, load_model
from wxrisk.model.train import TrainConfig, train_model
from wxrisk.store import connect


def test_model_beats_the_yardstick_and_both_baselines_out_of_fold(trained):
    report, _ = trained
    model, yard, history, rule = (report.metrics[n] for n in ("model", "yardstick", "historical average",
                                                               "physical rule"))
    assert model.pr_auc > max(yard.pr_auc, history.pr_auc, rule.pr_auc)
    assert np.isfinite(model.ece) and model.ece < 0.01
    for name in ("ECE", "yardstick", "physical rule", "historical average", "ice/snow incidents"):
        assert name in report.table


def test_every_winter_is_used_and_the_card_says_which_for_what(trained):
    report, lines = trained
    winters = report.meta["winters"]
    assert winters["trees"] == "2022/23, 2023/24, 2024/25"       # the final models saw every winter
    assert winters["calibration"] == winters["evaluation"] == "2023/24, 2024/25"
    assert winters["folds"] == ["2023/24 predicted by 2022/23", "2024/25 predicted by 2022/23, 2023/24"]
    card = (report.path / "card.md").read_text(encoding="utf-8")
    assert "Trees (final models, refit): 2022/23, 2023/24, 2024/25" in card
    assert "Calibration (out-of-fold predictions, cross-fitted by winter): 2023/24, 2024/25" in card
    assert any(line.startswith("region rate:") for line in lines)
    assert any("risk, 7 leaves: best after" in line for line in lines)
    assert lines[-2] == report.table  # the last line: the version promoted


def test_where_the_weather_differs_between_segments_the_region_rate_is_the_hour_of_week_profile(trained):
    report, lines = trained
    # traffic_ratio and hour_of_day are set per hour in the synthetic world, but the weather varies by
    # segment: a calendar-only region rate would credit the storms to the calendar, so the trees get all
    assert report.meta["region"]["features"] == []
    assert any(line.startswith("region rate: the weather differs between segments") for line in lines)
    assert {f["name"] for f in report.meta["features"]} == {"fzra_mm", "snowfall_mm", "road_temp_c", "precip_mm",
                                                             "bridge", "traffic_ratio", "hour_of_day"}


def test_where_the_segments_share_their_weather_the_mostly_hourly_inputs_go_to_the_region_rate():
    shares = {"t2m_c": 0.99, "precip_mm_1h": 0.97, "travel_rush_factor": 1.0, "snow_depth_cm": 0.2,
              "bridge": 0.0, "elevation_m": 0.0}
    assert region_inputs(shares, lambda _: None) == ["t2m_c", "precip_mm_1h", "travel_rush_factor", "snow_depth_cm"]
    said = []
    assert region_inputs({**shares, "t2m_c": 0.5, "precip_mm_1h": 0.6}, said.append) == []
    assert said and "hour-of-week profile alone" in said[0]


def test_ice_share_learns_that_ice_incidents_come_with_a_frozen_road(trained, world):
    report, _ = trained
    _, settings, features = world
    model = load_model(settings)
    assert model.share is not None and "road_temp_c" in model.share_features
    rows = features.sample(2000, random_state=3)
    share = model.ice_share(rows)
    frozen = rows["road_temp_c"].to_numpy() < -1
    assert share[frozen].mean() > 0.6 > 0.3 > share[rows["road_temp_c"].to_numpy() > 1].mean()
    assert report.metrics["ice model"].pr_auc > report.metrics["ice yardstick"].pr_auc


def test_the_first_promoted_model_becomes_champion_with_card_and_meta(trained, world, specs):
    report, _ = trained
    _, settings, _ = world
    assert report.promoted and report.reason == "promoted: the registry had no champion"
    assert champion_version(settings) == report.version
    meta = json.loads((report.path / "meta.json").read_text(encoding="utf-8"))
    assert [f["name"] for f in meta["inputs"]] == [s.name for s in specs]
    assert meta["seed"] == 7 and meta["risk"]["params"]["deterministic"] is True
    assert meta["metrics"]["model"]["ece"] == pytest.approx(report.metrics["model"].ece)
    assert {"yardstick.txt", "share.txt", "model.txt"} <= {p.name for p in report.path.iterdir()}


def test_without_promote_not_even_a_first_version_becomes_champion(tmp_path, world, specs, fast):
    con, settings, features = world
    local = replace(settings, models_dir=tmp_path / "models")
    lines = []
    report = train_model(con, local, features_frame=features, specs=specs, config=fast, progress=lines.append)
    assert not report.promoted and report.reason == "not promoted: promotion not requested (use --promote)"
    assert lines[-1] == f"to make it the champion: wxrisk promote {report.version}"
    assert champion_version(local) is None and (report.path / "card.md").exists()
    env = {**os.environ, "WXRISK_MODELS": str(local.models_dir), "WXRISK_DB": str(tmp_path / "any.duckdb")}
    promoted = subprocess.run([sys.executable, "-m", "wxrisk.cli", "promote", report.version], env=env,
                              capture_output=True, text=True, timeout=120)
    assert promoted.returncode == 0 and champion_version(local) == report.version, promoted.stderr
    unknown = subprocess.run([sys.executable, "-m", "wxrisk.cli", "promote", "no-such-version"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 1 and "no such model version" in unknown.stderr


def _vary(frame: pd.DataFrame, column: str, values: np.ndarray) -> pd.DataFrame:
    """Each row of `frame` repeated with `column` set to each of `values` (ascending)."""
    repeated = frame.loc[frame.index.repeat(len(values))].reset_index(drop=True)
    return repeated.assign(**{column: np.tile(values, len(frame)).astype("float32")})


@pytest.mark.parametrize(("column", "values", "direction"), [
    ("fzra_mm", np.linspace(0, 8, 17), 1),
    ("snowfall_mm", np.linspace(0, 8, 17), 1),
    ("traffic_ratio", np.linspace(1, 3, 9), 1),
    ("road_temp_c", np.linspace(-10, 5, 16), -1),
])
def test_risk_is_monotone_in_constrained_features(trained, world, column, values, direction):
    _, settings, features = world
    model = load_model(settings)
    rows = features.sample(300, random_state=2)
    risk = model.risk(_vary(rows, column, values)).reshape(len(rows), -1)
    steps = np.diff(risk, axis=1) * direction
    assert (steps >= -1e-12).all()
    assert (risk[:, -1] * direction > risk[:, 0] * direction).any()  # and it does respond


def test_renaming_or_reordering_segments_changes_no_prediction(trained, world):
    _, settings, features = world
    model = load_model(settings)
    sample = features.sample(3000, random_state=5).reset_index(drop=True)
    base = predict_risk(model, sample)
    renamed = sample.assign(segment_id="G4-" + sample["segment_id"].str[::-1])
    shuffled = renamed.sample(frac=1.0, random_state=9)
    again = predict_risk(model, shuffled).set_index(shuffled.index).sort_index()
    assert np.array_equal(again["risk"].to_numpy(), base["risk"].to_numpy())
    assert np.array_equal(again["ice_risk"].to_numpy(), base["ice_risk"].to_numpy())
    assert again["top_drivers"].equals(base["top_drivers"])


def test_same_data_and_seed_train_identically_and_an_equal_model_is_not_promoted(trained, world, specs, fast):
    report, _ = trained
    con, settings, features = world
    shuffled = features.sample(frac=1.0, random_state=1)
    second = train_model(con, settings, features_frame=shuffled, specs=specs, config=fast, promote=True,
                         progress=lambda _: None)
    first_model, second_model = load_model(settings, report.version), load_model(settings, second.version)
    assert np.array_equal(first_model.risk(features), second_model.risk(features))
    assert not second.promoted
    assert second.reason.startswith("not promoted (PR-AUC not higher)") and report.version in second.reason
    assert champion_version(settings) == report.version
    versions = list_versions(settings)
    assert {v.version for v in versions} >= {report.version, second.version}
    assert [v.champion for v in versions if v.version == report.version] == [True]


def test_a_better_challenger_is_promoted_with_its_reason(tmp_path, world, specs, fast):
    con, settings, features = world
    local = replace(settings, models_dir=tmp_path / "models")
    weak = train_model(con, local, features_frame=features, specs=specs[4:6],  # bridge and traffic only
                       config=fast, progress=lambda _: None, promote=True)
    strong = train_model(con, local, features_frame=features, specs=specs, config=fast, promote=True,
                         progress=lambda _: None)
    assert weak.promoted and strong.promoted
    assert strong.reason.startswith("promoted: PR-AUC")
    assert champion_version(local) == strong.version


def test_a_champion_that_can_no_longer_be_scored_gives_way_saying_why(tmp_path, world, specs, fast):
    con, settings, features = world
    local = replace(settings, models_dir=tmp_path / "models")
    first = train_model(con, local, features_frame=features, specs=specs, config=fast, progress=lambda _: None,
                        promote=True)
    renamed = features.rename(columns={"fzra_mm": "fzra_mm_1h"})
    new_specs = [replace(s, name="fzra_mm_1h") if s.name == "fzra_mm" else s for s in specs]
    second = train_model(con, local, features_frame=renamed, specs=new_specs, config=fast, promote=True,
                         progress=lambda _: None)
    assert second.promoted and "can no longer be scored" in second.reason and "fzra_mm" in second.reason
    assert first.version in second.reason
    assert champion_version(local) == second.version


def test_unknown_model_option_in_settings_is_rejected(world):
    _, settings, _ = world
    with pytest.raises(WxriskError, match="unknown option"):
        TrainConfig.from_settings(replace(settings, extra={"model": {"num_round": 3}}))


def test_weather_and_incidents_that_do_not_overlap_are_named_with_both_windows(tmp_path, world, specs, fast):
    _, _, features = world
    con = connect(tmp_path / "apart.duckdb")
    con.execute("INSERT INTO incidents (incident_id, occurred_at, segment_id, source) "
                "VALUES ('a', TIMESTAMP '2019-02-01 08:30', 'S001', 'test'), ('b', TIMESTAMP '2019-03-01 08:30', 'S002', 'test')")
    with pytest.raises(WxriskError) as caught:
        train_model(con, Settings(models_dir=tmp_path / "m"), features_frame=features, specs=specs, config=fast,
                    progress=lambda _: None)
    message = str(caught.value)
    assert "do not overlap" in message and "2023-01-05 00:00 to 2025-01-25 00:00" in message
    assert "2019-02-01 08:30 to 2019-03-01 08:30" in message and "\n" not in message


def test_one_winter_is_cut_in_time_at_half_its_incident_hours(tmp_path, world, specs, fast):
    con, settings, features = world
    local = replace(settings, models_dir=tmp_path / "models")
    one = features[features["valid_time"] >= datetime(2025, 1, 1)]
    report = train_model(con, local, features_frame=one, specs=specs, config=fast, progress=lambda _: None)
    assert report.meta["winters"]["how"] == "one winter, cut in time at half its incident-hours"
    [fold] = report.meta["winters"]["folds"]
    assert fold.startswith("2024/25 from 2025-01-") and "predicted by 2024/25 before 2025-01-" in fold
