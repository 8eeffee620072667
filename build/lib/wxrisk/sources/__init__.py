"""Live weather sources (Open-Meteo, ECMWF open data, NCEP GFS): one module each, fetched safely."""

from wxrisk.sources.common import FetchResult, parse_bbox
from wxrisk.sources.fetch import (
    SOURCES,
    default_bbox,
    fallback_note,
    fetch_and_import,
    fetch_weather,
    last_good_forecast,
)
from wxrisk.sources.http import NotPublishedError, SourceUnavailableError

__all__ = ["SOURCES", "FetchResult", "NotPublishedError", "SourceUnavailableError", "default_bbox",
           "fallback_note", "fetch_and_import", "fetch_weather", "last_good_forecast", "parse_bbox"]
