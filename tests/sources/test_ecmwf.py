"""ECMWF open data against a local server laid out like data.ecmwf.int/forecasts: a GRIB2 file per
step with a `.index` of JSON lines (`param`, `levtype`, `_offset`, `_length`), served with Range.

The GRIB bytes are the real NCEP GRIB2 messages of tests/data/real/cfrzr_and_cprat.grib (cfgrib test
data, Apache-2.0); the index names them as ECMWF parameters to exercise the byte-range logic."""

from __future__ import annotations

import json
import re
from datetime import datetime

import eccodes
import pytest
from werkzeug import Request, Response

from wxrisk.config import WxriskError
from wxrisk.sources import ecmwf, fetch_weather
from wxrisk.sources.http import NotPublishedError

from .conftest import REAL_DATA

GRIB_PATH = REAL_DATA / "cfrzr_and_cprat.grib"
ISSUED = datetime(2026, 1, 25, 0)
START = datetime(2026, 1, 25, 1)
NOW = datetime(2026, 1, 25, 12)
# message number in the real file -> (param, levtype) it plays in the index
ROLES = [("2t", "sfc"), ("gh", "pl"), ("tp", "sfc"), ("ptype", "sfc")]


def real_messages() -> list[tuple[int, int, str]]:
    """(offset, length, shortName) of each message of the real file, read with ecCodes."""
    messages = []
    with open(GRIB_PATH, "rb") as handle:
        while (gid := eccodes.codes_grib_new_from_file(handle)) is not None:
            messages.append((int(eccodes.codes_get(gid, "offset")), eccodes.codes_get(gid, "totalLength"),
                             eccodes.codes_get(gid, "shortName")))
            eccodes.codes_release(gid)
    return messages


