from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from wxrisk.config import WxriskError
from wxrisk.model.dataset import (
    FrameFeatures,
    chunks,
    draw_sample,
    incident_table,
    label_frame,
    nearest_segments,
    winter_name,
    winter_of,
)
from wxrisk.store import connect


def _features(hours, segments=("A", "B")):
    times = pd.date_range("2024-01-10 06:00", periods=hours, freq="h")
    return pd.DataFrame({
        "segment_id": np.tile(list(segments), hours),
        "valid_time": np.repeat(times.to_numpy(), len(segments)),
        "x": np.arange(hours * len(segments), dtype="float32"),
    })


def _incident(con, incident_id, occurred_at, segment_id, surface=None, weather=None, lon=None, lat=None):
    con.execute("INSERT INTO incidents (incident_id, occurred_at, segment_id, surface, weather, lon, lat, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'test')", [incident_id, occurred_at, segment_id, surface, weather, lon, lat])


def test_label_is_the_hour_ending_at_valid_time_and_ice_is_its_own_label(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    _incident(con, "i1", datetime(2024, 1, 10, 7, 30), "A", surface="ice")   # hour ending 08:00
    _incident(con, "i2", datetime(2024, 1, 10, 7, 45), "A", surface="dry")   # same segment-hour: one label
    _incident(con, "i3", datetime(2024, 1, 10, 8, 0), "B", weather="freezing_rain")  # on the hour: ending 09:00
    _incident(con, "i4", datetime(2024, 1, 10, 7, 10), None, surface="snow")  # unmatched: no segment label
    _incident(con, "i5", datetime(2024, 1, 10, 6, 20), "B", surface="wet", weather="rain")
    incidents = incident_table(con, datetime(2024, 1, 10, 6), datetime(2024, 1, 10, 10))
    assert list(incidents["ice"]) == [False, True, False, True, True]      # by valid_time, then id
    labelled = label_frame(_features(4), incidents)
    positives = labelled.loc[labelled["label"] == 1, ["segment_id", "valid_time", "ice_label"]]
    assert [tuple(map(str, r)) for r in positives.to_numpy()] == [
        ("B", "2024-01-10 07:00:00", "0"), ("A", "2024-01-10 08:00:00", "1"), ("B", "2024-01-10 09:00:00", "1")]
    assert len(labelled) == 8


def test_an_unmatched_incident_takes_the_nearest_segment_within_reach(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    con.execute("INSERT INTO segments (segment_id, source, km_from, km_to, length_km, lon, lat, path_json) VALUES "
                "('near', 't', 0, 1, 1, 116.00, 40.00, '[]'), ('far', 't', 0, 1, 1, 117.00, 40.00, '[]')")
    _incident(con, "mine", datetime(2024, 1, 10, 7), "far", lon=116.0, lat=40.0)
    _incident(con, "close", datetime(2024, 1, 10, 7), None, lon=116.05, lat=40.02)
    _incident(con, "away", datetime(2024, 1, 10, 7), None, lon=110.0, lat=40.0)   # 500 km from any segment
    incidents = incident_table(con, datetime(2024, 1, 10), datetime(2024, 1, 11))
    assert list(nearest_segments(con, incidents).fillna("-")) == ["-", "near", "far"]


def test_chunks_stay_within_a_winter_and_skip_gaps():
    hours = pd.DatetimeIndex(np.concatenate([pd.date_range("2023-06-30 20:00", periods=10, freq="h"),
                                             pd.date_range("2023-12-01", periods=800, freq="h")]))
    spans = list(chunks(hours, chunk_hours=336))
    assert spans[0] == (datetime(2023, 6, 30, 20), datetime(2023, 7, 1))          # 1 July starts a winter
    assert spans[1] == (datetime(2023, 7, 1), datetime(2023, 7, 1, 6))
    assert [end - start for start, end in spans[2:]] == [pd.Timedelta(hours=h) for h in (336, 336, 128)]
    assert winter_of(pd.Series([pd.Timestamp("2023-06-30"), pd.Timestamp("2023-07-01")])).tolist() == [2023, 2024]
    assert winter_name(2024) == "2023/24"


def test_thinned_sample_keeps_every_incident_and_weighs_back_to_every_hour(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    segments = [f"S{i:04d}" for i in range(1000)]
    con.register("seg", pd.DataFrame({"segment_id": segments}))
    con.execute("INSERT INTO segments (segment_id, source, km_from, km_to, length_km, lon, lat, path_json) "
                "SELECT segment_id, 't', 0, 1, 1, 116.0, 40.0, '[]' FROM seg")
    times = pd.date_range("2024-01-01", periods=400, freq="h")
    features = pd.DataFrame({"segment_id": np.repeat(segments, len(times)), "valid_time": np.tile(times, 1000),
                             "x": np.float32(1.0)})
    rng = np.random.default_rng(4)
    hit = features.sample(60, random_state=1)
    for k, (segment, hour) in enumerate(zip(hit["segment_id"], hit["valid_time"], strict=True)):
        _incident(con, f"i{k}", hour - pd.Timedelta(minutes=int(rng.integers(1, 59))), segment)
    sample = draw_sample(con, FrameFeatures(features), pd.DatetimeIndex(times), np.array(segments, dtype=object),
                         target_rows=20_000, seed=7, progress=lambda _: None)
    assert sample.rows["label"].sum() == 60 and len(sample.incidents) == 60
    assert sample.rows["weight"].sum() == pytest.approx(len(features))
    assert 15_000 < len(sample.rows) < 25_000
    assert sample.hours["incidents"].sum() == 60 and len(sample.hours) == 400
    with pytest.raises(WxriskError, match="no analysed hours"):
        draw_sample(con, FrameFeatures(features), pd.DatetimeIndex([]), np.array(segments, dtype=object), 100, 7,
                    lambda _: None)
