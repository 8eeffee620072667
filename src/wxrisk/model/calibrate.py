"""Calibration on held-out time: raw model probability -> probability a duty officer can read.

Platt scaling (default) fits `p = 1 / (1 + exp(-(a * logit(raw) + b)))` with `a > 0`: two
numbers, strictly increasing, so it keeps the model's ranking (no plateaus that would tie the
riskiest segments) and it is stable with the few hundred positives a winter gives. Isotonic
regression is available for large validation sets. Both are stored as plain JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from wxrisk.config import WxriskError

EPS = 1e-7


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of a probability, clipped away from 0 and 1."""
    p = np.clip(np.asarray(p, dtype="float64"), EPS, 1 - EPS)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class Calibrator:
    """A fitted map from raw to calibrated probability."""

    method: str                      # platt | isotonic
    a: float = 1.0                   # Platt slope on the raw log-odds
    b: float = 0.0                   # Platt intercept
    x: tuple[float, ...] = ()        # isotonic thresholds (raw probability)
    y: tuple[float, ...] = ()        # isotonic values at the thresholds

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities [0-1] for raw model probabilities."""
        if self.method == "isotonic":
            return np.interp(np.asarray(raw, dtype="float64"), self.x, self.y)
        return 1.0 / (1.0 + np.exp(-(self.a * logit(raw) + self.b)))

    def to_json(self) -> dict:
        return {"method": self.method, "a": self.a, "b": self.b, "x": list(self.x), "y": list(self.y)}

    def apply_margin(self, margin: np.ndarray) -> np.ndarray:
        """Calibrated probabilities [0-1] for raw log-odds."""
        return self.apply(1.0 / (1.0 + np.exp(-np.asarray(margin, dtype="float64"))))

    @classmethod
    def from_json(cls, data: dict) -> Calibrator:
        return cls(data["method"], data["a"], data["b"], tuple(data["x"]), tuple(data["y"]))


def fit_calibrator(raw: np.ndarray, label: np.ndarray, method: str = "platt",
                   weight: np.ndarray | None = None, allow_flat: bool = False) -> Calibrator:
    """Fit on held-out rows: `raw` model probabilities, `label` 0/1 outcomes, `weight` per row
    (1 / sampling rate of thinned rows; default 1). A model that ranks no better than chance there
    is an error, or with `allow_flat` the constant observed rate (Platt slope 0)."""
    label = np.asarray(label, dtype="int64")
    if label.sum() == 0 or label.sum() == len(label):
        raise WxriskError("calibration period: needs both hours with and without incidents")
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, label, sample_weight=weight)
        return Calibrator("isotonic", x=tuple(map(float, iso.X_thresholds_)), y=tuple(map(float, iso.y_thresholds_)))
    if method != "platt":
        raise WxriskError(f"calibration: unknown method {method!r} (platt or isotonic)")
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(logit(raw).reshape(-1, 1), label, sample_weight=weight)
    a, b = float(fit.coef_[0, 0]), float(fit.intercept_[0])
    if a <= 0:
        if not allow_flat:
            raise WxriskError("calibration period: the model ranks incidents no better than chance there")
        rate = float(np.clip(np.average(label, weights=weight), EPS, 1 - EPS))
        return Calibrator("platt", a=0.0, b=float(np.log(rate / (1 - rate))))
    return Calibrator("platt", a=a, b=b)
