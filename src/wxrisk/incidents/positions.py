"""Where each incident happened, WGS84 lon/lat [deg], and the warnings positions deserve.

lat/lon are used where they are in range; a row whose lat/lon are missing, out of range or 0,0
falls back to its grid reference (`easting`/`northing` in the mapping's `crs`). Rows with neither
go to quarantine with the values read. Swapped lat/lon are never "fixed": a file whose lat/lon
agree with their grid references (or with the road network) only when exchanged is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyproj

from wxrisk.config import WxriskError
from wxrisk.vocab import haversine_km

AGREE_KM = 1.0  # lat/lon and grid reference of one row agree within this distance [km]
EXTENT_PAD_DEG = 0.5  # how far outside the road network's extent a position still counts as inside [deg]


@dataclass
class Positions:
    """lon, lat [deg] (NaN where a row has no usable position), per-row reasons, counts, warnings,
    and the evidence that lat and lon are swapped (refuses the file)."""

    lon: pd.Series
    lat: pd.Series
    reasons: pd.Series
    from_grid: int = 0
    warnings: list[str] = field(default_factory=list)
    swapped: str | None = None


def numbers(frame: pd.DataFrame, column: str, decimal_comma: bool = False) -> pd.Series:
    """A numeric column (NaN where empty, unreadable or not finite); `53,81` reads as 53.81 if `decimal_comma`."""
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    text = frame[column]
    if decimal_comma:
        text = text.where(~text.str.fullmatch(r"\s*-?\d+,\d+\s*"), text.str.replace(",", ".", regex=False))
    return pd.to_numeric(text, errors="coerce").astype(float).where(lambda v: np.isfinite(v))


def _in_range(lon: pd.Series, lat: pd.Series) -> pd.Series:
    return lon.between(-180, 180) & lat.between(-90, 90) & ~((lon == 0) & (lat == 0))


def _project(easting: pd.Series, northing: pd.Series, crs: str) -> tuple[pd.Series, pd.Series]:
    try:
        transformer = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    except pyproj.exceptions.CRSError as exc:
        raise WxriskError(f"crs {crs}: unknown coordinate reference system (e.g. EPSG:27700)") from exc
    x, y = transformer.transform(easting.to_numpy(), northing.to_numpy())
    return pd.Series(x, index=easting.index), pd.Series(y, index=easting.index)


def parse_positions(frame: pd.DataFrame, crs: str | None, decimal_comma: bool = False) -> Positions:
    """Positions of every row (see the module docstring)."""
    lon, lat = numbers(frame, "lon", decimal_comma), numbers(frame, "lat", decimal_comma)
    given = lon.notna() & lat.notna()
    usable = given & _in_range(lon, lat)
    grid_lon = grid_lat = pd.Series(np.nan, index=frame.index)
    if crs and {"easting", "northing"} <= set(frame.columns):
        easting, northing = numbers(frame, "easting", decimal_comma), numbers(frame, "northing", decimal_comma)
        grid_lon, grid_lat = _project(easting.fillna(0), northing.fillna(0), crs)
        grid_ok = easting.notna() & northing.notna() & _in_range(grid_lon, grid_lat)
        grid_lon, grid_lat = grid_lon.where(grid_ok), grid_lat.where(grid_ok)
    use_grid = ~usable & grid_lon.notna()
    out_lon = lon.where(usable, grid_lon.where(use_grid))
    out_lat = lat.where(usable, grid_lat.where(use_grid))
    reasons = _reasons(frame, lon, lat, given, out_lon.isna())
    warnings = []
    if (fallback := int((use_grid & given).sum())):
        example = (lat[use_grid & given].iloc[0], lon[use_grid & given].iloc[0])
        warnings.append(f"{fallback} rows with lat/lon out of range (e.g. lat {example[0]:g}, lon {example[1]:g}) "
                        "placed by their grid reference instead")
    return Positions(out_lon, out_lat, reasons, int(use_grid.sum()), warnings,
                     _swap_evidence(lon, lat, grid_lon, grid_lat, usable))


def _reasons(frame: pd.DataFrame, lon: pd.Series, lat: pd.Series, given: pd.Series, failed: pd.Series) -> pd.Series:
    reasons = pd.Series("", index=frame.index, dtype=object)
    raw_lat = frame["lat"] if "lat" in frame.columns else pd.Series("", index=frame.index)
    raw_lon = frame["lon"] if "lon" in frame.columns else pd.Series("", index=frame.index)
    for index in failed[failed].index:
        if given[index]:
            swapped = abs(lat[index]) > 90 and abs(lon[index]) <= 90
            reasons[index] = (f"coordinates out of range: lat {raw_lat[index]!r}, lon {raw_lon[index]!r}"
                              + (" (lat and lon swapped?)" if swapped else ""))
        elif raw_lat[index] or raw_lon[index]:
            reasons[index] = f"unreadable coordinates: lat {raw_lat[index]!r}, lon {raw_lon[index]!r}"
        else:
            reasons[index] = "missing coordinates"
    return reasons


def _swap_evidence(lon: pd.Series, lat: pd.Series, grid_lon: pd.Series, grid_lat: pd.Series,
                   usable: pd.Series) -> str | None:
    """Why lat/lon look swapped: mostly out of range only as given, or apart from the grid reference."""
    given = lon.notna() & lat.notna()
    only_swapped_fits = given & (lat.abs() > 90) & (lon.abs() <= 90)
    if given.sum() and only_swapped_fits.sum() * 2 > given.sum():
        return (f"{int(only_swapped_fits.sum())} of {int(given.sum())} rows have a latitude beyond ±90° and a "
                f"longitude within it (e.g. lat {lat[only_swapped_fits].iloc[0]:g})")
    both = usable & grid_lon.notna()
    if both.sum() >= 5:
        as_given = haversine_km(lon[both], lat[both], grid_lon[both], grid_lat[both]) <= AGREE_KM
        as_swapped = haversine_km(lat[both], lon[both], grid_lon[both], grid_lat[both]) <= AGREE_KM
        if as_swapped.mean() > 0.5 > as_given.mean():
            return (f"{int(as_swapped.sum())} of {int(both.sum())} rows agree with their grid reference only when "
                    "lat and lon are exchanged")
    return None


def extent_swap_evidence(lon: pd.Series, lat: pd.Series, extent: tuple[float, float, float, float] | None
                         ) -> str | None:
    """Why lat/lon look swapped when positions lie outside the road network's extent (W, S, E, N) as
    given but inside it with lat and lon exchanged; None otherwise."""
    ok = lon.notna() & lat.notna()
    if extent is None or ok.sum() < 5:
        return None
    west, south, east, north = extent

    def inside(x: pd.Series, y: pd.Series) -> pd.Series:
        return (x.between(west - EXTENT_PAD_DEG, east + EXTENT_PAD_DEG)
                & y.between(south - EXTENT_PAD_DEG, north + EXTENT_PAD_DEG))

    as_given, as_swapped = inside(lon[ok], lat[ok]).mean(), inside(lat[ok], lon[ok]).mean()
    if as_swapped > 0.5 and as_given < 0.1:
        return (f"{as_swapped:.0%} of positions fall inside the road network ({west:g}..{east:g}°E, "
                f"{south:g}..{north:g}°N) only when lat and lon are exchanged")
    return None
