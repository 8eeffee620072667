import numpy as np
import pandas as pd
import pytest

from wxrisk.config import WxriskError
from wxrisk.features.spec import FeatureSpec
from wxrisk.model.explain import contributions, driver_codes, texts_by_row
from wxrisk.model.predict import chunked_risk, driver_rows, feature_matrix, predict_risk
from wxrisk.model.registry import load_model


def test_risk_is_a_probability_and_drivers_name_the_storm(trained, world):
    _, settings, features = world
    model = load_model(settings)
    out = predict_risk(model, features)
    assert list(out.columns) == ["segment_id", "valid_time", "risk", "ice_risk", "top_drivers", "top_drivers_en"]
    assert len(out) == len(features) and out["risk"].between(0, 1).all()
    assert (out["ice_risk"] <= out["risk"]).all() and (out["ice_risk"] > 0).all()
    worst = out.loc[out["risk"].idxmax()]
    row = features.loc[out["risk"].idxmax()]
    assert row["fzra_mm"] + row["snowfall_mm"] > 5                     # the storm
    assert worst["top_drivers_en"].split(",")[0].split(" ")[0] in ("freezing", "snowfall", "precipitation")
    assert f"{row['precip_mm']:.1f} mm" in worst["top_drivers"]
    assert worst["top_drivers"].count("，") <= 2


def test_rows_below_the_floor_get_no_drivers(trained, world):
    _, settings, features = world
    model = load_model(settings)
    sample = features.iloc[:5000]
    out = predict_risk(model, sample, drivers_min_risk=0.02)
    assert out.loc[out["risk"] < 0.02, "top_drivers"].isna().all()
    assert out.loc[out["risk"] >= 0.02, "top_drivers_en"].notna().all()


def test_ice_drivers_name_a_frozen_road_where_ice_is_what_raises_it(trained, world):
    _, settings, features = world
    model = load_model(settings)
    cold = features[(features["road_temp_c"] < -3) & (features["fzra_mm"] == 0) & (features["snowfall_mm"] == 0)]
    out = predict_risk(model, cold.iloc[:2000], drivers_min_risk=0.0)
    assert out["top_drivers_en"].str.contains("road surface temperature").mean() > 0.5


def test_contributions_per_decision_path_equal_lightgbm_on_every_row(trained, world):
    _, settings, features = world
    model = load_model(settings)
    x = feature_matrix(features.iloc[::7], model.feature_names)
    x[::50, 2] = np.nan                                           # missing road temperature
    direct = model.booster.predict(x, pred_contrib=True)[:, : x.shape[1]]
    assert np.array_equal(contributions(model.booster, x), direct)


def test_an_unset_flag_is_never_named_and_flags_show_no_value():
    specs = [FeatureSpec("fzra_mm", "mm", 1, "冻雨", "freezing rain"),
             FeatureSpec("bridge", "", 1, "桥梁", "bridge", decimals=None),
             FeatureSpec("traffic_ratio", "×", 1, "春运车流", "travel-rush traffic")]
    contrib = np.array([[0.5, 0.9, 0.1], [0.5, 0.9, -0.2], [-0.1, -0.1, -0.1]])
    values = np.array([[2.14, 1.0, 2.3], [2.14, 0.0, 2.3], [0.0, 0.0, 1.0]])
    codes, texts = driver_codes(contrib, values, specs)
    zh, en = texts_by_row(codes, texts["zh"]), texts_by_row(codes, texts["en"])
    assert list(en[:2]) == ["bridge, freezing rain 2.1 mm, travel-rush traffic 2.3×", "freezing rain 2.1 mm"]
    assert zh[0] == "桥梁，冻雨 2.1 mm，春运车流 2.3×"
    assert pd.isna(en[2])


def test_a_zero_amount_is_never_named_but_zero_degrees_is():
    specs = [FeatureSpec("curvature_deg_per_km", "°/km", 0, "弯道", "curvature"),
             FeatureSpec("road_temp_c", "°C", 0, "路面温度", "road surface temperature")]
    codes, texts = driver_codes(np.array([[0.9, 0.5], [0.9, 0.5]]), np.array([[0.0, 0.0], [12.0, 0.0]]), specs)
    en = list(texts_by_row(codes, texts["en"]))
    assert en == ["road surface temperature 0.0 °C", "curvature 12.0 °/km, road surface temperature 0.0 °C"]


def test_a_missing_value_is_named_by_its_label_alone():
    specs = [FeatureSpec("fzra_mm", "mm", 1, "冻雨", "freezing rain"),
             FeatureSpec("road_temp_c", "°C", -1, "路面温度", "road surface temperature")]
    contrib = np.array([[0.2, 0.5], [0.2, 0.5], [0.6, 0.1]])
    values = np.array([[1.0, np.nan], [1.0, -3.04], [1.0, -3.0]])
    codes, texts = driver_codes(contrib, values, specs)
    en = list(texts_by_row(codes, texts["en"]))
    assert en == ["road surface temperature, freezing rain 1.0 mm",
                  "road surface temperature -3.0 °C, freezing rain 1.0 mm",
                  "freezing rain 1.0 mm, road surface temperature -3.0 °C"]


def test_missing_feature_column_is_a_clear_error(trained, world):
    _, settings, features = world
    with pytest.raises(WxriskError, match="fzra_mm"):
        predict_risk(load_model(settings), features.drop(columns=["fzra_mm"]).iloc[:10])


def test_unknown_version_is_a_clear_error(world):
    _, settings, _ = world
    with pytest.raises(WxriskError, match="no such model version"):
        load_model(settings, "20990101T000000Z-deadbeef")


def test_drivers_go_to_the_riskiest_rows_up_to_the_cap():
    risk = np.array([0.001, 0.02, 0.5, 0.004, 0.3, 0.01])
    np.testing.assert_array_equal(driver_rows(risk, 0.003, None), [False, True, True, True, True, True])
    np.testing.assert_array_equal(driver_rows(risk, 0.003, 2), [False, False, True, False, True, False])


def test_risk_in_chunks_equals_risk_in_one_piece(trained, world):
    _, settings, features = world
    model = load_model(settings)
    uneven = len(features) // 4 + 7  # four full chunks and a short last one
    risk, ice_risk = chunked_risk(model, features, chunk_rows=uneven)
    np.testing.assert_array_equal(risk, model.risk(features))
    np.testing.assert_array_equal(ice_risk, model.ice_risk(features))
