"""NCEP GFS 0.25° hourly forecast (GRIB2), subset by bounding box and variables with the NOMADS grib filter.

The filter CGI cuts one forecast file (one run, one step) to the variables, levels and sub-region
asked in its query string and answers with the GRIB2 messages. It returns every selected variable
at every selected level where it exists: TMP at `surface` is the skin temperature.
`APCP` accumulates in buckets that restart every 6 h (0-1, 0-2, ... 0-6, 6-7 ... h).
"""

from __future__ import annotations

from datetime import datetime

import requests

from wxrisk.config import Settings, WxriskError
from wxrisk.sources.common import (
    BBox,
    FetchResult,
    check_bbox,
    choose_issue_time,
    lead_hours,
    snap_bbox,
    utc_hour,
)
from wxrisk.sources.http import (
    HttpPolicy,
    NotPublishedError,
    cache_dir,
    cache_key,
    concatenate_atomic,
    download_parts,
    first_line,
    get_bytes,
    make_session,
    remove_parts,
)
from wxrisk.weather.grid import count_grib_messages

SOURCE = "gfs"
FILTER_URL = "https://nomads.ncep.noaa.gov/cgi-bin/filter_gfs_0p25_1hr.pl"
DIR_TEMPLATE = "/gfs.{issued:%Y%m%d}/{issued:%H}/atmos"
FILE_TEMPLATE = "gfs.t{issued:%H}z.pgrb2.0p25.f{step:03d}"

# NOMADS variable -> what it is [unit in the GRIB].
VARIABLES: dict[str, str] = {
    "TMP": "temperature at 2 m and at the surface (skin) [K]",
    "DPT": "2 m dew point [K]",
    "APCP": "precipitation accumulated in the 6 h bucket [kg m-2 = mm]",
    "CRAIN": "categorical rain [0/1]",
    "CSNOW": "categorical snow [0/1]",
    "CFRZR": "categorical freezing rain [0/1]",
    "CICEP": "categorical ice pellets [0/1]",
    "UGRD": "10 m eastward wind [m/s]",
    "VGRD": "10 m northward wind [m/s]",
    "VIS": "surface visibility [m]",
}
LEVELS = ("2_m_above_ground", "10_m_above_ground", "surface")
GRID_STEP_DEG = 0.25
CYCLE_HOURS = 6
LATENCY_HOURS = 4.5         # hourly steps to 72 h are on NOMADS about 4-5 h after the run's nominal time
MAX_STEP_HOURS = 120        # the hourly files stop at 120 h
REQUEST_INTERVAL_S = 0.5    # NOMADS blocks clients above about 120 requests a minute


def filter_params(issued_at: datetime, step: int, bbox: BBox) -> dict[str, str]:
    """The grib filter query for one run and step [h] over `bbox` (snapped outwards to the 0.25° grid)."""
    west, south, east, north = snap_bbox(bbox, GRID_STEP_DEG)
    return {
        "dir": DIR_TEMPLATE.format(issued=issued_at),
        "file": FILE_TEMPLATE.format(issued=issued_at, step=step),
        **{f"var_{name}": "on" for name in VARIABLES},
        **{f"lev_{level}": "on" for level in LEVELS},
        "subregion": "",
        "leftlon": f"{west:g}", "rightlon": f"{east:g}", "toplat": f"{north:g}", "bottomlat": f"{south:g}",
    }


def forecast_steps(start: datetime, hours: int, issued_at: datetime) -> list[int]:
    """The hourly steps [h] whose valid times are `start` .. `start + hours - 1`."""
    steps = list(lead_hours(start, hours, issued_at))
    if steps[-1] > MAX_STEP_HOURS:
        raise WxriskError(f"GFS run {issued_at:%Y-%m-%dT%H}Z: step {steps[-1]} h asked, "
                          f"the hourly files stop at {MAX_STEP_HOURS} h")
    return steps


def parse_filter_answer(body: bytes, what: str) -> bytes:
    """The GRIB2 bytes of a filter answer; the filter reports a missing file as text, sometimes with 200."""
    if body[:4] != b"GRIB":
        message = first_line(body)
        if "not present" in message.lower() or "no such" in message.lower():
            raise NotPublishedError(f"{what}: not published ({message})")
        raise WxriskError(f"{what}: the filter answered text, not GRIB: {message}")
    count_grib_messages(body, what)
    return body


def get_step(session: requests.Session, policy: HttpPolicy, url: str, issued_at: datetime, step: int,
             bbox: BBox) -> bytes:
    """The filtered GRIB2 of one step [h]."""
    what = f"GFS run {issued_at:%Y-%m-%dT%H}Z step {step} h"
    body = get_bytes(session, url, policy, what, params=filter_params(issued_at, step, bbox))
    return parse_filter_answer(body, what)


def fetch(settings: Settings, start: datetime, hours: int, bbox: BBox, base_url: str | None = None,
          now: datetime | None = None) -> FetchResult:
    """Fetch the hourly steps of `hours` hours from `start` over `bbox` into one cached GRIB2 file."""
    start, bbox = utc_hour(start), snap_bbox(check_bbox(bbox), GRID_STEP_DEG)
    issued_at = choose_issue_time(start, utc_hour(now or datetime.now().astimezone()), CYCLE_HOURS,
                                  LATENCY_HOURS)
    steps = forecast_steps(start, hours, issued_at)
    url = base_url or FILTER_URL
    key = cache_key(issued=issued_at, steps=steps, bbox=bbox, variables=list(VARIABLES), levels=LEVELS,
                    url=url)
    folder = cache_dir(settings, SOURCE)
    target = folder / f"{issued_at:%Y%m%dT%H}Z_f{steps[0]:03d}-f{steps[-1]:03d}_{key}.grib2"
    if target.exists():
        return FetchResult([target], issued_at, SOURCE, from_cache=True)
    session = make_session()
    policy = HttpPolicy.from_settings(settings, request_interval_s=REQUEST_INTERVAL_S)
    parts_folder = folder / f"parts-{key}"
    parts = download_parts(parts_folder, steps,
                           lambda step: get_step(session, policy, url, issued_at, step, bbox))
    concatenate_atomic(target, parts)
    remove_parts(parts_folder)
    return FetchResult([target], issued_at, SOURCE, from_cache=False)
