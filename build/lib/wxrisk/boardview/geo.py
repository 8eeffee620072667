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
