"""Grid -> points sampling with interpolation weights computed once and applied to all hours.

The weights of a (grid geometry, point set, method) are a sparse matrix of shape
(points, cells of the used window): bilinear (4 cells a point) or nearest (1 cell). Sampling
`H` hours is one sparse product `(H, cells) @ weights.T`. Weights are cached in memory, keyed by
a hash of the grid's axes and a hash of the points, so a network is weighted once per grid.

Grids may have descending latitudes and longitudes in 0..360 or -180..180; points are taken in
the grid's own convention, and a global grid wraps between its last and first longitude.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

WEIGHTS_CACHE_SIZE = 32
POINTS_BLOCK_VALUES = 1_000_000  # float64 products held at once while sampling (8 MB, reused, not page-faulted)


@dataclass(frozen=True)
class GridAxes:
    """A regular lat/lon grid's 1-D axes [degrees], in the file's own order and convention."""

    lat: np.ndarray
    lon: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.lat.size, self.lon.size

    @property
    def key(self) -> str:
        """Hash of the axes (rounded to 1e-6°): same geometry, same key."""
        digest = hashlib.sha256()
        for axis in (self.lat, self.lon):
            digest.update(np.round(np.asarray(axis, dtype=np.float64), 6).tobytes())
            digest.update(b"|")
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class SamplePoints:
    """Points to sample at, e.g. segment midpoints: ids, lon and lat [degrees WGS84]."""

    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray

    @cached_property
    def key(self) -> str:
        """Hash of ids and coordinates: same network, same key (computed once per point set)."""
        digest = hashlib.sha256()
        digest.update("\x1f".join(map(str, self.ids)).encode())
        digest.update(np.asarray(self.lon, dtype=np.float64).tobytes())
        digest.update(np.asarray(self.lat, dtype=np.float64).tobytes())
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class SamplingWeights:
    """Sparse weights (points x used cells), which cells they are, and the window holding them.

    matrix       : (points, used cells) interpolation weights, rows sum to 1 inside the grid
    grid_cells   : flat index of each used cell in the whole grid (ny * nx)
    window_cells : flat index of each used cell in the window
    window       : (y0, y1, x0, x1) index slices of the grid rows/columns that hold the cells
    outside      : True for points outside the grid (sampled as NaN)
    """

    matrix: sp.csr_matrix
    grid_cells: np.ndarray
    window_cells: np.ndarray
    grid_shape: tuple[int, int]
    window: tuple[int, int, int, int]
    outside: np.ndarray

    @property
    def window_shape(self) -> tuple[int, int]:
        y0, y1, x0, x1 = self.window
        return y1 - y0, x1 - x0

    @property
    def outside_count(self) -> int:
        return int(self.outside.sum())


@dataclass
class CacheInfo:
    hits: int = 0
    misses: int = 0
    size: int = 0


_CACHE: OrderedDict[tuple[str, str, str], SamplingWeights] = OrderedDict()
_STATS = CacheInfo()


def is_global_longitude(lon: np.ndarray) -> bool:
    """True if the longitude axis [degrees] closes the circle (spacing included)."""
    if lon.size < 2:
        return False
    spacing = abs(float(lon[-1] - lon[0])) / (lon.size - 1)
    return abs(abs(float(lon[-1] - lon[0])) + spacing - 360.0) < 1e-3 * spacing


def to_grid_longitude(lon: np.ndarray, grid_lon: np.ndarray) -> np.ndarray:
    """Point longitudes [degrees] in the grid's convention (0..360 if the grid goes past 180)."""
    lon = np.asarray(lon, dtype=np.float64)
    if np.nanmax(grid_lon) > 180.0:
        return np.mod(lon, 360.0)
    return np.mod(lon + 180.0, 360.0) - 180.0


def axis_brackets(axis: np.ndarray, x: np.ndarray, periodic: bool = False):
    """Bracketing indices along one monotonic axis.

    Returns (i0, i1, frac, inside): x lies between axis[i0] and axis[i1], `frac` of the way
    towards axis[i1] (0..1); `inside` is False where x is beyond the axis ends (or NaN).
    """
    n = axis.size
    descending = axis[0] > axis[-1]
    ascending_axis = axis[::-1] if descending else axis
    if periodic:
        x = ascending_axis[0] + np.mod(x - ascending_axis[0], 360.0)
    j = np.clip(np.searchsorted(ascending_axis, x, side="right") - 1, 0, n - 2)
    i0, i1 = j, j + 1
    with np.errstate(invalid="ignore"):
        frac = (x - ascending_axis[i0]) / (ascending_axis[i1] - ascending_axis[i0])
        inside = (x >= ascending_axis[0]) & (x <= ascending_axis[-1])
    if periodic:
        wrap = x > ascending_axis[-1]
        gap = ascending_axis[0] + 360.0 - ascending_axis[-1]
        i0 = np.where(wrap, n - 1, i0)
        i1 = np.where(wrap, 0, i1)
        frac = np.where(wrap, (x - ascending_axis[-1]) / gap, frac)
        inside = np.isfinite(x)
    if descending:
        i0, i1 = n - 1 - i0, n - 1 - i1
    return i0, i1, frac, inside


