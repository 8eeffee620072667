"""Map background shipped with the package: province outlines and city points (no internet).

`data/provinces.geojson`: provinces of China in 105-125°E, 20-40°N, decoded from Apache ECharts
4.9.0 `map/json/china.json` (Apache-2.0), simplified to 0.03° and clipped (see docs/app.md).
`data/cities.json`: provincial capitals and cities along the main expressways.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


def _read_json(name: str) -> dict:
    return json.loads(resources.files("wxrisk.boardview").joinpath("data", name).read_text(encoding="utf-8"))


@cache
def province_outlines() -> dict:
    """GeoJSON FeatureCollection of province polygons, properties `name_zh`, `name_en`."""
    return _read_json("provinces.geojson")


@cache
def cities() -> tuple[dict, ...]:
    """City points: `name_zh`, `name_en`, `lon`, `lat` [° WGS84], `capital` (bool)."""
    return tuple(_read_json("cities.json")["cities"])


REGIONAL_CONTEXT_DEG = 4.0  # inside the background: show at least this much around a road (cities, provinces)
NETWORK_MARGIN_DEG = 0.05   # elsewhere (no background there): fit the network itself, ~5 km at least


@cache
def background_bounds() -> tuple[float, float, float, float]:
    """West, south, east, north [° WGS84] of the province outlines the maps draw."""
    points = [point for feature in province_outlines()["features"] for polygon in _polygons(feature["geometry"])
              for ring in polygon for point in ring]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)


def _polygons(geometry: dict) -> list:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


def min_span_deg(lons, lats) -> float:
    """The smallest extent [°] a map around these points should show: regional context where the
    shipped background (provinces, cities) covers them, else just the network (e.g. Leeds, where
    a 4° view would show a 10 km network as one dot on an empty map)."""
    if len(lons) == 0:
        return REGIONAL_CONTEXT_DEG
    west, south, east, north = background_bounds()
    inside = west <= min(lons) and max(lons) <= east and south <= min(lats) and max(lats) <= north
    return REGIONAL_CONTEXT_DEG if inside else NETWORK_MARGIN_DEG


def graticule(west: float, south: float, east: float, north: float, step_deg: float = 5.0) -> list[dict]:
    """Lines of constant longitude and latitude every `step_deg` [°] as `{"path": [[lon, lat], ...]}`."""
    lines = []
    lon = west - west % step_deg
    while lon <= east:
        lines.append({"path": [[lon, south], [lon, north]], "label": f"{lon:g}°E"})
        lon += step_deg
    lat = south - south % step_deg
    while lat <= north:
        lines.append({"path": [[west, lat], [east, lat]], "label": f"{lat:g}°N"})
        lat += step_deg
    return lines
