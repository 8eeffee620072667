"""Behavioural tests of training on the synthetic world (conftest: a known generating hazard)."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from wxrisk.config import Settings, WxriskError
from wxrisk.model.predict import feature_matrix, predict_risk
from wxrisk.model.registry import champion_version, list_versions, load_model
from wxrisk.model.train import TrainConfig, train_model
from wxrisk.store import connect


def test_model_beats_both_baselines_and_reports_calibration(trained):
    report, _ = trained
    model, history, rule = (report.metrics[n] for n in ("model (challenger)", "historical average", "physical rule"))
    assert model.pr_auc > history.pr_auc and model.pr_auc > rule.pr_auc
    assert model.recall_at_k > history.recall_at_k and model.recall_at_k > rule.recall_at_k
    assert np.isfinite(model.ece) and model.ece < 0.01
    assert "ECE" in report.table and "physical rule" in report.table and "historical average" in report.table


def test_splits_by_winter_and_progress_is_shown(trained):
    report, lines = trained
    assert "test on 2024/25" in report.split.how
    assert report.split.valid_end == pd.Timestamp("2025-01-05").to_pydatetime()
    assert any("round" in line for line in lines) and any("calibrated" in line for line in lines)
    assert lines[-2] == report.table


def test_first_model_becomes_champion_with_card_and_meta(trained, world, specs):
    report, _ = trained
    _, settings, _ = world
    assert report.promoted and "first model" in report.reason
    assert champion_version(settings) == report.version
    meta = json.loads((report.path / "meta.json").read_text(encoding="utf-8"))
    assert [f["name"] for f in meta["features"]] == [s.name for s in specs]
    assert meta["seed"] == 7 and meta["params"]["deterministic"] is True
    assert set(meta["data_hashes"]) >= {"train", "valid", "test", "imports"}
    assert meta["metrics"]["model"]["ece"] == pytest.approx(report.metrics["model (challenger)"].ece)
    card = (report.path / "card.md").read_text(encoding="utf-8")
    assert report.version in card and "fzra_mm" in card and "Recall@K" in card


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
    risk = model.risk(feature_matrix(_vary(rows, column, values), model.feature_names)).reshape(len(rows), -1)
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
    assert again["top_drivers"].equals(base["top_drivers"])
    assert (again["segment_id"] == renamed["segment_id"]).all()


def test_same_data_and_seed_train_identically_and_equal_model_is_not_promoted(trained, world, specs, fast):
    report, _ = trained
    con, settings, features = world
    shuffled = features.sample(frac=1.0, random_state=1)
    second = train_model(con, settings, features_frame=shuffled, specs=specs, config=fast, promote=True,
                         progress=lambda _: None)
    first_model, second_model = load_model(settings, report.version), load_model(settings, second.version)
    x = feature_matrix(features, first_model.feature_names)
    assert np.array_equal(first_model.risk(x), second_model.risk(x))
    assert not second.promoted
    assert second.reason.startswith("not promoted (PR-AUC not higher)") and report.version in second.reason
    assert champion_version(settings) == report.version
    assert f"champion {report.version}" in second.table        # the champion scored on the same period
    versions = list_versions(settings)
    assert {v.version for v in versions} >= {report.version, second.version}
    assert all((settings.models_dir / v.version / "card.md").exists() for v in versions)
    assert [v.champion for v in versions if v.version == report.version] == [True]


def test_a_better_challenger_is_promoted_with_its_reason(tmp_path, world, specs, fast):
    con, settings, features = world
    local = replace(settings, models_dir=tmp_path / "models")
    weak = train_model(con, local, features_frame=features, specs=specs[4:6],  # bridge and traffic only
                       config=fast, progress=lambda _: None)
    strong = train_model(con, local, features_frame=features, specs=specs, config=fast, promote=True,
                         progress=lambda _: None)
    assert weak.promoted and strong.promoted
    assert strong.reason.startswith("promoted: PR-AUC")
    assert champion_version(local) == strong.version


def test_a_champion_that_cannot_be_scored_is_not_replaced_silently(tmp_path, world, specs, fast):
    con, settings, features = world
    local = replace(settings, models_dir=tmp_path / "models")
    first = train_model(con, local, features_frame=features, specs=specs, config=fast, progress=lambda _: None)
    renamed = features.rename(columns={"fzra_mm": "fzra_mm_1h"})
    new_specs = [replace(s, name="fzra_mm_1h") if s.name == "fzra_mm" else s for s in specs]
    second = train_model(con, local, features_frame=renamed, specs=new_specs, config=fast, promote=True,
                         progress=lambda _: None)
    assert not second.promoted and "needs feature(s)" in second.reason and "fzra_mm" in second.reason
    assert champion_version(local) == first.version
    assert (second.path / "card.md").exists()


def test_unknown_model_option_in_settings_is_rejected(world):
    _, settings, _ = world
    with pytest.raises(WxriskError, match="unknown option"):
        TrainConfig.from_settings(replace(settings, extra={"model": {"num_round": 3}}))


def test_no_incidents_in_a_period_is_a_clear_error(tmp_path, world, specs, fast):
    _, _, features = world
    empty = connect(tmp_path / "empty.duckdb")
    with pytest.raises(WxriskError, match="no incidents matched"):
        train_model(empty, Settings(models_dir=tmp_path / "m"), features_frame=features, specs=specs,
                    config=fast, progress=lambda _: None)
