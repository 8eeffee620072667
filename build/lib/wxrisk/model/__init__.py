"""The risk model: training data, LightGBM training and calibration, evaluation against
baselines, per-row explanations and the versioned registry in `settings.models_dir`."""
