"""The known hazard (`truth.parquet`) lines up with what the real importers make of the world's files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wxrisk.config import Settings
from wxrisk.incidents.importer import import_incidents
from wxrisk.roads.importer import import_roads
from wxrisk.scenario import generate
from wxrisk.scenario.world import size_spec
from wxrisk.store import connect


@pytest.fixture(scope="module", params=["demo", "guizhou"])
def imported(request, tmp_path_factory):
    """A tiny world imported with the real roads and incidents importers; its truth as a frame."""
    root = tmp_path_factory.mktemp(f"truth-{request.param}")
    files = generate(root / "world", seed=2024, size="tiny", world=request.param)
    settings = Settings(db_path=root / "wxrisk.duckdb", data_dir=root)
    with connect(settings.db_path) as con:
        import_roads(con, settings, files.roads)
        import_incidents(con, settings, files.incidents)
        segments = con.execute("SELECT segment_id FROM segments").df()
        incidents = con.execute(
            "SELECT segment_id, date_trunc('hour', occurred_at) + INTERVAL 1 HOUR AS valid_time, surface, weather "
            "FROM incidents").df()
    return files, pd.read_parquet(files.truth), segments, incidents, request.param


def test_truth_segment_ids_are_the_imported_ones(imported):
    _, truth, segments, _, _ = imported
    assert set(truth["segment_id"].astype(str)) == set(segments["segment_id"])


def test_truth_covers_every_segment_hour_of_every_window_once(imported):
    files, truth, segments, _, world = imported
    hours = sum(w.end_h - w.start_h for w in size_spec("tiny", world).winters)
    assert len(truth) == hours * len(segments)
    assert not truth.duplicated(["segment_id", "valid_time"]).any()
    held_out = truth[(truth["valid_time"] >= files.holdout_winter[0]) & (truth["valid_time"] < files.holdout_winter[1])]
    assert held_out["valid_time"].nunique() == (files.holdout_winter[1] - files.holdout_winter[0]).total_seconds() / 3600
    assert str(truth["valid_time"].dtype) == "datetime64[us]"           # naive UTC


def test_ice_part_is_part_of_the_whole(imported):
    _, truth, _, _, _ = imported
    assert (truth["expected_ice_incidents"] >= 0).all()
    assert (truth["expected_ice_incidents"] <= truth["expected_incidents"] + 1e-12).all()
    assert (truth["expected_incidents"] > 0).all()       # traffic alone makes incidents possible everywhere


def test_every_imported_incident_falls_where_the_truth_expects_it(imported):
    # Each incident, matched by the real importer, sits on a segment-hour of the truth; the count of
    # incidents agrees with the expected number within Poisson noise.
    _, truth, _, incidents, _ = imported
    assert incidents["segment_id"].notna().all()
    keyed = truth.assign(segment_id=truth["segment_id"].astype(str)).set_index(["segment_id", "valid_time"])
    expected = keyed.loc[list(zip(incidents["segment_id"], incidents["valid_time"], strict=True)), "expected_incidents"]
    assert len(expected) == len(incidents)
    total = truth["expected_incidents"].sum()
    assert abs(len(incidents) - total) < 4 * np.sqrt(total)
    # incidents are drawn in proportion to the hazard: a Poisson draw picks a segment-hour as often as its expected
    # value, so the mean expected value over incidents is near sum(e^2) / sum(e), well above the plain average
    e = truth["expected_incidents"]
    size_biased = float((e**2).sum() / e.sum())
    assert size_biased > 1.3 * e.mean()
    assert abs(expected.mean() - size_biased) < 0.2 * size_biased
