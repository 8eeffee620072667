"""The demo's 2024 event against the Wuhan station (NOAA GHCN-Daily CHM00057494).

Fits the station anchor of the 2024 demo winter (`anchor.py`) and compares the demo's analysis at
the station with what the station measured, by Beijing day:

    python -m wxrisk.scenario.wuhan                                  # computed from the demo world
    python -m wxrisk.scenario.wuhan --analysis data/demo/analysis_2023-24.nc --png docs/img/wuhan-2024.png

Temperatures are instantaneous hourly values (a day's maximum and minimum over its 24 hours);
precipitation is the hour ending at the valid time, counted in the Beijing day it fell in.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from wxrisk.scenario.anchor import (
    BEIJING_OFFSET_H,
    FIT_ROUNDS,
    MAX_PRECIP_FACTOR,
    MIN_WORLD_PRECIP_MM,
    Station,
    StationAnchor,
    hourly_from_daily,
    local_noons_h,
    wuhan_station,
)
from wxrisk.scenario.weather import EPOCH, Grid, World, compute_fields, diurnal_shape

ANCHORED_DAYS = (date(2024, 1, 16), date(2024, 2, 26))    # Beijing days the 2024 winter is anchored on
COMPARED_DAYS = (date(2024, 1, 25), date(2024, 2, 10))    # issue 17: the comparison window
EVENT_DAYS = (date(2024, 2, 2), date(2024, 2, 4))         # the freezing-rain and snow days
ANCHOR_SIGMA_DEG = 2.0                                     # the nudge's reach (Gaussian) [deg]
TAVG_WEIGHT_BOTH = 0.3      # the station's daily mean, on days with both extremes (its day may differ a little)
TAVG_WEIGHT_FRONTAL = 1.5   # ... on days with one extreme missing (frontal days): the mean decides the phase
EXTREME_WEIGHT_FRONTAL = 0.4  # the one extreme of such a day (a front passing at midnight makes it a poor guide)
SMOOTHNESS = 1.0            # penalty on the correction's second differences (12-hourly knots) [1/K]
AMPLITUDE_RIDGE = 0.1       # penalty on the diurnal amplitude change [1/K]
GRID_STEP_DEG = 0.25


@dataclass(frozen=True)
class DailySeries:
    """Per Beijing day: maximum, minimum and mean 2 m temperature [°C], precipitation [mm]."""

    days: tuple[date, ...]
    tmax_c: np.ndarray
    tmin_c: np.ndarray
    tmean_c: np.ndarray
    precip_mm: np.ndarray

    def select(self, first: date, last: date) -> DailySeries:
        keep = np.array([first <= d <= last for d in self.days])
        return DailySeries(tuple(d for d, k in zip(self.days, keep, strict=True) if k), self.tmax_c[keep],
                           self.tmin_c[keep], self.tmean_c[keep], self.precip_mm[keep])


def beijing_hours(first: date, last: date) -> np.ndarray:
    """Hours since EPOCH (UTC) of the instants / hour ends in Beijing days first..last (00:00 to 23:00 local)."""
    start = (np.datetime64(first, "h") - EPOCH).astype(int) - BEIJING_OFFSET_H
    return np.arange(start, start + 24 * ((last - first).days + 1), dtype=np.int64)


def daily_series(hours: np.ndarray, t2m_c: np.ndarray, precip_mm: np.ndarray) -> DailySeries:
    """Beijing-day statistics of hourly values: temperature by the day of its instant, precipitation by
    the day of the hour it fell in (the hour ending at the valid time)."""
    local = np.asarray(hours, dtype=np.int64) + BEIJING_OFFSET_H
    t_day, p_day = local // 24, (local - 1) // 24
    days = np.unique(t_day)
    def stat(fn, values, day_of):  # noqa: E306
        return np.array([fn(values[day_of == d]) if (day_of == d).any() else np.nan for d in days])
    as_dates = tuple(date(2000, 1, 1) + timedelta(days=int(d)) for d in days)
    return DailySeries(as_dates, stat(np.max, t2m_c, t_day), stat(np.min, t2m_c, t_day), stat(np.mean, t2m_c, t_day),
                       stat(np.sum, precip_mm, p_day))


def station_daily(station: Station, first: date, last: date) -> DailySeries:
    days = station.between(first, last)
    return DailySeries(tuple(d.day for d in days), np.array([d.tmax_c for d in days]), np.array([d.tmin_c for d in days]),
                       np.array([d.tavg_c for d in days]), np.array([d.precip_mm for d in days]))


def station_cells(station: Station) -> tuple[Grid, np.ndarray]:
    """The 2 x 2 cells of a GRID_STEP_DEG grid (aligned on whole degrees) around the station, and their
    bilinear weights (y, x)."""
    west = math.floor(station.lon / GRID_STEP_DEG) * GRID_STEP_DEG
    south = math.floor(station.lat / GRID_STEP_DEG) * GRID_STEP_DEG
    grid = Grid(lon=np.round(np.array([west, west + GRID_STEP_DEG]), 4), lat=np.round(np.array([south, south + GRID_STEP_DEG]), 4))
    fx, fy = (station.lon - west) / GRID_STEP_DEG, (station.lat - south) / GRID_STEP_DEG
    return grid, np.array([[(1 - fy) * (1 - fx), (1 - fy) * fx], [fy * (1 - fx), fy * fx]])


def world_at_station(world: World, station: Station, hours: np.ndarray) -> dict[str, np.ndarray]:
    """Hourly fields of `world` at the station (bilinear over its four cells; phase of the nearest cell)."""
    grid, weights = station_cells(station)
    fields = compute_fields(world, grid, hours)
    nearest = np.unravel_index(np.argmax(weights), weights.shape)
    return {"t2m_c": (fields["t2m_c"] * weights).sum(axis=(1, 2)), "precip_mm": (fields["precip_mm"] * weights).sum(axis=(1, 2)),
            "ptype": fields["ptype"][:, nearest[0], nearest[1]]}


def _anchor(station: Station, hours: np.ndarray, knots_h: np.ndarray, knot_k: np.ndarray,
            noons_h: np.ndarray, amplitude_k: np.ndarray, factor: np.ndarray) -> StationAnchor:
    return StationAnchor(station.lon, station.lat, ANCHOR_SIGMA_DEG, int(hours[0]),
                         np.interp(hours, knots_h, knot_k, left=0.0, right=0.0),
                         hourly_from_daily(amplitude_k, noons_h, hours, 0.0), hourly_from_daily(factor, noons_h, hours, 1.0))


def fit_station_anchor(world: World, station: Station, first: date = ANCHORED_DAYS[0],
                       last: date = ANCHORED_DAYS[1]) -> StationAnchor:
    """The anchor that makes `world` at the station match the station's days first..last (see anchor.py)."""
    n_days = (last - first).days + 1
    hours = beijing_hours(first - timedelta(days=1), last + timedelta(days=1))
    noons_h = local_noons_h(first, n_days, EPOCH)
    knots_h = np.concatenate([noons_h - 12.0, [noons_h[-1] + 12.0]])          # local midnights
    knots_h = np.sort(np.concatenate([knots_h, noons_h]))                        # and noons: every 12 h
    knots_h = np.concatenate([[knots_h[0] - 24.0], knots_h, [knots_h[-1] + 24.0]])  # eased to 0 a day out
    target = station_daily(station, first, last)
    knot_k, amplitude_k, factor = np.zeros(len(knots_h)), np.zeros(n_days), np.ones(n_days)
    for _ in range(FIT_ROUNDS):
        anchor = _anchor(station, hours, knots_h, knot_k, noons_h, amplitude_k, factor)
        at = world_at_station(replace(world, anchors=(anchor,)), station, hours)
        model = daily_series(hours, at["t2m_c"], at["precip_mm"]).select(first, last)
        step_knots, step_amplitude = _temperature_step(hours, at["t2m_c"], knots_h, noons_h, model, target,
                                                       np.concatenate([knot_k[1:-1], amplitude_k]))
        knot_k, amplitude_k = knot_k + step_knots, amplitude_k + step_amplitude
        wet = model.precip_mm >= MIN_WORLD_PRECIP_MM
        ratio = np.where(wet & np.isfinite(target.precip_mm), target.precip_mm / np.maximum(model.precip_mm, 1e-9), 1.0)
        factor = np.clip(factor * ratio, 0.0, MAX_PRECIP_FACTOR)
    return _anchor(station, hours, knots_h, knot_k, noons_h, amplitude_k, factor)


