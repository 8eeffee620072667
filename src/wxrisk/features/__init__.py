"""The feature table per segment-hour: road-weather physics, calendar, exposure, history."""

from wxrisk.features.build import build_features, history_start, iter_features
from wxrisk.features.catalog import FEATURE_NAMES, FEATURE_SPECS, SPECS_BY_NAME
from wxrisk.features.spec import FeatureSpec

__all__ = ["FEATURE_NAMES", "FEATURE_SPECS", "SPECS_BY_NAME", "FeatureSpec", "build_features", "history_start", "iter_features"]
