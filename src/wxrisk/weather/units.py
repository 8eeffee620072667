"""Unit conversion into the canonical units, applied once on the sampled values.

Linear conversions (K -> °C, m -> mm, kg m-2 s-1 -> mm/h) commute with interpolation (the
weights of a point sum to 1), so converting after sampling equals converting the grid.
"""

from __future__ import annotations

import numpy as np

from wxrisk.config import WxriskError
from wxrisk.weather.variables import NCEP_FLAG_PTYPE, PTYPE_RAIN_SNOW_MIX, UNIT_CONVERSIONS

UNITLESS_QUANTITIES = frozenset({"category", "flag"})


def normalise_unit(units: str) -> str:
    """`kg m**-2 s**-1`, `kg m^-2 s^-1`, `kg m-2 s-1` -> `kgm-2s-1`; lower case."""
    return units.strip().lower().replace("**", "").replace("^", "").replace(" ", "").replace(".", "")


def unit_scale_offset(quantity: str, units: str | None, where: str) -> tuple[float, float]:
    """(scale, offset) taking `units` of `quantity` to its canonical unit; `where` names the variable."""
    if quantity in UNITLESS_QUANTITIES:
        return 1.0, 0.0
    if not units:
        raise WxriskError(f"{where}: no units attribute")
    table = UNIT_CONVERSIONS[quantity]
    key = normalise_unit(units)
    if key not in table:
        raise WxriskError(f"{where}: unknown units {units!r} for {quantity} (known: {', '.join(table)})")
    return table[key]


def hours_between(later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """Hours [h] from `earlier` to `later` (datetime64 arrays)."""
    return (later - earlier) / np.timedelta64(1, "h")


def hourly_from_accumulated_since_issue(amount_mm: np.ndarray, issued: np.ndarray,
                                        lead_h: np.ndarray) -> np.ndarray:
    """Per-hour amount [mm/h] from amounts accumulated since the forecast start (ECMWF `tp`).

    amount_mm : (T, points) accumulated since `issued` [mm]
    issued    : (T,) forecast start of each row (datetime64)
    lead_h    : (T,) hours since `issued` [h]
    Each row becomes (amount - amount of the previous lead) / (hours between the leads), the
    previous lead of the first one being 0 h with 0 mm; lead 0 rows have no interval (NaN).
    Small negative differences (packing noise) become 0.
    """
    order = np.lexsort((lead_h, issued))
    sorted_amount, sorted_issued, sorted_lead = amount_mm[order], issued[order], lead_h[order]
    same_run = np.zeros(order.size, dtype=bool)
    same_run[1:] = sorted_issued[1:] == sorted_issued[:-1]
    previous_amount = np.zeros_like(sorted_amount)
    previous_amount[1:] = np.where(same_run[1:, None], sorted_amount[:-1], 0.0)
    previous_lead = np.zeros_like(sorted_lead)
    previous_lead[1:] = np.where(same_run[1:], sorted_lead[:-1], 0.0)
    interval_h = sorted_lead - previous_lead
    with np.errstate(invalid="ignore", divide="ignore"):
        per_hour = (sorted_amount - previous_amount) / np.where(interval_h > 0, interval_h, np.nan)[:, None]
    per_hour = np.maximum(per_hour, 0.0, where=~np.isnan(per_hour), out=per_hour)
    result = np.empty_like(per_hour)
    result[order] = per_hour
    return result


def hourly_from_interval_amount(amount_mm: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per-hour amount [mm/h] from amounts over the interval ending at each valid time.

    The interval is the spacing to the previous valid time (the first row uses the next spacing;
    a single row is taken as one hour), as in hourly ERA5 NetCDF `tp`.
    """
    order = np.argsort(valid, kind="stable")
    sorted_valid = valid[order]
    spacing_h = np.ones(order.size)
    if order.size > 1:
        gaps = hours_between(sorted_valid[1:], sorted_valid[:-1])
        spacing_h[1:] = gaps
        spacing_h[0] = gaps[0]
    row_spacing_h = np.empty(order.size)
    row_spacing_h[order] = np.where(spacing_h > 0, spacing_h, 1.0)
    return np.divide(amount_mm, row_spacing_h[:, None], out=np.empty_like(amount_mm), casting="same_kind")


def ptype_from_ncep_flags(flags: dict[str, np.ndarray]) -> np.ndarray:
    """ECMWF precipitation-type codes from NCEP categorical 0/1 fields (`crain`, `csnow`, ...).

    Most hazardous wins: freezing rain 3, ice pellets 8, rain and snow together 7, snow 5,
    rain 1, none 0. NaN where any given flag is NaN (outside the grid).
    """
    shape = next(iter(flags.values())).shape
    on = {name: np.nan_to_num(values, nan=0.0) >= 0.5 for name, values in flags.items()}
    off = np.zeros(shape, dtype=bool)
    codes = np.zeros(shape, dtype=np.float32)
    codes[on.get("crain", off)] = NCEP_FLAG_PTYPE["crain"]
    codes[on.get("csnow", off)] = NCEP_FLAG_PTYPE["csnow"]
    codes[on.get("crain", off) & on.get("csnow", off)] = PTYPE_RAIN_SNOW_MIX
    codes[on.get("cicep", off)] = NCEP_FLAG_PTYPE["cicep"]
    codes[on.get("cfrzr", off)] = NCEP_FLAG_PTYPE["cfrzr"]
    missing = np.zeros(shape, dtype=bool)
    for values in flags.values():
        missing |= np.isnan(values)
    codes[missing] = np.nan
    return codes
