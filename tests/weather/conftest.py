"""Weather test fixtures: a real DuckDB with a few segments, and NetCDF grid writers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from wxrisk.store import connect
from wxrisk.weather.sampling import clear_weights_cache


def insert_segments(con, points: dict[str, tuple[float, float]]) -> None:
    """Segments rows (id -> (lon, lat) midpoint [degrees]) with the required columns filled."""
    con.executemany(
        "INSERT INTO segments (segment_id, source, km_from, km_to, length_km, lon, lat, path_json) "
        "VALUES (?, 'test', 0, 1, 1, ?, ?, '[]')",
        [(segment_id, lon, lat) for segment_id, (lon, lat) in points.items()],
    )


@pytest.fixture
def db(tmp_path):
    con = connect(tmp_path / "wx.duckdb")
    yield con
    con.close()


@pytest.fixture(scope="session")
def add_segments():
    return insert_segments


@pytest.fixture(autouse=True)
def fresh_weights_cache():
    clear_weights_cache()


def grid_dataset(values: dict[str, tuple[np.ndarray, str]], lat: np.ndarray, lon: np.ndarray,
                 times: pd.DatetimeIndex, attrs: dict | None = None) -> xr.Dataset:
    """A CF-style (time, lat, lon) dataset: name -> (array, units)."""
    data_vars = {name: (("time", "latitude", "longitude"), array.astype(np.float32), {"units": units})
                 for name, (array, units) in values.items()}
    coords = {"time": times, "latitude": ("latitude", lat, {"units": "degrees_north"}),
              "longitude": ("longitude", lon, {"units": "degrees_east"})}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs or {})


@pytest.fixture
def make_grid():
    return grid_dataset
