"""Tiles' board frames joined into one: every value kept, categoricals stay categorical."""

from __future__ import annotations

import numpy as np
import pandas as pd

from wxrisk.scored import board_frame, concat_board_frames


def _tile(ids: list[str], drivers: list[str | None]) -> pd.DataFrame:
    n = len(ids)
    return board_frame(pd.Categorical(ids), np.full(n, np.datetime64("2024-02-01T21:00")), np.linspace(0, 1, n),
                       ["none"] * n, drivers=(pd.Categorical(drivers), pd.Categorical(drivers)))


def test_tiles_of_distinct_segments_and_shared_drivers_keep_every_value():
    first = _tile(["a", "b", "a"], ["冻雨", None, "积雪"])
    second = _tile(["c", "d"], ["积雪", "冻雨"])  # segments of their own, drivers shared with the first tile
    joined = concat_board_frames([first, second])
    assert isinstance(joined["segment_id"].dtype, pd.CategoricalDtype)
    assert joined["segment_id"].astype(str).tolist() == ["a", "b", "a", "c", "d"]
    assert joined["top_drivers"].astype(object).where(joined["top_drivers"].notna(), None).tolist() == [
        "冻雨", None, "积雪", "积雪", "冻雨"]
    assert sorted(joined["top_drivers"].cat.categories) == ["冻雨", "积雪"]


def test_a_segment_in_two_tiles_is_one_category():
    joined = concat_board_frames([_tile(["a", "b"], [None, None]), _tile(["b", "c"], [None, None])])
    assert joined["segment_id"].astype(str).tolist() == ["a", "b", "b", "c"]
    assert list(joined["segment_id"].cat.categories) == ["a", "b", "c"]
    assert joined["top_drivers"].isna().all()
