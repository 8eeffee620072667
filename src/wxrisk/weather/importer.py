"""Import weather: grids sampled onto the road segments, station and point series stored once.

Per file: open (GRIB, NetCDF, Zarr), find the known variables (`weather.variables`), sample them
at the segment midpoints with cached weights (`weather.sampling`), convert units once
(`weather.units`), line them up on valid time and write `weather_hourly` through the import
ledger. Everything that can fail on bad input happens before anything is written. Station and
point files (Open-Meteo CSV, GHCN-Daily, mapped station CSV) go to `weather.stations` instead.

Window key: `weather:<kind>:<issued or ->:<first valid>/<last valid>:<columns>`. A newer file with
the same kind, issue time, valid range and variables replaces the older one's rows; files with
other variables for the same hours (ERA5 `t2m` and `tp` downloaded apart) are kept side by side
and combined variable by variable when read (`wxrisk.features.build`, the one weather rule).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import xarray as xr

from wxrisk.config import Settings, WxriskError
from wxrisk.incidents.coverage import weather_overlap_notice
from wxrisk.store.ledger import ImportEntry, ImportResult, current_import, file_sha256, run_import
from wxrisk.vocab import frame_registered, utc_naive_stamp
from wxrisk.weather import grid
from wxrisk.weather.ghcn import looks_like_ghcn, read_ghcn_daily
from wxrisk.weather.openmeteo_csv import looks_like_openmeteo, read_openmeteo_csv
from wxrisk.weather.sampling import SamplePoints, apply_weights, cached_weights
from wxrisk.weather.series import first_line
from wxrisk.weather.station_csv import read_station_csv
from wxrisk.weather.stations import import_series
from wxrisk.weather.units import (
    hourly_from_accumulated_since_issue,
    hourly_from_interval_amount,
    ptype_from_ncep_flags,
    unit_scale_offset,
)
from wxrisk.weather.variables import (
    CANONICAL_COLUMNS,
    GRID_VARIABLES,
    NCEP_FLAG_PTYPE,
    NEAREST_QUANTITIES,
)

KIND = "weather"
ROWS_PER_INSERT = 1_000_000
UNCHANGED_WINDOW = "weather:unchanged"
_VARIABLES = {variable.key: variable for variable in GRID_VARIABLES}


@dataclass(frozen=True)
class SampledVariable:
    """One source variable at the points, in canonical units: values (T, points), its times."""

    name: str
    values: np.ndarray
    times: grid.FieldTimes
    outside: int


@dataclass(frozen=True)
class SampledGrid:
    """A file's weather at the points: canonical columns (hours, points) on sorted valid times."""

    valid: np.ndarray
    columns: dict[str, np.ndarray]
    issued_at: datetime | None
    details: dict


def load_segment_points(con: duckdb.DuckDBPyConnection) -> SamplePoints:
    """The segments' midpoints (lon, lat [degrees]) ordered by id."""
    frame = con.execute("SELECT segment_id, lon, lat FROM segments ORDER BY segment_id").df()
    if frame.empty:
        raise WxriskError("segments: none in the database; import roads before weather")
    return SamplePoints(ids=frame["segment_id"].to_numpy(dtype=object),
                        lon=frame["lon"].to_numpy(dtype=np.float64),
                        lat=frame["lat"].to_numpy(dtype=np.float64))


def path_sha256(path: Path) -> str:
    """sha256 of a file, or of a directory's (Zarr store's) relative file names and bytes."""
    if not path.is_dir():
        return file_sha256(path)
    digest = hashlib.sha256()
    for member in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(member.relative_to(path)).encode())
        digest.update(bytes.fromhex(file_sha256(member)))
    return digest.hexdigest()