def index_text(step: int) -> str:
    lines = [{"domain": "g", "date": "20260125", "time": "0000", "expver": "0001", "class": "od",
              "type": "fc", "stream": "oper", "step": str(step), "levtype": levtype, "param": param,
              "_offset": offset, "_length": length}
             for (param, levtype), (offset, length, _) in zip(ROLES, real_messages(), strict=True)]
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def serve_range(request: Request, truncate: bool = False) -> Response:
    """The byte range asked in the Range header (206), or a body cut in half when `truncate`."""
    data = GRIB_PATH.read_bytes()
    first, last = map(int, re.fullmatch(r"bytes=(\d+)-(\d+)", request.headers["Range"]).groups())
    chunk = data[first:last + 1]
    headers = {"Content-Length": str(len(chunk)), "Content-Range": f"bytes {first}-{last}/{len(data)}"}
    body = chunk[: len(chunk) // 2] if truncate else chunk
    return Response(iter([body]), status=206, headers=headers, content_type="application/octet-stream")


def step_path(step: int, ext: str = "grib2") -> str:
    return f"/forecasts/20260125/00z/ifs/0p25/oper/20260125000000-{step}h-oper-fc.{ext}"


def serve_forecast(httpserver, steps=(0, 3, 6)) -> None:
    for step in steps:
        httpserver.expect_request(step_path(step, "index")).respond_with_data(index_text(step))
        httpserver.expect_request(step_path(step)).respond_with_handler(serve_range)


def short_names(path) -> list[str]:
    names = []
    with open(path, "rb") as handle:
        while (gid := eccodes.codes_grib_new_from_file(handle)) is not None:
            names.append(eccodes.codes_get(gid, "shortName"))
            eccodes.codes_release(gid)
    return names


def test_fetches_only_the_wanted_messages_by_byte_range(httpserver, settings):
    serve_forecast(httpserver)
    result = fetch_weather(settings, "ecmwf", START, 6, base_url=httpserver.url_for("/forecasts"), now=NOW)

    assert result.issued_at == ISSUED and result.source == "ecmwf"
    messages = real_messages()
    # per step: messages 0, 2 and 3 (zero padding between them, so no merging); message 1 (levtype pl) skipped
    wanted_ranges = [f"bytes={offset}-{offset + length - 1}" for offset, length, _ in
                     (messages[0], messages[2], messages[3])]
    ranges = [r.headers["Range"] for r, _ in httpserver.log if "Range" in r.headers]
    assert ranges == wanted_ranges * 3
    # the file is three steps of the three real messages, bytes intact (ecCodes decodes them)
    assert short_names(result.paths[0]) == ["cpr", "cfrzr", "cfrzr"] * 3


def test_adjacent_messages_share_one_range_request():
    entries = [ecmwf.IndexEntry("2t", "sfc", 0, 100), ecmwf.IndexEntry("2d", "sfc", 100, 50),
               ecmwf.IndexEntry("tp", "sfc", 400, 10)]
    assert ecmwf.byte_ranges(entries) == [(0, 149), (400, 409)]


def test_steps_bracket_the_hours_asked():
    # valid hours 01..06 UTC of a 00 UTC run sit between the 3-hourly steps 0 and 6
    assert ecmwf.forecast_steps(START, 6, ISSUED) == [0, 3, 6]
    with pytest.raises(WxriskError, match="stop at 144 h"):
        ecmwf.forecast_steps(START, 150, ISSUED)


def test_second_fetch_comes_from_the_cache(httpserver, settings):
    serve_forecast(httpserver)
    url = httpserver.url_for("/forecasts")
    first = fetch_weather(settings, "ecmwf", START, 6, base_url=url, now=NOW)
    count = len(httpserver.log)
    again = fetch_weather(settings, "ecmwf", START, 6, base_url=url, now=NOW)
    assert again.from_cache and again.paths == first.paths and len(httpserver.log) == count


def test_run_not_published_is_one_request(httpserver, settings, cache_files):
    httpserver.expect_request(step_path(0, "index")).respond_with_data("Not Found", status=404)
    with pytest.raises(NotPublishedError, match=r"ECMWF IFS run 2026-01-25T00Z step 0 h index: not published"):
        fetch_weather(settings, "ecmwf", START, 6, base_url=httpserver.url_for("/forecasts"), now=NOW)
    assert len(httpserver.log) == 1 and cache_files() == []


def test_server_error_on_a_range_is_retried(httpserver, settings):
    serve_forecast(httpserver, steps=(3, 6))
    httpserver.expect_ordered_request(step_path(0, "index")).respond_with_data("", status=502)
    httpserver.expect_ordered_request(step_path(0, "index")).respond_with_data(index_text(0))
    httpserver.expect_request(step_path(0)).respond_with_handler(serve_range)
    result = fetch_weather(settings, "ecmwf", START, 6, base_url=httpserver.url_for("/forecasts"), now=NOW)
    assert short_names(result.paths[0]) == ["cpr", "cfrzr", "cfrzr"] * 3
    assert [r.path for r, resp in httpserver.log if resp.status_code == 502] == [step_path(0, "index")]


def test_truncated_range_is_rejected_and_nothing_is_cached(httpserver, settings, cache_files):
    httpserver.expect_request(step_path(0, "index")).respond_with_data(index_text(0))
    httpserver.expect_request(step_path(0)).respond_with_handler(lambda r: serve_range(r, truncate=True))
    with pytest.raises(WxriskError, match="gave up after 3 attempts .*connection failed|truncated"):
        fetch_weather(settings, "ecmwf", START, 6, base_url=httpserver.url_for("/forecasts"), now=NOW)
    assert cache_files() == []


def test_a_server_ignoring_range_is_refused(httpserver, settings):
    httpserver.expect_request(step_path(0, "index")).respond_with_data(index_text(0))
    httpserver.expect_request(step_path(0)).respond_with_data(GRIB_PATH.read_bytes())
    with pytest.raises(WxriskError, match="ignored the Range header"):
        fetch_weather(settings, "ecmwf", START, 6, base_url=httpserver.url_for("/forecasts"), now=NOW)
    assert len([r for r, _ in httpserver.log if "Range" in r.headers]) == 1
