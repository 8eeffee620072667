"""A scenario world's known hazard (`truth.parquet`, written beside every generated world).

One row per segment and hour of the world's history windows: `segment_id` (as `wxrisk import
roads` assigns it), `valid_time` (naive UTC, the hour ending then), `expected_incidents` and
`expected_ice_incidents` (expected numbers of incidents under the generating hazard). Incidents
are Poisson draws, so the hazard's probability of at least one is 1 - exp(-expected).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from wxrisk.config import WxriskError

TRUTH_COLUMNS = ("segment_id", "valid_time", "expected_incidents", "expected_ice_incidents")


def read_truth(path: Path | str, start: datetime, end: datetime) -> pd.DataFrame:
    """The truth rows of `[start, end)`, keys normalised like the feature table's."""
    path = Path(path)
    if not path.exists():
        raise WxriskError(f"{path}: no such truth file")
    try:
        dataset = ds.dataset(path, format="parquet")
    except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
        raise WxriskError(f"{path}: not a Parquet file ({type(exc).__name__})") from None
    missing = [c for c in TRUTH_COLUMNS if c not in dataset.schema.names]
    if missing:
        raise WxriskError(f"{path}: missing column(s) {', '.join(missing)}; a truth file has {', '.join(TRUTH_COLUMNS)}")
    window = (ds.field("valid_time") >= pd.Timestamp(start)) & (ds.field("valid_time") < pd.Timestamp(end))
    frame = dataset.to_table(columns=list(TRUTH_COLUMNS), filter=window).to_pandas()
    if frame.empty:
        raise WxriskError(f"{path}: no hazard rows between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M}")
    return frame.assign(segment_id=frame["segment_id"].astype("string"),
                        valid_time=pd.to_datetime(frame["valid_time"]).astype("datetime64[us]"))


def truth_probability(expected) -> np.ndarray:
    """P(at least one incident) of a Poisson count with mean `expected` [0-1]."""
    return -np.expm1(-np.asarray(expected, dtype="float64"))