def parse_issued(value: str | datetime | None, where: str) -> datetime | None:
    """An issue time as naive UTC; naive input is taken as UTC."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise WxriskError(f"{where}: issue time {value!r} is not an ISO 8601 date-time") from exc
    return utc_naive_stamp(stamp).to_pydatetime()


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Turn any failure of the file readers into one WxriskError line naming the file."""
    try:
        yield
    except WxriskError:
        raise
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise WxriskError(f"{path}: cannot read as a weather grid ({type(exc).__name__}: {reason})") from exc


def sample_variable(path: Path, key: str, da: xr.DataArray, points: SamplePoints) -> SampledVariable:
    """Sample one grid variable at the points and convert it to its canonical unit."""
    variable = _VARIABLES[key]
    where = f"{path}: variable {da.name}"
    lat_dim, lon_dim = grid.horizontal_dims(da, where)
    axes = grid.grid_axes(da, lat_dim, lon_dim, where)
    da, dims = grid.time_dims(da, lat_dim, lon_dim, where)
    times = grid.field_times(da, dims, where)
    method = "nearest" if variable.quantity in NEAREST_QUANTITIES else "bilinear"
    weights = cached_weights(axes, points, method)
    if weights.outside_count == points.ids.size:
        raise WxriskError(f"{where}: the grid covers none of the {points.ids.size} segments")
    with reading(path):
        chunks = [apply_weights(weights, chunk) for chunk in
                  grid.iter_window_chunks(da, dims, lat_dim, lon_dim, weights.window)]
    values = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    scale, offset = unit_scale_offset(variable.quantity, da.attrs.get("units"), where)
    values *= np.float32(scale)
    values += np.float32(offset)
    if variable.quantity == "accumulation":
        since_issue = grid.step_type(da) == "accum" and not np.isnat(times.issued).any()
        values = (hourly_from_accumulated_since_issue(values, times.issued, times.lead_h) if since_issue
                  else hourly_from_interval_amount(values, times.valid))
    return SampledVariable(key, values.astype(np.float32, copy=False), times, weights.outside_count)


