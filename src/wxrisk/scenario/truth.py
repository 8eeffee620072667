"""The known hazard of a scenario world: `truth.parquet`, one row per imported segment and hour.

Columns (docs/demo-world.md, "The known hazard"):
  segment_id             text, exactly as `wxrisk import roads` assigns it to the world's roads file
  valid_time             timestamp, naive UTC, the hour ending at valid_time (like the labels)
  expected_incidents     expected number of incidents of any kind in that segment-hour [count]
  expected_ice_incidents the expected number of those the labels call ice/snow [count]

Every history window of the world is written (training winters and the held-out one), one row
group per window, so rolling-origin checks can use any winter. Same world, same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from wxrisk.scenario.weather import datetimes_of

TRUTH_SCHEMA = pa.schema([
    ("segment_id", pa.dictionary(pa.int32(), pa.string())),
    ("valid_time", pa.timestamp("us")),
    ("expected_incidents", pa.float64()),
    ("expected_ice_incidents", pa.float64()),
])


class TruthWriter:
    """Writes the hazard of one world window by window into a Parquet file."""

    def __init__(self, path: Path, segment_ids: np.ndarray):
        self.path = Path(path)
        self.segment_ids = pa.array(np.asarray(segment_ids, dtype=str))
        self.writer = pq.ParquetWriter(self.path, TRUTH_SCHEMA, compression="zstd", write_statistics=True,
                                       use_dictionary=["segment_id", "valid_time"],
                                       column_encoding={"expected_incidents": "BYTE_STREAM_SPLIT",
                                                        "expected_ice_incidents": "BYTE_STREAM_SPLIT"})

    def add(self, hours: np.ndarray, expected: np.ndarray, expected_ice: np.ndarray) -> None:
        """One window: `hours` since EPOCH (UTC, hour ending), arrays (hours, segments) [count]."""
        n_hours, n_segments = expected.shape
        codes = pa.array(np.tile(np.arange(n_segments, dtype=np.int32), n_hours))
        times = np.repeat(datetimes_of(hours).astype("datetime64[us]"), n_segments)
        table = pa.table({
            "segment_id": pa.DictionaryArray.from_arrays(codes, self.segment_ids),
            "valid_time": pa.array(times, type=pa.timestamp("us")),
            "expected_incidents": pa.array(expected.reshape(-1).astype(np.float64)),
            "expected_ice_incidents": pa.array(expected_ice.reshape(-1).astype(np.float64)),
        }, schema=TRUTH_SCHEMA)
        self.writer.write_table(table, row_group_size=1 << 20)

    def close(self) -> Path:
        self.writer.close()
        return self.path
