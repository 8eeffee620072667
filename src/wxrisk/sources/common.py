"""What every source shares: the fetch result, bounding boxes and forecast issue times (UTC, naive)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from wxrisk.config import WxriskError
from wxrisk.vocab import utc_naive

BBox = tuple[float, float, float, float]  # west, south, east, north [degrees, WGS84]


@dataclass(frozen=True)
class FetchResult:
    """Files of one forecast, ready for `import_weather(..., kind="forecast", issued=issued_at)`."""

    paths: list[Path]
    issued_at: datetime  # forecast issue time, UTC naive
    source: str
    from_cache: bool  # False: downloaded now, its GRIB messages counted complete before they were written


def utc_hour(moment: datetime) -> datetime:
    """`moment` as a naive UTC datetime floored to the hour (naive input is taken as UTC)."""
    return utc_naive(moment).replace(minute=0, second=0, microsecond=0)


def parse_bbox(text: str) -> BBox:
    """`"W,S,E,N"` in degrees to a checked bounding box."""
    try:
        west, south, east, north = (float(part) for part in text.split(","))
    except ValueError as exc:
        raise WxriskError(f"--bbox {text!r}: expected four numbers W,S,E,N in degrees") from exc
    return check_bbox((west, south, east, north))


def check_bbox(bbox: BBox) -> BBox:
    """The bounding box if it is a valid west < east, south < north box in WGS84 degrees."""
    west, south, east, north = (float(v) for v in bbox)
    if not (-180 <= west < east <= 360 and -90 <= south < north <= 90):
        raise WxriskError(f"bbox {bbox}: need -180 <= W < E <= 360 and -90 <= S < N <= 90 [degrees]")
    return west, south, east, north


def snap_bbox(bbox: BBox, step_deg: float) -> BBox:
    """The bounding box widened outwards to multiples of `step_deg` [degrees]."""
    west, south, east, north = bbox
    return (math.floor(west / step_deg) * step_deg, math.floor(south / step_deg) * step_deg,
            math.ceil(east / step_deg) * step_deg, math.ceil(north / step_deg) * step_deg)


def choose_issue_time(start: datetime, now: datetime, cycle_hours: int, latency_hours: float) -> datetime:
    """The newest model cycle at or before `start` that should be published by `now` (UTC naive).

    cycle_hours : hours between model runs (6 for GFS, 12 for ECMWF IFS oper)
    latency_hours : typical delay between a run's nominal time and its publication [h]
    """
    newest_published = now - timedelta(hours=latency_hours)
    moment = min(start, newest_published)
    floored_hour = moment.hour - moment.hour % cycle_hours
    return moment.replace(hour=floored_hour, minute=0, second=0, microsecond=0)


def lead_hours(start: datetime, hours: int, issued_at: datetime) -> range:
    """Forecast steps after `issued_at` [h] whose valid times are the `hours` hours from `start`."""
    if hours < 1:
        raise WxriskError(f"--hours {hours}: need at least 1 hour")
    first = int((start - issued_at).total_seconds() // 3600)
    return range(first, first + hours)