def build_weights(axes: GridAxes, lon: np.ndarray, lat: np.ndarray, method: str = "bilinear") -> SamplingWeights:
    """Interpolation weights of points (lon, lat [degrees]) on a grid: `bilinear` or `nearest`."""
    if method not in ("bilinear", "nearest"):
        raise ValueError(f"unknown sampling method {method!r}")
    grid_lat = np.asarray(axes.lat, dtype=np.float64)
    grid_lon = np.asarray(axes.lon, dtype=np.float64)
    ny, nx = grid_lat.size, grid_lon.size
    y0, y1, fy, inside_y = axis_brackets(grid_lat, np.asarray(lat, dtype=np.float64))
    x0, x1, fx, inside_x = axis_brackets(grid_lon, to_grid_longitude(lon, grid_lon),
                                         periodic=is_global_longitude(grid_lon))
    inside = inside_y & inside_x
    points = np.flatnonzero(inside)
    y0, y1, fy, x0, x1, fx = (a[inside] for a in (y0, y1, fy, x0, x1, fx))
    if method == "nearest":
        rows = points
        ys = np.where(fy < 0.5, y0, y1)
        xs = np.where(fx < 0.5, x0, x1)
        values = np.ones(points.size)
    else:
        rows = np.repeat(points, 4)
        ys = np.stack([y0, y0, y1, y1], axis=1).ravel()
        xs = np.stack([x0, x1, x0, x1], axis=1).ravel()
        values = np.stack([(1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx], axis=1).ravel()
    keep = values > 0
    rows, ys, xs, values = rows[keep], ys[keep], xs[keep], values[keep]
    if rows.size:
        window = (int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1)
    else:
        window = (0, 0, 0, 0)
    grid_cells, cols = np.unique(ys * nx + xs, return_inverse=True)
    cell_y, cell_x = np.divmod(grid_cells, nx)
    window_cells = (cell_y - window[0]) * (window[3] - window[2]) + (cell_x - window[2])
    matrix = sp.csr_matrix((values, (rows, cols)), shape=(np.size(lon), grid_cells.size))
    return SamplingWeights(matrix, grid_cells, window_cells, (ny, nx), window, ~inside)


def cached_weights(axes: GridAxes, points: SamplePoints, method: str = "bilinear") -> SamplingWeights:
    """`build_weights` once per (grid geometry, points, method); later calls reuse it."""
    key = (axes.key, points.key, method)
    if key in _CACHE:
        _STATS.hits += 1
        _CACHE.move_to_end(key)
        return _CACHE[key]
    _STATS.misses += 1
    weights = build_weights(axes, points.lon, points.lat, method)
    _CACHE[key] = weights
    while len(_CACHE) > WEIGHTS_CACHE_SIZE:
        _CACHE.popitem(last=False)
    return weights


def weights_cache_info() -> CacheInfo:
    """Hits, misses and size of the weights cache since start (or the last clear)."""
    return CacheInfo(_STATS.hits, _STATS.misses, len(_CACHE))


def clear_weights_cache() -> None:
    _CACHE.clear()
    _STATS.hits = _STATS.misses = 0


def apply_weights(weights: SamplingWeights, field: np.ndarray) -> np.ndarray:
    """Sample a field of shape (hours, ny, nx), whole grid or only `weights.window`.

    Returns float32 (hours, points), laid out point-major (each point's hours contiguous); NaN for
    points outside the grid and where a used cell is NaN. Sums are taken in float64 and rounded once.
    """
    field = np.asarray(field)
    if field.shape[-2:] == weights.grid_shape:
        cells = weights.grid_cells
    elif field.shape[-2:] == weights.window_shape:
        cells = weights.window_cells
    else:
        raise ValueError(f"field of shape {field.shape} fits neither the grid {weights.grid_shape} "
                         f"nor the window {weights.window_shape}")
    hours = field.shape[0] if field.ndim == 3 else 1
    used = field.reshape(hours, -1)[:, cells].astype(np.float32, copy=False)  # (hours, used cells)
    cell_hours = np.ascontiguousarray(used.T, dtype=np.float64)  # float64 weights: exact sums
    n_points = weights.matrix.shape[0]
    sampled = np.empty((n_points, hours), dtype=np.float32)
    step = max(1, POINTS_BLOCK_VALUES // hours)
    for first in range(0, n_points, step):
        sampled[first:first + step] = weights.matrix[first:first + step] @ cell_hours
    sampled[weights.outside] = np.nan
    return sampled.T
