"""ECMWF open data, IFS high-resolution forecast (0.25°, GRIB2), fetched with plain HTTP Range requests.

Layout of the open-data service: one global GRIB2 file per run and step, and beside it an `.index`
file (same name, extension `index`) of JSON lines, one per GRIB message, with its `param`, `levtype`, `_offset` and `_length`.
We read the index and fetch only the byte ranges of the surface parameters we need.
`tp` is accumulated from the start of the run [m]; the importer turns it into amounts per step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests

from wxrisk.config import Settings, WxriskError
from wxrisk.sources.common import FetchResult, choose_issue_time, lead_hours, utc_hour
from wxrisk.sources.http import (
    HttpPolicy,
    cache_dir,
    cache_key,
    concatenate_atomic,
    download_parts,
    get_bytes,
    make_session,
    remove_parts,
)
from wxrisk.weather.grid import count_grib_messages

SOURCE = "ecmwf"
ROOT_URL = "https://data.ecmwf.int/forecasts"
# {root}/{yyyymmdd}/{HH}z/ifs/0p25/oper/{yyyymmddHH}0000-{step}h-oper-fc.{grib2,index}
URL_TEMPLATE = "{root}/{issued:%Y%m%d}/{issued:%H}z/ifs/0p25/oper/{issued:%Y%m%d%H}0000-{step}h-oper-fc.{ext}"

# ECMWF short name (index `param`, levtype sfc) -> what it is [unit in the GRIB].
PARAMS: dict[str, str] = {
    "2t": "2 m temperature [K]",
    "2d": "2 m dew point [K]",
    "skt": "skin temperature [K]",
    "tp": "total precipitation accumulated since the run started [m]",
    "ptype": "precipitation type [ECMWF code]",
    "10u": "10 m eastward wind [m/s]",
    "10v": "10 m northward wind [m/s]",
}
LEVTYPE = "sfc"
CYCLE_HOURS = 12        # the `oper` stream runs at 00 and 12 UTC
LATENCY_HOURS = 8.0     # steps to 72 h are on the service about 7-8 h after the run's nominal time
STEP_HOURS = 3          # 3-hourly steps to 144 h
MAX_STEP_HOURS = 144


@dataclass(frozen=True)
class IndexEntry:
    """One GRIB message of a file, as listed in its `.index`."""

    param: str
    levtype: str
    offset: int   # [bytes from the start of the file]
    length: int   # [bytes]


def file_url(root: str, issued_at: datetime, step: int, ext: str = "grib2") -> str:
    """URL of the GRIB2 file (ext `grib2`) or its index (ext `index`) of run `issued_at`, step `step` [h]."""
    return URL_TEMPLATE.format(root=root.rstrip("/"), issued=issued_at, step=step, ext=ext)


def forecast_steps(start: datetime, hours: int, issued_at: datetime) -> list[int]:
    """The 3-hourly steps [h] that bracket the valid hours `start` .. `start + hours - 1`."""
    leads = lead_hours(start, hours, issued_at)
    first = leads.start - leads.start % STEP_HOURS
    last = -(-(leads.stop - 1) // STEP_HOURS) * STEP_HOURS
    if last > MAX_STEP_HOURS:
        raise WxriskError(f"ECMWF run {issued_at:%Y-%m-%dT%H}Z: step {last} h asked, "
                          f"the open data 3-hourly steps stop at {MAX_STEP_HOURS} h")
    return list(range(first, last + 1, STEP_HOURS))


def parse_index(text: str, what: str) -> list[IndexEntry]:
    """The messages listed in an open-data `.index` file (JSON lines)."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            entries.append(IndexEntry(str(record["param"]), str(record.get("levtype", "")),
                                      int(record["_offset"]), int(record["_length"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise WxriskError(f"{what}: index line {number} unreadable ({exc!r})") from exc
    return entries


def select_messages(entries: list[IndexEntry], params: list[str]) -> list[IndexEntry]:
    """The surface messages of `params`, in file order."""
    wanted = set(params)
    return sorted((e for e in entries if e.param in wanted and e.levtype == LEVTYPE), key=lambda e: e.offset)


def byte_ranges(entries: list[IndexEntry]) -> list[tuple[int, int]]:
    """Inclusive (first, last) byte ranges covering the entries, adjacent messages merged."""
    ranges: list[tuple[int, int]] = []
    for entry in entries:
        first, last = entry.offset, entry.offset + entry.length - 1
        if ranges and ranges[-1][1] + 1 == first:
            ranges[-1] = (ranges[-1][0], last)
        else:
            ranges.append((first, last))
    return ranges


def get_step(session: requests.Session, policy: HttpPolicy, root: str, issued_at: datetime, step: int,
             params: list[str]) -> bytes:
    """The GRIB messages of `params` for one step: the index, then one Range request per run of messages."""
    url, index_url = file_url(root, issued_at, step), file_url(root, issued_at, step, "index")
    what = f"ECMWF IFS run {issued_at:%Y-%m-%dT%H}Z step {step} h"
    index_text = get_bytes(session, index_url, policy, f"{what} index").decode("utf-8", "replace")
    entries = select_messages(parse_index(index_text, what), params)
    if not entries:
        raise WxriskError(f"{what}: none of {params} in the index {index_url}")
    chunks = [get_bytes(session, url, policy, f"{what} bytes {first}-{last}",
                        headers={"Range": f"bytes={first}-{last}"}, expected_length=last - first + 1)
              for first, last in byte_ranges(entries)]
    data = b"".join(chunks)
    found = count_grib_messages(data, what)
    if found != len(entries):
        raise WxriskError(f"{what}: {found} GRIB messages in the ranges, the index lists {len(entries)}")
    return data


def fetch(settings: Settings, start: datetime, hours: int, base_url: str | None = None,
          now: datetime | None = None, params: list[str] | None = None) -> FetchResult:
    """Fetch the steps covering `hours` hours from `start` into one cached global GRIB2 file."""
    start = utc_hour(start)
    issued_at = choose_issue_time(start, utc_hour(now or datetime.now().astimezone()), CYCLE_HOURS,
                                  LATENCY_HOURS)
    steps = forecast_steps(start, hours, issued_at)
    params = list(params or PARAMS)
    root = base_url or ROOT_URL
    key = cache_key(issued=issued_at, steps=steps, params=params, root=root)
    folder = cache_dir(settings, SOURCE)
    target = folder / f"{issued_at:%Y%m%dT%H}Z_f{steps[0]:03d}-f{steps[-1]:03d}_{key}.grib2"
    if target.exists():
        return FetchResult([target], issued_at, SOURCE, from_cache=True)
    session, policy = make_session(), HttpPolicy.from_settings(settings)
    parts_folder: Path = folder / f"parts-{key}"
    parts = download_parts(parts_folder, steps,
                           lambda step: get_step(session, policy, root, issued_at, step, params))
    concatenate_atomic(target, parts)
    remove_parts(parts_folder)
    return FetchResult([target], issued_at, SOURCE, from_cache=False)
