from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from wxrisk.config import Settings, WxriskError
from wxrisk.model.dataset import (
    downsample_negatives,
    label_frame,
    split_by_winter,
    training_frame,
    winter_chunks,
)
from wxrisk.store import connect


def _features(hours, segments=("A", "B")):
    times = pd.date_range("2024-01-10 06:00", periods=hours, freq="h")
    return pd.DataFrame({
        "segment_id": np.tile(list(segments), hours),
        "valid_time": np.repeat(times.to_numpy(), len(segments)),
        "x": np.arange(hours * len(segments), dtype="float32"),
    })


def _incident(con, incident_id, occurred_at, segment_id, surface=None, weather=None):
    con.execute("INSERT INTO incidents (incident_id, occurred_at, segment_id, surface, weather, source) "
                "VALUES (?, ?, ?, ?, ?, 'test')", [incident_id, occurred_at, segment_id, surface, weather])


def test_label_is_the_hour_ending_at_valid_time(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    _incident(con, "i1", datetime(2024, 1, 10, 7, 30), "A")          # hour ending 08:00
    _incident(con, "i2", datetime(2024, 1, 10, 7, 45), "A")          # same segment-hour: still one label
    _incident(con, "i3", datetime(2024, 1, 10, 8, 0), "B")           # exactly on the hour: hour ending 09:00
    _incident(con, "i4", datetime(2024, 1, 10, 7, 10), None)         # unmatched: no segment, no label
    labelled = label_frame(con, _features(4))
    positives = labelled.loc[labelled["label"] == 1, ["segment_id", "valid_time"]]
    assert sorted(map(tuple, positives.astype(str).to_numpy())) == [
        ("A", "2024-01-10 08:00:00"), ("B", "2024-01-10 09:00:00")]
    assert len(labelled) == 8


def test_weather_related_only_keeps_icy_surface_or_snowy_weather(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    _incident(con, "ice", datetime(2024, 1, 10, 6, 30), "A", surface="ice")
    _incident(con, "fzra", datetime(2024, 1, 10, 6, 30), "B", surface="wet", weather="freezing_rain")
    _incident(con, "dry", datetime(2024, 1, 10, 7, 30), "A", surface="dry", weather="clear")
    labelled = label_frame(con, _features(4), weather_related_only=True)
    assert labelled["label"].sum() == 2
    assert label_frame(con, _features(4))["label"].sum() == 3


def test_downsampling_keeps_every_positive_and_restores_the_rate_by_weight():
    rng = np.random.default_rng(1)
    n = 200_000
    frame = pd.DataFrame({"segment_id": [f"s{i % 500}" for i in range(n)],
                          "valid_time": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) // 500, "h"),
                          "label": (rng.random(n) < 0.01).astype("int8")})
    thinned = downsample_negatives(frame, 0.05, seed=3)
    assert thinned["label"].sum() == frame["label"].sum()
    assert thinned.attrs["negative_rate"] == 0.05
    weighted_rate = thinned["label"].sum() / thinned["weight"].sum()
    assert weighted_rate == pytest.approx(frame["label"].mean(), rel=0.05)
    shuffled = downsample_negatives(frame.sample(frac=1.0, random_state=4), 0.05, seed=3)
    key = ["segment_id", "valid_time"]
    assert thinned.sort_values(key)[key].reset_index(drop=True).equals(
        shuffled.sort_values(key)[key].reset_index(drop=True))
    with pytest.raises(WxriskError, match="negative_rate"):
        downsample_negatives(frame, 0.0, seed=3)


def test_training_frame_from_a_prebuilt_feature_frame(tmp_path):
    con = connect(tmp_path / "x.duckdb")
    _incident(con, "i1", datetime(2024, 1, 10, 7, 30), "A")
    frame = training_frame(con, Settings(), datetime(2024, 1, 10, 7), datetime(2024, 1, 10, 9), _features(4), negative_rate=1.0)
    assert frame["valid_time"].min() == pd.Timestamp("2024-01-10 07:00")
    assert frame["valid_time"].max() == pd.Timestamp("2024-01-10 08:00")
    assert list(frame.columns) == ["segment_id", "valid_time", "x", "label", "weight"]
    assert frame["label"].sum() == 1


def _hours(*ranges):
    return pd.Series(np.concatenate([pd.date_range(a, b, freq="h").to_numpy() for a, b in ranges]))


def test_split_by_winter_trains_on_earlier_winters_and_tests_on_the_last():
    hours = _hours(("2022-12-01", "2023-02-28"), ("2023-12-01", "2024-02-28"), ("2024-12-01", "2025-02-28"))
    split = split_by_winter(hours, hours.iloc[::100])
    assert split.train_end == datetime(2023, 12, 1)
    assert split.valid_end == datetime(2024, 12, 1)
    assert "test on 2024/25" in split.how


def test_split_with_two_winters_cuts_the_second_at_half_its_incidents():
    hours = _hours(("2023-12-01", "2024-02-28"), ("2024-12-01", "2024-12-10 23:00"))
    events = pd.Series(pd.to_datetime(["2024-01-05 03:00", "2024-12-02 05:00", "2024-12-03 07:00",
                                       "2024-12-08 01:00", "2024-12-09 02:00"]))
    split = split_by_winter(hours, events)
    assert split.train_end == datetime(2024, 12, 1)
    assert split.valid_end == datetime(2024, 12, 8, 1)       # events 3 and 4 of the second winter are tested
    assert split.end == datetime(2024, 12, 11)


def test_split_with_one_winter_is_chronological_by_incidents():
    hours = _hours(("2024-12-01", "2024-12-10 23:00"))
    events = pd.Series(pd.date_range("2024-12-01 05:00", periods=10, freq="17h"))
    split = split_by_winter(hours, events)
    assert split.start < split.train_end < split.valid_end < split.end
    assert split.train_end == events[6] and split.valid_end == events[8]


def test_too_few_hours_or_incidents_is_a_clear_error():
    with pytest.raises(WxriskError, match="only 2 hour"):
        split_by_winter(_hours(("2024-12-01 00:00", "2024-12-01 01:00")), pd.Series(dtype="datetime64[us]"))
    with pytest.raises(WxriskError, match="only 1 hour"):
        split_by_winter(_hours(("2024-12-01", "2024-12-10")), pd.Series(pd.to_datetime(["2024-12-05"])))


def test_winter_chunks_cut_at_first_of_july():
    chunks = winter_chunks(datetime(2023, 1, 1), datetime(2024, 3, 1))
    assert chunks == [(datetime(2023, 1, 1), datetime(2023, 7, 1)), (datetime(2023, 7, 1), datetime(2024, 3, 1))]