def _hat_rows(hours: np.ndarray, knots_h: np.ndarray) -> np.ndarray:
    """(hours, knots): the weight of each knot in the piecewise-linear interpolation at each hour."""
    eye = np.eye(len(knots_h))
    return np.stack([np.interp(hours, knots_h, eye[k], left=0.0, right=0.0) for k in range(len(knots_h))], axis=1)


def _temperature_step(hours: np.ndarray, t2m_c: np.ndarray, knots_h: np.ndarray, noons_h: np.ndarray,
                      model: DailySeries, target: DailySeries, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One Gauss-Newton step of the temperature correction (`current`: inner knot values, then amplitudes):
    knot values every 12 h and a diurnal amplitude per day, by weighted least squares on the day's maximum,
    minimum and mean (the maximum and minimum at the hours the world has them), with penalties on the whole
    correction's roughness and amplitude changes."""
    local_day = (hours + BEIJING_OFFSET_H) // 24
    first_day = (np.datetime64(model.days[0], "D") - EPOCH.astype("datetime64[D]")).astype(int)
    hat = _hat_rows(hours.astype(float), knots_h)[:, 1:-1]          # the outer knots stay at 0
    solar = (hours % 24) + 114.0 / 15.0
    shape = hourly_shape_rows(hours, noons_h, solar)
    rows, rhs, weights = [], [], []
    for k in range(len(model.days)):
        in_day = np.flatnonzero(local_day == first_day + k)
        design = np.hstack([hat[in_day], shape[in_day]])
        t_day = t2m_c[in_day]
        both = np.isfinite(target.tmax_c[k]) and np.isfinite(target.tmin_c[k])
        extreme_weight = 1.0 if both else EXTREME_WEIGHT_FRONTAL
        for value, index, weight in ((target.tmax_c[k], in_day[np.argmax(t_day)], extreme_weight),
                                     (target.tmin_c[k], in_day[np.argmin(t_day)], extreme_weight)):
            if np.isfinite(value):
                rows.append(np.hstack([hat[index], shape[index]]))
                rhs.append(value - t2m_c[index])
                weights.append(weight)
        if np.isfinite(target.tmean_c[k]):
            rows.append(design.mean(axis=0))
            rhs.append(target.tmean_c[k] - t_day.mean())
            weights.append(TAVG_WEIGHT_BOTH if both else TAVG_WEIGHT_FRONTAL)
    n_knots, n_days = len(knots_h) - 2, len(model.days)
    smooth = np.zeros((n_knots - 2, n_knots + n_days))
    for k in range(n_knots - 2):
        smooth[k, k:k + 3] = (1.0, -2.0, 1.0)
    ridge = np.hstack([np.zeros((n_days, n_knots)), np.eye(n_days)])
    penalty = np.vstack([SMOOTHNESS * smooth, AMPLITUDE_RIDGE * ridge])
    a = np.vstack([np.array(rows) * np.array(weights)[:, None], penalty])
    b = np.concatenate([np.array(rhs) * np.array(weights), -penalty @ current])
    with threadpool_limits(1):       # a small problem: BLAS threads only wait on each other on a busy machine
        step = np.linalg.lstsq(a, b, rcond=None)[0]
    return np.concatenate([[0.0], step[:n_knots], [0.0]]), step[n_knots:]


def hourly_shape_rows(hours: np.ndarray, noons_h: np.ndarray, solar_hour: np.ndarray) -> np.ndarray:
    """(hours, days): the diurnal shape at each hour times each day's amplitude weight (linear between noons)."""
    return _hat_rows(hours.astype(float), noons_h) * diurnal_shape(solar_hour)[:, None]


@dataclass(frozen=True)
class Comparison:
    """The demo against the station over COMPARED_DAYS."""

    model: DailySeries
    station: DailySeries
    tmax_mae_c: float
    tmin_mae_c: float
    precip_correlation: float
    event_total_mm: float
    station_event_total_mm: float
    tmax_days: int
    tmin_days: int

    def lines(self) -> list[str]:
        rows = ["Beijing day   demo Tmax  station   demo Tmin  station   demo mm  station mm"]
        for k, day in enumerate(self.model.days):
            rows.append(f"{day}  {self.model.tmax_c[k]:9.1f} {self.station.tmax_c[k]:8.1f} {self.model.tmin_c[k]:11.1f} "
                        f"{self.station.tmin_c[k]:8.1f} {self.model.precip_mm[k]:9.1f} {self.station.precip_mm[k]:10.1f}")
        rows += [
            f"daily max temperature MAE {self.tmax_mae_c:.2f} °C over {self.tmax_days} days (target <= 2)",
            f"daily min temperature MAE {self.tmin_mae_c:.2f} °C over {self.tmin_days} days (target <= 2)",
            f"daily precipitation correlation {self.precip_correlation:.2f} (target >= 0.7)",
            f"2-4 Feb precipitation {self.event_total_mm:.1f} mm against {self.station_event_total_mm:.1f} mm "
            f"({100 * (self.event_total_mm / self.station_event_total_mm - 1):+.0f} %, target within 30 %)",
        ]
        return rows


def compare(model: DailySeries, station: Station) -> Comparison:
    model = model.select(*COMPARED_DAYS)
    observed = station_daily(station, *COMPARED_DAYS)
    assert model.days == observed.days, "the demo series does not cover the comparison days"
    has_max, has_min = np.isfinite(observed.tmax_c), np.isfinite(observed.tmin_c)
    both_p = np.isfinite(observed.precip_mm)
    event = np.array([EVENT_DAYS[0] <= d <= EVENT_DAYS[1] for d in model.days])
    return Comparison(
        model=model, station=observed,
        tmax_mae_c=float(np.abs(model.tmax_c - observed.tmax_c)[has_max].mean()),
        tmin_mae_c=float(np.abs(model.tmin_c - observed.tmin_c)[has_min].mean()),
        precip_correlation=float(np.corrcoef(model.precip_mm[both_p], observed.precip_mm[both_p])[0, 1]),
        event_total_mm=float(model.precip_mm[event].sum()), station_event_total_mm=float(observed.precip_mm[event].sum()),
        tmax_days=int(has_max.sum()), tmin_days=int(has_min.sum()))


def demo_hourly_at_wuhan(seed: int = 2024) -> dict[str, np.ndarray]:
    """The demo's 2024 analysis at the Wuhan station, hourly over the compared days."""
    from wxrisk.scenario.episodes import HOLDOUT_YEAR, winter_world

    hours = beijing_hours(*COMPARED_DAYS)
    return {"hours": hours, **world_at_station(winter_world(seed, HOLDOUT_YEAR), wuhan_station(), hours)}


def analysis_hourly_at_wuhan(path: Path) -> dict[str, np.ndarray]:
    """An analysis file (NetCDF, as `generate` writes it) at the Wuhan station, hourly over the compared days."""
    import xarray as xr

    station = wuhan_station()
    hours = beijing_hours(*COMPARED_DAYS)
    times = (EPOCH + hours.astype("timedelta64[h]")).astype("datetime64[ns]")
    with xr.open_dataset(path) as ds:
        point = ds.sel(time=times).interp(longitude=station.lon, latitude=station.lat)
        nearest = ds["ptype"].sel(time=times).sel(longitude=station.lon, latitude=station.lat, method="nearest")
        return {"hours": hours, "t2m_c": point["t2m"].values - 273.15, "precip_mm": point["tp"].values * 1000.0,
                "ptype": nearest.values.astype(int)}


def plot(hourly: dict[str, np.ndarray], comparison: Comparison, path: Path) -> Path:
    """A PNG of the demo's hourly temperature and daily precipitation at Wuhan against the station."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = (EPOCH + (hourly["hours"] + BEIJING_OFFSET_H).astype("timedelta64[h]")).astype("datetime64[m]")
    noon = np.array([np.datetime64(d, "h") for d in comparison.model.days]) + np.timedelta64(12, "h")
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    top.plot(times, hourly["t2m_c"], color="0.35", lw=1, label="demo analysis, hourly 2 m temperature (synthetic)")
    top.plot(noon, comparison.model.tmax_c, "v", color="tab:red", mfc="none", label="demo daily max")
    top.plot(noon, comparison.model.tmin_c, "^", color="tab:blue", mfc="none", label="demo daily min")
    top.plot(noon, comparison.station.tmax_c, "v", color="tab:red", label="station daily max (GHCN-D)")
    top.plot(noon, comparison.station.tmin_c, "^", color="tab:blue", label="station daily min (GHCN-D)")
    for codes, level, colour, label in (((1,), -8.0, "tab:green", "demo rain"),
                                        ((3, 8, 12), -9.0, "tab:purple", "demo freezing rain/drizzle/pellets"),
                                        ((5, 6, 7), -10.0, "tab:cyan", "demo snow")):
        hours = np.isin(hourly["ptype"], codes)
        top.scatter(times[hours], np.full(hours.sum(), level), marker="|", color=colour, label=label)
    top.axhline(0.0, color="0.7", lw=0.8)
    top.set_ylabel("°C")
    top.set_ylim(-11.5, 23.0)
    top.legend(fontsize=7, ncol=3, loc="upper center")
    top.set_title(f"Wuhan, 25 Jan – 10 Feb 2024 (Beijing days): SYNTHETIC demo analysis vs NOAA GHCN-Daily CHM00057494\n"
                  f"Tmax MAE {comparison.tmax_mae_c:.1f} °C, Tmin MAE {comparison.tmin_mae_c:.1f} °C, "
                  f"precipitation r = {comparison.precip_correlation:.2f}, 2–4 Feb {comparison.event_total_mm:.1f} mm "
                  f"vs {comparison.station_event_total_mm:.1f} mm", fontsize=9)
    width = np.timedelta64(8, "h")
    bottom.bar(noon - width / 2, comparison.model.precip_mm, width=width, color="0.45", label="demo (synthetic)")
    bottom.bar(noon + width / 2, comparison.station.precip_mm, width=width, color="tab:green", label="station")
    bottom.set_ylabel("mm / day")
    bottom.legend(fontsize=7)
    fig.autofmt_xdate()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The demo's 2024 analysis at Wuhan against the station.")
    parser.add_argument("--analysis", type=Path, help="the 2023-24 analysis NetCDF (default: computed from the world)")
    parser.add_argument("--png", type=Path, help="also draw the comparison into this PNG")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    hourly = analysis_hourly_at_wuhan(args.analysis) if args.analysis else demo_hourly_at_wuhan(args.seed)
    comparison = compare(daily_series(hourly["hours"], hourly["t2m_c"], hourly["precip_mm"]), wuhan_station())
    print("\n".join(comparison.lines()))
    if args.png:
        print(f"wrote {plot(hourly, comparison, args.png)}")


if __name__ == "__main__":
    main()