def latest_per_valid_time(times: grid.FieldTimes) -> tuple[np.ndarray, np.ndarray]:
    """(row indices, valid times): one row per valid time, from the latest issue (shortest lead)."""
    issued_s = np.where(np.isnat(times.issued), 0, times.issued.astype("datetime64[s]").astype(np.int64))
    order = np.lexsort((-issued_s, times.valid))
    sorted_valid = times.valid[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = sorted_valid[1:] != sorted_valid[:-1]
    return order[first], sorted_valid[first]


def align_on_valid_time(sampled: dict[str, SampledVariable]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """All variables on the union of their valid times (sorted); NaN where a variable has no row.

    A variable whose rows already are those times in order is passed on as it is (no copy); the
    others are laid out point-major (each point's hours contiguous), as `apply_weights` returns them.
    """
    picked = {key: latest_per_valid_time(var.times) for key, var in sampled.items()}
    valid = np.unique(np.concatenate([times for _, times in picked.values()]))
    aligned = {}
    for key, (rows, times) in picked.items():
        if np.array_equal(rows, np.arange(valid.size)):
            aligned[key] = sampled[key].values
            continue
        values = np.full((valid.size, sampled[key].values.shape[1]), np.nan, dtype=np.float32, order="F")
        values[np.searchsorted(valid, times)] = sampled[key].values[rows]
        aligned[key] = values
    return valid, aligned


def canonical_columns(aligned: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The `weather_hourly` columns from the aligned variables, and which source fed each."""
    columns: dict[str, np.ndarray] = {}
    sources: dict[str, str] = {}
    for variable in GRID_VARIABLES:
        if variable.key not in aligned or variable.column in columns:
            continue
        if variable.quantity == "flag":
            flags = {key: aligned[key] for key in NCEP_FLAG_PTYPE if key in aligned}
            columns["ptype"] = ptype_from_ncep_flags(flags)
            sources["ptype"] = "+".join(flags)
        elif variable.quantity == "wind_component":
            if "u10" in aligned and "v10" in aligned:
                columns["wind_ms"] = np.hypot(aligned["u10"], aligned["v10"])
                sources["wind_ms"] = "u10+v10"
        else:
            columns[variable.column] = aligned[variable.key]
            sources[variable.column] = variable.key
    return columns, sources


def resolve_issue_time(path: Path, kind: str, sampled: dict[str, SampledVariable],
                       attrs_issued: str | None, issued: datetime | None) -> datetime | None:
    """The forecast's issue time: from the file (GRIB `time`, `issued_at` attribute) or `issued`."""
    if kind == "analysis":
        return None
    from_coords = np.unique(np.concatenate([v.times.issued[~np.isnat(v.times.issued)] for v in sampled.values()]))
    if from_coords.size > 1:
        raise WxriskError(f"{path}: {from_coords.size} forecast issue times in one file; import one run per file")
    from_file = (pd.Timestamp(from_coords[0]).to_pydatetime() if from_coords.size
                 else parse_issued(attrs_issued, f"{path}: attribute issued_at"))
    if from_file is not None and issued is not None and from_file != issued:
        raise WxriskError(f"{path}: issued {issued:%Y-%m-%dT%H:%M} given, but the file says {from_file:%Y-%m-%dT%H:%M}")
    if from_file is None and issued is None:
        raise WxriskError(f"{path}: forecast without an issue time; give --issued")
    return from_file or issued


def read_weather(path: str | Path, points: SamplePoints, kind: str = "analysis",
                 issued: str | datetime | None = None, counted: bool = False) -> SampledGrid:
    """Read a grid file and sample it at the points; raises WxriskError, writes nothing.

    counted : a fresh download whose GRIB messages the fetch counted complete (not counted again)
    """
    path = Path(path)
    if kind not in ("analysis", "forecast"):
        raise WxriskError(f"{path}: kind must be analysis or forecast, not {kind!r}")
    issued_at = parse_issued(issued, f"{path}: --issued")
    if kind == "analysis" and issued_at is not None:
        raise WxriskError(f"{path}: an issue time applies to forecasts only (kind is analysis)")
    if not path.exists():
        raise WxriskError(f"{path}: no such file")
    with reading(path):
        datasets = grid.open_datasets(path, counted)
    try:
        with reading(path):
            found = grid.find_variables(datasets)
        if not found:
            raise WxriskError(f"{path}: none of the known weather variables "
                              f"(found {', '.join(grid.all_variable_names(datasets)) or 'no variables'})")
        sampled = {key: sample_variable(path, key, da, points) for key, da in found.items()}
        attrs_issued = next((ds.attrs["issued_at"] for ds in datasets if "issued_at" in ds.attrs), None)
        synthetic = grid.is_synthetic(datasets)
        file_format = "zarr" if path.is_dir() else "grib" if grid.is_grib(path) else "netcdf"
    finally:
        for ds in datasets:
            ds.close()
    outside = max(var.outside for var in sampled.values())
    issued_at = resolve_issue_time(path, kind, sampled, attrs_issued, issued_at)
    valid, aligned = align_on_valid_time(sampled)
    columns, sources = canonical_columns(aligned)
    details = {
        "format": file_format,
        "kind": kind,
        "issued_at": issued_at.isoformat() if issued_at else None,
        "valid_from": str(valid[0].astype("datetime64[s]")),
        "valid_to": str(valid[-1].astype("datetime64[s]")),
        "hours": int(valid.size),
        "variables": sources,
        "missing_variables": [c for c in CANONICAL_COLUMNS if c not in columns],
        "segments": int(points.ids.size),
        "segments_outside_grid": int(outside),
        "synthetic": synthetic,
    }
    return SampledGrid(valid=valid, columns=columns, issued_at=issued_at, details=details)


def window_key(sampled: SampledGrid) -> str:
    details = sampled.details
    issued = details["issued_at"] or "-"
    return (f"weather:{details['kind']}:{issued}:{details['valid_from']}/{details['valid_to']}:"
            f"{'+'.join(sorted(sampled.columns))}")


def arrow_batch(sampled: SampledGrid, segment_ids: pa.Array, first: int, stop: int) -> pa.Table:
    """Rows of segments [first, stop) x all hours, segment by segment, as an Arrow table (NaN -> NULL).

    Segment ids are dictionary-encoded (no string per row); the value columns are views of the
    point-major sampled arrays where they are laid out so.
    """
    hours = sampled.valid.size
    rows = (stop - first) * hours
    arrays = {
        "segment_id": pa.DictionaryArray.from_arrays(
            np.repeat(np.arange(first, stop, dtype=np.int32), hours), segment_ids),
        "valid_time": pa.array(np.tile(sampled.valid.astype("datetime64[us]"), stop - first)),
    }
    for column in CANONICAL_COLUMNS:
        if column not in sampled.columns:
            arrays[column] = pa.nulls(rows, pa.float32())
            continue
        values = np.ascontiguousarray(sampled.columns[column][:, first:stop].T).reshape(-1)
        missing = np.isnan(values)
        mask = missing if missing.any() else None
        if column == "ptype":
            arrays[column] = pa.array(np.nan_to_num(values).astype(np.int16), mask=mask)
        else:
            arrays[column] = pa.array(values.astype(np.float32, copy=False), mask=mask)
    return pa.table(arrays)


INSERT_SQL = (
    "INSERT INTO weather_hourly (segment_id, valid_time, kind, issued_at, " + ", ".join(CANONICAL_COLUMNS)
    + ", source, import_id) SELECT segment_id, valid_time, ?, ?::TIMESTAMP, "
    + ", ".join(CANONICAL_COLUMNS) + ", ?, ? FROM wx_batch"
)


def write_sampled(entry: ImportEntry, sampled: SampledGrid, points: SamplePoints) -> None:
    """Replace the window's rows with the sampled segment-hours, in batches of segments.

    Rows go in segment by segment (each segment's hours together): that is how the sampled arrays
    are laid out (no transposing copy), and DuckDB compresses runs of one segment id cheaply.
    """
    entry.replace_rows("weather_hourly")
    segment_ids = pa.array(points.ids.astype(str))
    segments_per_batch = max(1, ROWS_PER_INSERT // sampled.valid.size)
    kind = sampled.details["kind"]
    for first in range(0, len(segment_ids), segments_per_batch):
        batch = arrow_batch(sampled, segment_ids, first, min(first + segments_per_batch, len(segment_ids)))
        with frame_registered(entry.con, "wx_batch", batch):
            entry.con.execute(INSERT_SQL, [kind, sampled.issued_at, entry.window_key, entry.import_id])
    entry.rows_read = entry.rows_kept = int(sampled.valid.size * len(segment_ids))
    entry.details = sampled.details


def import_weather(con: duckdb.DuckDBPyConnection, settings: Settings, paths, kind: str = "analysis",
                   issued: str | datetime | None = None, station: str | None = None,
                   station_list: str | Path | None = None, mapping: str | Path | None = None,
                   tz: str | None = None, max_km: float | None = None, counted: bool = False) -> list[ImportResult]:
    """Import weather files (one path or several); one result per file.

    `counted`: the files are fresh downloads whose GRIB messages the fetch already counted complete.

    Grids (GRIB, NetCDF, Zarr) are sampled onto the segments. Station and point files (Open-Meteo
    CSV, GHCN-Daily `.dly`, a CSV with a station `mapping`) are stored once per station and
    served to the segments by nearest station (`weather.stations`); `station`, `station_list`,
    `tz` and `max_km` apply to them only. Each file is read whole before anything is written;
    the same bytes (and options) again give `status="unchanged"`.
    """
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    station_options = {"station": station, "station_list": station_list, "mapping": mapping, "tz": tz,
                       "max_km": max_km}
    results = []
    points = None
    for path in paths:
        path = Path(path)
        if station_format(path, mapping) is not None:
            result = import_station_file(con, settings, path, kind, issued, **station_options)
            if kind == "analysis" and result.status != "unchanged" and "valid_from" in result.details and (
                    notice := weather_overlap_notice(con, result.details["valid_from"], result.details["valid_to"])):
                result.details.setdefault("warnings", []).append(notice)
            results.append(result)
            continue
        if given := [f"--{k.replace('_', '-')}" for k, v in station_options.items() if v is not None]:
            raise WxriskError(f"{path}: {', '.join(given)} apply to station and point files, not to a grid")
        points = points or load_segment_points(con)
        file_hash = path_sha256(path) if path.exists() else None
        if file_hash is not None and already_imported(con, file_hash):
            # The ledger answers `unchanged` for known bytes before it uses the window key.
            results.append(run_import(con, KIND, path, UNCHANGED_WINDOW, write_nothing, file_hash=file_hash))
            continue
        sampled = read_weather(path, points, kind, issued, counted)
        if kind == "analysis" and (notice := weather_overlap_notice(con, sampled.details["valid_from"],
                                                                    sampled.details["valid_to"])):
            sampled.details["warnings"] = [notice]
        results.append(run_import(con, KIND, path, window_key(sampled),
                                  lambda entry, sampled=sampled, points=points: write_sampled(entry, sampled, points),
                                  file_hash=file_hash))
    return results


def station_format(path: Path, mapping) -> str | None:
    """`station-csv`, `ghcn-daily` or `open-meteo-csv` when `path` is a station/point file; None for grids."""
    if mapping is not None:
        return "station-csv"
    if not path.is_file():
        return None
    if looks_like_ghcn(path):
        return "ghcn-daily"
    if path.name.lower().endswith((".csv", ".txt", ".csv.gz", ".txt.gz")) or looks_like_openmeteo(path):
        return "open-meteo-csv"
    return None


def import_station_file(con: duckdb.DuckDBPyConnection, settings: Settings, path: Path, kind: str, issued,
                        station=None, station_list=None, mapping=None, tz=None, max_km=None) -> ImportResult:
    """Read one station/point file whole, then store it once per station through the ledger."""
    if kind != "analysis" or issued is not None:
        raise WxriskError(f"{path}: station and point series are imported as analysis (observed or "
                          "reanalysed weather), without --issued")
    if con.execute("SELECT count(*) FROM segments").fetchone()[0] == 0:
        raise WxriskError("segments: none in the database; import roads before weather")
    fmt = station_format(path, mapping)
    if station_list is not None and fmt != "ghcn-daily":
        raise WxriskError(f"{path}: --station-list is for GHCN-Daily files")
    if fmt == "station-csv":
        series = read_station_csv(path, Path(mapping), station, tz)
    elif fmt == "ghcn-daily":
        if tz is not None:
            raise WxriskError(f"{path}: --tz does not apply to GHCN-Daily (its days are the station's own)")
        series = read_ghcn_daily(path, station, Path(station_list) if station_list else None)
    else:
        if not looks_like_openmeteo(path):
            semicolons = ";" in first_line(path) and "," not in first_line(path)
            raise WxriskError(f"{path}: not an Open-Meteo CSV (its first line is neither Open-Meteo's metadata "
                              "header nor `time,...`" + ("; its fields are separated by ';', as a spreadsheet "
                                                         "re-saves it: use the file as downloaded" if semicolons else "")
                              + "); for another station CSV give --mapping")
        series = read_openmeteo_csv(path, station, tz)
    return import_series(con, path, series, settings.station_reach_km if max_km is None else max_km)


def already_imported(con: duckdb.DuckDBPyConnection, file_hash: str) -> bool:
    """True if these bytes are their source's current import (so reading and sampling them again is skipped)."""
    return current_import(con, KIND, file_hash) is not None


def write_nothing(entry: ImportEntry) -> None:
    raise RuntimeError(f"{entry.path}: already imported, nothing to write")
