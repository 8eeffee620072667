"""GFS through a local stand-in for the NOMADS grib filter (filter_gfs_0p25_1hr.pl): the query names
the run directory, the file, variables, levels and sub-region; the answer is GRIB2 (here the real
NCEP messages of tests/data/real/cfrzr_and_cprat.grib, cfgrib test data, Apache-2.0)."""

from __future__ import annotations

from datetime import datetime

import eccodes
import pytest
from werkzeug import Request, Response

from wxrisk.config import WxriskError
from wxrisk.sources import fetch_weather, gfs
from wxrisk.sources.http import NotPublishedError

from .conftest import REAL_DATA

GRIB = (REAL_DATA / "cfrzr_and_cprat.grib").read_bytes()
FILTER = "/cgi-bin/filter_gfs_0p25_1hr.pl"
START = datetime(2026, 1, 25, 7)
NOW = datetime(2026, 1, 25, 12)
BBOX = (115.1, 28.05, 116.9, 29.6)


def grib_answer(request: Request) -> Response:
    return Response(iter([GRIB]), headers={"Content-Length": str(len(GRIB))},
                    content_type="application/octet-stream")


def test_filter_query_names_run_step_variables_levels_and_box(httpserver, settings):
    httpserver.expect_request(FILTER).respond_with_handler(grib_answer)
    result = fetch_weather(settings, "gfs", START, 3, BBOX, base_url=httpserver.url_for(FILTER), now=NOW)

    assert result.issued_at == datetime(2026, 1, 25, 6) and result.source == "gfs"
    queries = [request.args for request, _ in httpserver.log]
    assert [q["file"] for q in queries] == ["gfs.t06z.pgrb2.0p25.f001", "gfs.t06z.pgrb2.0p25.f002",
                                            "gfs.t06z.pgrb2.0p25.f003"]
    query = queries[0]
    assert query["dir"] == "/gfs.20260125/06/atmos"
    for name in ("CRAIN", "CSNOW", "CFRZR", "CICEP", "TMP", "DPT", "APCP", "UGRD", "VGRD", "VIS"):
        assert query[f"var_{name}"] == "on"
    assert {k for k in query if k.startswith("lev_")} == {"lev_2_m_above_ground", "lev_10_m_above_ground",
                                                          "lev_surface"}
    # the box widened outwards to the 0.25° grid
    assert (query["leftlon"], query["rightlon"], query["bottomlat"], query["toplat"]) == (
        "115", "117", "28", "29.75")
    names = []
    with open(result.paths[0], "rb") as handle:
        while (gid := eccodes.codes_grib_new_from_file(handle)) is not None:
            names.append(eccodes.codes_get(gid, "shortName"))
            eccodes.codes_release(gid)
    assert names.count("cfrzr") == 2 * 3                      # two cfrzr messages per real file, 3 steps


def test_not_published_as_404_is_one_request(httpserver, settings, cache_files):
    httpserver.expect_request(FILTER).respond_with_data("Not Found", status=404)
    with pytest.raises(NotPublishedError, match="GFS run 2026-01-25T06Z step 1 h: not published"):
        fetch_weather(settings, "gfs", START, 3, BBOX, base_url=httpserver.url_for(FILTER), now=NOW)
    assert len(httpserver.log) == 1 and cache_files() == []


def test_not_published_as_a_text_page_is_one_request(httpserver, settings):
    page = "<html><body>\ndata file is not present: /gfs.20260125/06/atmos/gfs.t06z.pgrb2.0p25.f001\n</body>"
    httpserver.expect_request(FILTER).respond_with_data(page, content_type="text/html")
    with pytest.raises(NotPublishedError, match="data file is not present"):
        fetch_weather(settings, "gfs", START, 3, BBOX, base_url=httpserver.url_for(FILTER), now=NOW)
    assert len(httpserver.log) == 1


def test_server_errors_then_success(httpserver, settings):
    httpserver.expect_ordered_request(FILTER).respond_with_data("", status=500)
    httpserver.expect_ordered_request(FILTER).respond_with_data("", status=503)
    httpserver.expect_request(FILTER).respond_with_handler(grib_answer)
    result = fetch_weather(settings, "gfs", START, 2, BBOX, base_url=httpserver.url_for(FILTER), now=NOW)
    assert len(httpserver.log) == 4 and result.paths[0].stat().st_size == 2 * len(GRIB)


def test_truncated_grib_is_rejected_and_nothing_is_cached(httpserver, settings, cache_files):
    httpserver.expect_request(FILTER).respond_with_data(GRIB[:30000], content_type="application/octet-stream")
    with pytest.raises(WxriskError, match="cut short"):
        fetch_weather(settings, "gfs", START, 2, BBOX, base_url=httpserver.url_for(FILTER), now=NOW)
    assert cache_files() == []


def test_steps_beyond_the_hourly_files_are_refused():
    with pytest.raises(WxriskError, match="stop at 120 h"):
        gfs.forecast_steps(START, 130, datetime(2026, 1, 25, 6))


def test_a_failed_fetch_resumes_without_fetching_finished_steps_again(httpserver, settings):
    url = httpserver.url_for(FILTER)
    httpserver.expect_ordered_request(FILTER).respond_with_handler(grib_answer)
    httpserver.expect_ordered_request(FILTER).respond_with_data("Not Found", status=404)
    with pytest.raises(NotPublishedError, match="step 2 h"):
        fetch_weather(settings, "gfs", START, 2, BBOX, base_url=url, now=NOW)
    httpserver.clear()
    httpserver.expect_request(FILTER).respond_with_handler(grib_answer)
    result = fetch_weather(settings, "gfs", START, 2, BBOX, base_url=url, now=NOW)
    assert [request.args["file"] for request, _ in httpserver.log] == ["gfs.t06z.pgrb2.0p25.f002"]
    assert result.paths[0].stat().st_size == 2 * len(GRIB)
