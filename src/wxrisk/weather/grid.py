"""Reading weather grids: open any file xarray can, find known variables, their axes and times.

GRIB is read by cfgrib without index files (`indexpath=''`), strictly (`errors='raise'`, so a
truncated file fails instead of silently losing messages), one dataset per `stepType` (and any
other key cfgrib asks to split on) through `filter_by_keys`. Zarr stores are directories.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from cfgrib.dataset import DatasetBuildError

from wxrisk.config import WxriskError
from wxrisk.weather.sampling import GridAxes
from wxrisk.weather.variables import (
    DEFAULT_STEP_TYPE_PREFERENCE,
    GRID_VARIABLES,
    STEP_TYPE_PREFERENCE,
    GridVariable,
)

GRIB_SUFFIXES = frozenset({".grib", ".grib1", ".grib2", ".grb", ".grb2"})
LAT_NAMES = ("latitude", "lat")
LON_NAMES = ("longitude", "lon")
CHUNK_CELLS = 4_000_000  # grid values loaded at once while sampling (float32: 16 MB)


def magic_bytes(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(4)


def is_grib(path: Path) -> bool:
    """GRIB by suffix or by its `GRIB` magic bytes."""
    return path.suffix.lower() in GRIB_SUFFIXES or magic_bytes(path) == b"GRIB"


def open_grib_datasets(path: Path, filter_by_keys: dict | None = None) -> list[xr.Dataset]:
    """All hypercubes of a GRIB file, splitting on `stepType` etc. as cfgrib asks."""
    backend_kwargs = {"indexpath": "", "errors": "raise", "filter_by_keys": filter_by_keys or {}}
    try:
        return [xr.open_dataset(path, engine="cfgrib", backend_kwargs=backend_kwargs)]
    except DatasetBuildError as exc:
        alternatives = exc.args[2]
    datasets: list[xr.Dataset] = []
    for keys in alternatives:
        datasets.extend(open_grib_datasets(path, {**(filter_by_keys or {}), **keys}))
    return datasets


ECMWF_ALIGNMENT = 120  # bytes: ECMWF writers pad each GRIB message to a multiple of this
GRIB1_LARGE = 0x800000  # GRIB1 length flag: the length is in units of 120 bytes (messages > 8 MB)


@dataclass(frozen=True)
class GribMessage:
    """Where one GRIB message lies in a file: start and declared length [bytes], zero padding after it."""

    start: int
    length: int
    padding: int


def grib_messages(data: bytes, what: str) -> list[GribMessage]:
    """Every GRIB (edition 1 or 2) message of `data` by its declared length and `7777` end marker.

    WxriskError when a message is cut short, anything but zero bytes lies between messages, or the
    file ends inside the padding that its other messages show (see `check_last_padding`).
    """
    messages: list[GribMessage] = []
    position = _skip_zeros(data, 0)
    while position < len(data):
        if len(data) < position + 16 and b"GRIB".startswith(data[position:position + 4]):
            raise WxriskError(f"{what}: GRIB message {len(messages) + 1} at byte {position} is cut short "
                              f"({len(data) - position} bytes, not even its 16-byte header)")
        if data[position:position + 4] != b"GRIB":
            raise WxriskError(f"{what}: not GRIB at byte {position} ({data[position:position + 16]!r})")
        length = _declared_length(data, position, what)
        end = position + length
        if end > len(data) or not _ends_with_marker(data, position, end):
            raise WxriskError(f"{what}: GRIB message {len(messages) + 1} at byte {position} is cut short "
                              f"({len(data) - position} of {length} bytes)")
        following = _skip_zeros(data, end)
        messages.append(GribMessage(position, length, following - end))
        position = following
    if not messages:
        raise WxriskError(f"{what}: no GRIB message in {len(data)} bytes")
    check_last_padding(messages, what)
    return messages


def _skip_zeros(data: bytes, position: int) -> int:
    while position < len(data) and data[position] == 0:
        position += 1
    return position


def _declared_length(data: bytes, position: int, what: str) -> int:
    edition = data[position + 7]
    if edition == 2:
        return int.from_bytes(data[position + 8:position + 16], "big")
    if edition == 1:
        length = int.from_bytes(data[position + 4:position + 7], "big")
        return (length & (GRIB1_LARGE - 1)) * ECMWF_ALIGNMENT if length & GRIB1_LARGE else length
    raise WxriskError(f"{what}: GRIB edition {edition} at byte {position} is not 1 or 2")


def _ends_with_marker(data: bytes, start: int, end: int) -> bool:
    """`7777` ends the message; a large GRIB1 message's rounded length may put zeros after it."""
    if data[end - 4:end] == b"7777":
        return True
    tail = data[max(start, end - ECMWF_ALIGNMENT - 4):end]
    marker = tail.rfind(b"7777")
    return marker >= 0 and not tail[marker + 4:].strip(b"\0")


