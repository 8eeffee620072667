"""The feature table per segment-hour: road-weather physics, calendar, exposure, history."""

from wxrisk.features.build import (
    FeatureTable,
    FeatureWindow,
    WeatherSource,
    build_features,
    feature_window,
    history_start,
    iter_features,
    resolved_weather,
    tile_features,
)
from wxrisk.features.catalog import FEATURE_NAMES, FEATURE_SPECS, SPECS_BY_NAME
from wxrisk.features.spec import FeatureSpec

__all__ = ["FEATURE_NAMES", "FEATURE_SPECS", "SPECS_BY_NAME", "FeatureSpec", "FeatureTable", "FeatureWindow",
           "WeatherSource", "build_features", "feature_window", "history_start", "iter_features", "resolved_weather",
           "tile_features"]
