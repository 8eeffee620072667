"""Station anchoring: the synthetic weather around a real station nudged to what the station measured.

A reanalysis assimilates stations; the scenario world does something much simpler. Its analytic
fields are computed at the station, compared day by day (Beijing days) with the station's daily
maximum and minimum temperature and precipitation, and corrected:

- temperature: an offset `a` and a diurnal amplitude change `b` per day (t2m + a + b x diurnal
  shape), linear in time between local noons, fitted so that the day's maximum and minimum match
  the station where it has both; where it has only one, the offset splits the difference between
  that extreme and the station's daily mean (TAVG), so a frontal day keeps its own shape;
- precipitation: a factor per day, linear in time between local noons, fitted so that the day's
  total matches the station where the world already has precipitation there.

Both corrections spread around the station with a Gaussian weight of `sigma_deg`, and fade out
over a day beyond the anchored days. They are applied before the precipitation phase is derived,
so phase, temperature and amounts stay consistent. The fit iterates the nudged fields a few times
(`FIT_ROUNDS`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources

import numpy as np

BEIJING_OFFSET_H = 8
FIT_ROUNDS = 8
MIN_WORLD_PRECIP_MM = 0.5       # a day's precipitation is only scaled where the world has at least this
MAX_PRECIP_FACTOR = 8.0
WUHAN_STATION_FILE = "wuhan_CHM00057494_2023-24.csv"


@dataclass(frozen=True)
class StationDay:
    """One day of a station's daily record [°C, mm]; NaN where the station has no value."""

    day: date
    tmax_c: float
    tmin_c: float
    tavg_c: float
    precip_mm: float


@dataclass(frozen=True)
class Station:
    """A station's position and its daily record."""

    station_id: str
    name: str
    lon: float
    lat: float
    days: tuple[StationDay, ...]

    def between(self, first: date, last: date) -> tuple[StationDay, ...]:
        return tuple(d for d in self.days if first <= d.day <= last)


def _number(text: str) -> float:
    return float(text) if text.strip() else float("nan")


@lru_cache(maxsize=1)
def wuhan_station() -> Station:
    """NOAA GHCN-Daily CHM00057494 (Wuhan, 30.6 N 114.05 E), December 2023 - February 2024 (public domain)."""
    text = resources.files("wxrisk.scenario").joinpath("data", WUHAN_STATION_FILE).read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    days = tuple(StationDay(date.fromisoformat(r["date"]), _number(r["TMAX_C"]), _number(r["TMIN_C"]),
                            _number(r["TAVG_C"]), _number(r["PRCP_mm"])) for r in rows)
    return Station("CHM00057494", "Wuhan", 114.05, 30.6, days)


@dataclass(frozen=True)
class StationAnchor:
    """Hourly corrections at a station and how far they reach."""

    lon: float
    lat: float
    sigma_deg: float
    first_h: int                  # hours since EPOCH of the first correction
    t2m_offset_k: np.ndarray      # per hour from first_h: additive [K]
    t2m_amplitude_k: np.ndarray   # per hour: x the diurnal shape [K]
    precip_factor: np.ndarray     # per hour: multiplicative [x]

    def weight(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Gaussian weight of the correction at grid (lat, lon) [0-1], shaped (y, x)."""
        dx = (np.asarray(lon)[None, :] - self.lon) * np.cos(np.radians(self.lat))
        dy = np.asarray(lat)[:, None] - self.lat
        return np.exp(-0.5 * (dx**2 + dy**2) / self.sigma_deg**2)

    def at_hours(self, hours: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(offset, amplitude, precipitation factor) at `hours`: zero corrections outside the anchored span."""
        index = np.asarray(hours, dtype=np.int64) - self.first_h
        inside = (index >= 0) & (index < len(self.t2m_offset_k))
        safe = np.clip(index, 0, len(self.t2m_offset_k) - 1)
        return (np.where(inside, self.t2m_offset_k[safe], 0.0), np.where(inside, self.t2m_amplitude_k[safe], 0.0),
                np.where(inside, self.precip_factor[safe], 1.0))


def local_noons_h(first: date, n_days: int, epoch: np.datetime64) -> np.ndarray:
    """Hours since `epoch` (UTC) of local noon on each of `n_days` Beijing days from `first`."""
    return np.array([(np.datetime64(first + timedelta(days=k), "h") - epoch).astype(int) + 12 - BEIJING_OFFSET_H
                     for k in range(n_days)], dtype=float)


def hourly_from_daily(values: np.ndarray, noons_h: np.ndarray, hours: np.ndarray, rest: float) -> np.ndarray:
    """Daily values held at local noon, linear in time between noons, easing to `rest` over a day
    before the first noon and after the last."""
    knots_h = np.concatenate([[noons_h[0] - 24.0], noons_h, [noons_h[-1] + 24.0]])
    knots_v = np.concatenate([[rest], values, [rest]])
    return np.interp(np.asarray(hours, dtype=float), knots_h, knots_v, left=rest, right=rest)