def check_last_padding(messages: list[GribMessage], what: str) -> None:
    """Refuse a file that ends inside (or before) the zero padding its other messages carry.

    Writers that pad (ECMWF: to a multiple of 120 bytes) pad every message, the last one too, so a
    file whose last padding is short was cut. Padded length expected of the last message: its length
    rounded up to the common unit of the others' padded lengths, or to 120 bytes. A file whose other
    messages carry no padding (or that holds one message) may end with none, or with a 120-byte one.
    """
    *others, last = messages
    padded = [m.length + m.padding for m in others if m.padding]
    units = {ECMWF_ALIGNMENT}
    if padded:
        units.add(math.gcd(*padded))
    allowed = {-(-last.length // unit) * unit - last.length for unit in units}
    if not padded:
        allowed.add(0)
    if last.padding not in allowed:
        expected = min(p for p in allowed if p) if any(allowed) else 0
        like = "like the other messages'" if padded else f"to a multiple of {ECMWF_ALIGNMENT} bytes, or none"
        raise WxriskError(f"{what}: the file ends {last.padding} bytes after GRIB message {len(messages)} "
                          f"(byte {last.start}), whose zero padding should be {expected} bytes ({like}): "
                          "the file is cut short")


def count_grib_messages(data: bytes, what: str) -> int:
    """Number of complete GRIB messages in `data`; WxriskError if the file is cut anywhere."""
    return len(grib_messages(data, what))


def open_datasets(path: Path, counted: bool = False) -> list[xr.Dataset]:
    """The datasets of a grid file: GRIB (one per stepType), Zarr (a directory) or NetCDF (3 or 4).

    counted : the file's GRIB messages were already counted complete (a fresh download whose bytes
              `count_grib_messages` checked before they were written); else they are counted here
    """
    if path.is_dir():
        return [xr.open_dataset(path, engine="zarr")]
    if is_grib(path):
        if not counted:
            count_grib_messages(path.read_bytes(), str(path))  # cfgrib silently skips a cut-short last message
        return open_grib_datasets(path)
    if magic_bytes(path).startswith(b"CDF"):
        # Classic NetCDF-3: scipy checks the data against the header (netCDF4 reads a truncated
        # file's missing tail as zeros).
        return [xr.open_dataset(path, engine="scipy", mmap=False)]
    return [xr.open_dataset(path)]


def step_type(da: xr.DataArray) -> str:
    return str(da.attrs.get("GRIB_stepType", ""))


def match_rank(variable: GridVariable, name: str, da: xr.DataArray) -> int | None:
    """0 if `da` (named `name`) is `variable` by short name, 1 by CF standard name, else None."""
    names = {name.lower(), str(da.attrs.get("GRIB_shortName", "")).lower(),
             str(da.attrs.get("GRIB_cfVarName", "")).lower()}
    if names & set(variable.short_names):
        return 0
    if str(da.attrs.get("standard_name", "")) in variable.standard_names:
        return 1
    return None


def find_variables(datasets: list[xr.Dataset]) -> dict[str, xr.DataArray]:
    """Known variables by `GridVariable.key`: short-name matches before standard-name ones (a
    `t850` is also an `air_temperature`), then the stepType that suits the quantity."""
    found: dict[str, xr.DataArray] = {}
    for variable in GRID_VARIABLES:
        preference = STEP_TYPE_PREFERENCE.get(variable.quantity, DEFAULT_STEP_TYPE_PREFERENCE)
        candidates = []
        for ds in datasets:
            for name, da in ds.data_vars.items():
                rank = match_rank(variable, str(name), da)
                if rank is not None:
                    kind = step_type(da)
                    candidates.append((rank, preference.index(kind) if kind in preference else len(preference), da))
        if candidates:
            found[variable.key] = min(candidates, key=lambda candidate: candidate[:2])[2]
    return found


def all_variable_names(datasets: list[xr.Dataset]) -> list[str]:
    return sorted({str(name) for ds in datasets for name in ds.data_vars})


def is_synthetic(datasets: list[xr.Dataset]) -> bool:
    """True if a dataset carries a true `synthetic` global attribute (1, "1", "true", "yes")."""
    for ds in datasets:
        flag = ds.attrs.get("synthetic")
        if flag is not None and str(flag).strip().lower() in ("1", "true", "yes", "1.0"):
            return True
    return False


def horizontal_dims(da: xr.DataArray, where: str) -> tuple[str, str]:
    """Names of the latitude and longitude dimensions of a variable."""
    def find(names: tuple[str, ...], standard_name: str, units: tuple[str, ...]) -> str | None:
        for dim in da.dims:
            coord = da.coords.get(dim)
            attrs = coord.attrs if coord is not None else {}
            if (str(dim).lower() in names or attrs.get("standard_name") == standard_name
                    or attrs.get("units") in units):
                return str(dim)
        return None

    lat = find(LAT_NAMES, "latitude", ("degrees_north", "degree_north"))
    lon = find(LON_NAMES, "longitude", ("degrees_east", "degree_east"))
    if lat is None or lon is None:
        raise WxriskError(f"{where}: not on a regular latitude/longitude grid (dimensions {list(da.dims)})")
    return lat, lon


def grid_axes(da: xr.DataArray, lat_dim: str, lon_dim: str, where: str) -> GridAxes:
    """The 1-D axes of a variable, checked to be strictly monotonic with at least 2 points."""
    axes = []
    for dim in (lat_dim, lon_dim):
        values = np.asarray(da.coords[dim].values, dtype=np.float64) if dim in da.coords else None
        if values is None or values.ndim != 1 or values.size < 2:
            raise WxriskError(f"{where}: axis {dim} needs at least 2 coordinate values")
        steps = np.diff(values)
        if not (np.all(steps > 0) or np.all(steps < 0)):
            raise WxriskError(f"{where}: axis {dim} is not strictly ascending or descending")
        axes.append(values)
    return GridAxes(lat=axes[0], lon=axes[1])


@dataclass(frozen=True)
class FieldTimes:
    """Times of the stacked rows of a field (each (T,)).

    valid  : valid time (datetime64[ns], UTC)
    issued : forecast reference time, NaT where the file has none
    lead_h : hours from `issued` to `valid` [h], NaN where unknown
    """

    valid: np.ndarray
    issued: np.ndarray
    lead_h: np.ndarray


def time_dims(da: xr.DataArray, lat_dim: str, lon_dim: str, where: str) -> tuple[xr.DataArray, tuple[str, ...]]:
    """Squeeze size-1 extra dims; the remaining non-horizontal dims must all be time dims."""
    squeeze = [d for d in da.dims if d not in (lat_dim, lon_dim) and da.sizes[d] == 1]
    da = da.squeeze(squeeze) if squeeze else da
    dims = tuple(str(d) for d in da.dims if d not in (lat_dim, lon_dim))
    valid_name = valid_time_name(da)
    if valid_name == "time+step":
        valid_dims = set(da.coords["time"].dims) | set(da.coords["step"].dims)
    else:
        valid_dims = set() if valid_name is None else set(da.coords[valid_name].dims)
    extra = [d for d in dims if d not in valid_dims]
    if extra:
        raise WxriskError(f"{where}: extra dimension {extra[0]!r} ({da.sizes[extra[0]]} values) besides "
                          "time and space; select one value first")
    return da, dims


def valid_time_name(da: xr.DataArray) -> str | None:
    """Which coordinate gives the valid time: `valid_time`, `time` + `step`, or `time`."""
    if "valid_time" in da.coords:
        return "valid_time"
    if "time" in da.coords and "step" in da.coords:
        return "time+step"
    if "time" in da.coords:
        return "time"
    return None


def field_times(da: xr.DataArray, dims: tuple[str, ...], where: str) -> FieldTimes:
    """Valid time, issue time and lead of every row when `dims` are stacked in order."""
    template = xr.DataArray(np.zeros([da.sizes[d] for d in dims]), dims=dims)

    def rows(coord: xr.DataArray) -> np.ndarray:
        return xr.broadcast(coord, template)[0].transpose(*dims).values.reshape(-1)

    name = valid_time_name(da)
    if name is None:
        raise WxriskError(f"{where}: no time coordinate (time, valid_time or time + step)")
    valid_coord = da.coords["time"] + da.coords["step"] if name == "time+step" else da.coords[name]
    valid = rows(valid_coord)
    if not np.issubdtype(valid.dtype, np.datetime64):
        raise WxriskError(f"{where}: time coordinate is not a date-time (units not understood)")
    valid = valid.astype("datetime64[ns]")
    if "step" in da.coords and "time" in da.coords:
        issued = rows(da.coords["time"]).astype("datetime64[ns]")
    elif "forecast_reference_time" in da.coords:
        issued = rows(da.coords["forecast_reference_time"]).astype("datetime64[ns]")
    else:
        issued = np.full(valid.shape, np.datetime64("NaT", "ns"))
    lead_h = (valid - issued) / np.timedelta64(1, "h")
    return FieldTimes(valid=valid, issued=issued, lead_h=lead_h.astype(np.float64))


def iter_window_chunks(da: xr.DataArray, dims: tuple[str, ...], lat_dim: str, lon_dim: str,
                       window: tuple[int, int, int, int]) -> Iterator[np.ndarray]:
    """The field's window as float arrays (rows, wy, wx), rows in `field_times` order, in chunks."""
    y0, y1, x0, x1 = window
    windowed = da.isel({lat_dim: slice(y0, y1), lon_dim: slice(x0, x1)}).transpose(*dims, lat_dim, lon_dim)
    wy, wx = y1 - y0, x1 - x0
    if not dims:
        yield np.asarray(windowed.values, dtype=np.float32).reshape(1, wy, wx)
        return
    first, rest = dims[0], dims[1:]
    per_first = max(1, int(np.prod([da.sizes[d] for d in rest], dtype=np.int64)) * wy * wx)
    step = max(1, CHUNK_CELLS // per_first)
    for start in range(0, da.sizes[first], step):
        chunk = windowed.isel({first: slice(start, start + step)}).values
        yield np.asarray(chunk, dtype=np.float32).reshape(-1, wy, wx)
