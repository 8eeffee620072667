"""Importers fed garbage always fail with one clear line and write nothing (Hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wxrisk.config import Settings, WxriskError
from wxrisk.store import connect
from wxrisk.weather.grid import count_grib_messages

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
WRITTEN = ("segments", "incidents", "weather_hourly", "import_ledger", "quarantine")
# derandomize: the same examples on every run, so `make test` cannot pass once and fail the next time
FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
ERA5 = REAL / "era5-2mt-2019-03-uk.grib"
# The ERA5 file's layout, checked by `test_the_era5_file_layout`: 744 hourly GRIB1 messages of
# 3,342 bytes, each followed by 18 zero bytes (ECMWF pads messages to a multiple of 120 bytes).
ERA5_MESSAGES, ERA5_LENGTH, ERA5_STRIDE = 744, 3342, 3360


def _counts(con) -> list[int]:
    return [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in WRITTEN]


def _importers():
    from wxrisk.incidents.importer import import_incidents
    from wxrisk.roads.importer import import_roads
    from wxrisk.weather.importer import import_weather

    return {
        ".geojson": lambda con, s, p: import_roads(con, s, p),
        ".csv": lambda con, s, p: import_incidents(con, s, p),
        ".nc": lambda con, s, p: import_weather(con, s, [p]),
        ".grib": lambda con, s, p: import_weather(con, s, [p]),
    }


@pytest.fixture
def workspace(tmp_path):
    settings_ = replace(Settings(), db_path=tmp_path / "w.duckdb", data_dir=tmp_path)
    con = connect(settings_.db_path)
    con.execute("INSERT INTO segments (segment_id, source, km_from, km_to, length_km, lon, lat, path_json) "
                "VALUES ('s1', 'roads:x', 0, 1, 1, -1.55, 53.8, '[[-1.555, 53.8], [-1.545, 53.8]]')")
    return con, settings_, tmp_path


def _assert_fails_cleanly(con, settings_, path: Path) -> None:
    before = _counts(con)
    with pytest.raises(WxriskError) as failure:
        _importers()[path.suffix](con, settings_, path)
    message = str(failure.value)
    assert "\n" not in message and path.name in message
    assert _counts(con) == before


@FUZZ
@given(blob=st.binary(min_size=0, max_size=2000), suffix=st.sampled_from([".geojson", ".nc", ".grib"]))
def test_random_bytes_fail_cleanly(workspace, blob, suffix):
    con, settings_, tmp = workspace
    path = tmp / f"random{suffix}"
    path.write_bytes(blob)
    _assert_fails_cleanly(con, settings_, path)


def test_the_era5_file_layout():
    data = ERA5.read_bytes()
    assert len(data) == ERA5_MESSAGES * ERA5_STRIDE
    for k in range(ERA5_MESSAGES):
        start = k * ERA5_STRIDE
        assert data[start:start + 4] == b"GRIB" and int.from_bytes(data[start + 4:start + 7], "big") == ERA5_LENGTH
        assert data[start + ERA5_LENGTH - 4:start + ERA5_LENGTH] == b"7777"
        assert data[start + ERA5_LENGTH:start + ERA5_STRIDE] == bytes(ERA5_STRIDE - ERA5_LENGTH)


def era5_cut_is_whole(cut: int) -> bool:
    """A cut leaves only whole, fully padded messages (or exactly one unpadded message, a valid file)."""
    return cut % ERA5_STRIDE == 0 or cut == ERA5_LENGTH


@settings(max_examples=300, deadline=None, derandomize=True)
@given(cut=st.integers(min_value=1, max_value=ERA5_MESSAGES * ERA5_STRIDE - 1))
@example(cut=ERA5_STRIDE - 1)                       # one byte short of a message boundary (in the padding)
@example(cut=ERA5_STRIDE + ERA5_LENGTH - 1)          # one byte short of a message's end marker
@example(cut=ERA5_STRIDE + ERA5_LENGTH)              # a message whole, its padding missing
@example(cut=2 * ERA5_STRIDE + 10)                   # inside the next message's header
@example(cut=100 * ERA5_STRIDE)                      # exactly at a boundary: a valid shorter file
def test_every_grib_cut_is_refused_unless_it_falls_between_whole_messages(cut):
    data = ERA5.read_bytes()[:cut]
    if era5_cut_is_whole(cut):
        assert count_grib_messages(data, "cut") == max(1, cut // ERA5_STRIDE)
    else:
        with pytest.raises(WxriskError, match="cut short"):
            count_grib_messages(data, "cut")


@pytest.mark.parametrize("cut", [ERA5_STRIDE - 1, 2 * ERA5_STRIDE + ERA5_LENGTH - 1, 2 * ERA5_STRIDE + ERA5_LENGTH,
                                 2 * ERA5_STRIDE + 10, 1_234_567])
def test_a_cut_grib_file_is_refused_by_the_weather_import(workspace, cut):
    con, settings_, tmp = workspace
    path = tmp / "truncated.grib"
    path.write_bytes(ERA5.read_bytes()[:cut])
    _assert_fails_cleanly(con, settings_, path)


def test_a_grib_file_cut_between_whole_messages_imports_those_hours(workspace):
    con, settings_, tmp = workspace
    path = tmp / "first-100-hours.grib"
    path.write_bytes(ERA5.read_bytes()[:100 * ERA5_STRIDE])
    from wxrisk.weather.importer import import_weather

    (result,) = import_weather(con, settings_, [path])
    assert (result.details["hours"], result.rows_kept) == (100, 100)


@FUZZ
@given(fraction=st.floats(min_value=0.05, max_value=0.95))
def test_truncated_netcdf_fails_cleanly(workspace, fraction):
    import numpy as np
    import xarray as xr

    con, settings_, tmp = workspace
    whole_path = tmp / "whole.nc"
    if not whole_path.exists():
        grid = xr.Dataset(
            {"t2m": (("time", "latitude", "longitude"), np.full((24, 5, 5), 271.0, dtype="float32"), {"units": "K"})},
            coords={"time": np.arange("2019-03-01T00", "2019-03-02T00", dtype="datetime64[h]").astype("datetime64[ns]"),
                    "latitude": np.linspace(54, 53, 5), "longitude": np.linspace(-2, -1, 5)},
        )
        grid.to_netcdf(whole_path, engine="scipy")
    whole = whole_path.read_bytes()
    path = tmp / "truncated.nc"
    path.write_bytes(whole[: int(len(whole) * fraction)])
    _assert_fails_cleanly(con, settings_, path)


@FUZZ
@given(lines=st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=60), max_size=8))
def test_malformed_csv_never_crashes_nor_loses_rows(workspace, lines):
    """A CSV with the required header and garbage rows: rejected whole, or every row accounted for."""
    con, settings_, tmp = workspace
    path = tmp / "incidents.csv"
    path.write_text("incident_id,occurred_at,lat,lon\n" + "\n".join(lines) + "\n", encoding="utf-8")
    from wxrisk.incidents.importer import import_incidents

    before = _counts(con)
    try:
        result = import_incidents(con, settings_, path)
    except WxriskError as failure:
        assert "\n" not in str(failure) and path.name in str(failure)
        assert _counts(con) == before
        return
    if result.status == "unchanged":
        return
    incidents, quarantined = con.execute(
        "SELECT (SELECT count(*) FROM incidents WHERE import_id = $1), (SELECT count(*) FROM quarantine WHERE import_id = $1)",
        [result.import_id]).fetchone()
    assert result.rows_kept == incidents and result.rows_quarantined == quarantined
    assert result.rows_read >= result.rows_kept + result.rows_quarantined
