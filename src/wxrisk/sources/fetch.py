"""One entry point for every live source: fetch a forecast, import it, and say how old the fallback is."""

from __future__ import annotations

from datetime import datetime
from types import ModuleType

import duckdb

from wxrisk.config import Settings, WxriskError
from wxrisk.sources import ecmwf, gfs, openmeteo
from wxrisk.sources.common import BBox, FetchResult, check_bbox, utc_hour
from wxrisk.store.ledger import ImportResult
from wxrisk.weather.importer import import_weather

SOURCES: dict[str, ModuleType] = {openmeteo.SOURCE: openmeteo, ecmwf.SOURCE: ecmwf, gfs.SOURCE: gfs}
GLOBAL_SOURCES = frozenset({ecmwf.SOURCE})   # fetch whole-globe files: no bounding box needed
BBOX_MARGIN_DEG = 0.5


def fetch_weather(settings: Settings, source: str, start: datetime, hours: int, bbox: BBox | None = None,
                  base_url: str | None = None, *, now: datetime | None = None) -> FetchResult:
    """Fetch `hours` hours of forecast from `start` (UTC) from `source` into cached files.

    base_url : the service root (a mirror, or a local test server) instead of the public one
    now : the current time, to choose the newest published run (default: the clock)
    """
    module = SOURCES.get(source)
    if module is None:
        raise WxriskError(f"--source {source!r}: unknown (known: {', '.join(SOURCES)})")
    if source in GLOBAL_SOURCES:
        return module.fetch(settings, start, hours, base_url=base_url, now=now)
    if bbox is None:
        raise WxriskError(f"--source {source}: needs a bounding box (--bbox W,S,E,N or imported roads)")
    return module.fetch(settings, start, hours, check_bbox(bbox), base_url=base_url, now=now)


def default_bbox(con: duckdb.DuckDBPyConnection, margin_deg: float = BBOX_MARGIN_DEG) -> BBox | None:
    """The extent of table `segments` widened by `margin_deg` [degrees]; None when there are no segments."""
    west, south, east, north = con.execute(
        "SELECT min(lon), min(lat), max(lon), max(lat) FROM segments").fetchone()
    if west is None:
        return None
    return (max(west - margin_deg, -180.0), max(south - margin_deg, -90.0),
            min(east + margin_deg, 360.0), min(north + margin_deg, 90.0))


def last_good_forecast(con: duckdb.DuckDBPyConnection) -> tuple[datetime, str] | None:
    """Issue time (UTC) and window key of the newest forecast in `weather_hourly`, if any."""
    return con.execute(
        "SELECT issued_at, source FROM weather_hourly WHERE kind = 'forecast' AND issued_at IS NOT NULL "
        "ORDER BY issued_at DESC LIMIT 1").fetchone()


def fallback_note(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> str:
    """One clause saying which forecast stays in use and how old it is."""
    last = last_good_forecast(con)
    if last is None:
        return "no earlier forecast in the database"
    issued_at, _window = last
    age_h = (utc_hour(now or datetime.now().astimezone()) - issued_at).total_seconds() / 3600
    return f"the last good forecast, issued {issued_at:%Y-%m-%dT%H:%M}Z ({age_h:.0f} h old), stays in use"


def fetch_and_import(con: duckdb.DuckDBPyConnection, settings: Settings, source: str, start: datetime,
                     hours: int, bbox: BBox | None = None, base_url: str | None = None, *,
                     now: datetime | None = None) -> tuple[FetchResult, list[ImportResult]]:
    """Fetch a forecast and import it as `kind="forecast"`; returns the fetch and the ImportResults.

    bbox defaults to the extent of the imported road segments plus a margin. On failure nothing in
    the database changes and the error says how old the forecast still in use is.
    """
    bbox = bbox or default_bbox(con)
    try:
        result = fetch_weather(settings, source, start, hours, bbox, base_url, now=now)
    except WxriskError as exc:
        raise type(exc)(f"{exc}; {fallback_note(con, now)}") from exc
    try:
        imports = import_weather(con, settings, result.paths, kind="forecast", issued=result.issued_at,
                                 counted=not result.from_cache)
    except WxriskError as exc:
        for path in result.paths:   # an unreadable download must not be served from the cache again
            path.unlink(missing_ok=True)
        raise WxriskError(f"{exc}; {fallback_note(con, now)}") from exc
    return result, imports
