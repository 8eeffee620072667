"""Reading road lines from GeoJSON (plain or GDAL OSM-driver layout) and OSM PBF extracts.

A reader returns every feature it read as one of: a road (`RoadFeature`), an excluded
non-road way (counted by class), or a rejected feature (1-based feature number and reason,
for the quarantine). A file that cannot be read at all raises `WxriskError`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wxrisk.config import WxriskError
from wxrisk.roads.tags import is_road, parse_bool, parse_hstore

WGS84_CRS_NAMES = ("CRS84", "EPSG::4326", "EPSG:4326")


@dataclass(frozen=True)
class RoadFeature:
    """A road line: its id, its OSM tags and its parts (arrays of [lon, lat] in degrees)."""

    number: int
    feature_id: str
    tags: dict[str, str]
    parts: list[np.ndarray]
    synthetic: bool


@dataclass
class RoadFile:
    """What a roads file held: roads, excluded non-road ways, rejected features."""

    path: str
    features_read: int = 0
    roads: list[RoadFeature] = field(default_factory=list)
    excluded: Counter = field(default_factory=Counter)
    rejected: list[tuple[int, str, dict | None]] = field(default_factory=list)


def read_roads(path: str | Path) -> RoadFile:
    """Roads from a `.geojson`/`.json` FeatureCollection or an `.osm.pbf`/`.osm` extract."""
    path = Path(path)
    if not path.is_file():
        raise WxriskError(f"{path}: no such file")
    if path.name.endswith((".pbf", ".osm", ".osm.bz2", ".osm.gz")):
        return read_osm(path)
    return read_geojson(path)


def read_geojson(path: Path) -> RoadFile:
    """Roads from a GeoJSON FeatureCollection (tags as properties or in a GDAL `other_tags`)."""
    try:
        collection = json.loads(path.read_bytes())
    except UnicodeDecodeError as exc:
        raise WxriskError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise WxriskError(f"{path}: not valid JSON, truncated or corrupt ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise WxriskError(f"{path}: not a GeoJSON FeatureCollection")
    features = collection.get("features")
    if not isinstance(features, list):
        raise WxriskError(f"{path}: FeatureCollection has no `features` list")
    _check_wgs84(path, collection.get("crs"))
    synthetic_file = parse_bool(collection.get("wxrisk:synthetic")) is True
    result = RoadFile(str(path), features_read=len(features))
    seen: dict[str, int] = {}
    for number, feature in enumerate(features, start=1):
        outcome = _geojson_feature(feature, number, path.stem, synthetic_file)
        _collect(result, outcome, number, feature, seen)
    return result


def _check_wgs84(path: Path, crs: object) -> None:
    if crs is None:
        return
    name = str(crs.get("properties", {}).get("name", "")) if isinstance(crs, dict) else str(crs)
    if not name.endswith(WGS84_CRS_NAMES):
        raise WxriskError(f"{path}: CRS {name!r} is not WGS84 lon/lat (reproject to EPSG:4326)")


def _geojson_feature(feature: object, number: int, stem: str, synthetic_file: bool) -> RoadFeature | str:
    """The road in one GeoJSON feature, or the reason it is excluded (`excluded:<class>`) or rejected."""
    if not isinstance(feature, dict):
        return "feature is not a JSON object"
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        return "feature properties are not a JSON object"
    tags = {**parse_hstore(properties.get("other_tags")),
            **{k: str(v) for k, v in properties.items() if v is not None and k != "other_tags"}}
    if not is_road(tags.get("highway")):
        return f"excluded:{tags.get('highway') or _non_road_kind(tags)}"
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        return "feature has no geometry"
    parts = _line_parts(geometry)
    if isinstance(parts, str):
        return parts
    feature_id = _feature_id(tags, feature.get("id")) or f"{stem}:{number}"
    synthetic = synthetic_file or parse_bool(tags.get("synthetic")) is True
    return RoadFeature(number, feature_id, tags, parts, synthetic)


def _non_road_kind(tags: dict[str, str]) -> str:
    for key in ("waterway", "railway", "aerialway", "barrier", "man_made"):
        if key in tags:
            return key
    return "no highway tag"


def _feature_id(tags: dict[str, str], member_id: object) -> str | None:
    for value in (tags.get("id"), tags.get("osm_id"), member_id):
        if value is not None and str(value).strip():
            text = str(value).strip()
            return text.removesuffix(".0") if text.replace(".", "", 1).isdigit() else text
    return None


def _line_parts(geometry: dict) -> list[np.ndarray] | str:
    """Parts of a LineString/MultiLineString as [lon, lat] arrays, or why they are unreadable."""
    kind = geometry.get("type")
    if kind == "LineString":
        raw_parts = [geometry.get("coordinates")]
    elif kind == "MultiLineString":
        raw_parts = geometry.get("coordinates") or []
    else:
        return f"geometry type {kind} is not a LineString or MultiLineString"
    parts = []
    for raw in raw_parts:
        part = line_coords(raw)
        if isinstance(part, str):
            return part
        parts.append(part)
    return parts or "geometry has no coordinates"


def line_coords(raw: object) -> np.ndarray | str:
    """A line's vertices as an (n, 2) [lon, lat] array, or why they are unreadable."""
    try:
        coords = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        return "coordinates are not numbers"
    if coords.ndim != 2 or coords.shape[0] < 2 or coords.shape[1] < 2:
        return "line needs at least 2 [lon, lat] positions"
    coords = coords[:, :2]
    if not np.isfinite(coords).all():
        return "coordinates are not finite numbers"
    if (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
        return "coordinates out of WGS84 lon/lat range (projected CRS?)"
    if not np.any(np.diff(coords, axis=0) != 0):
        return "line has zero length"
    return coords


def _collect(result: RoadFile, outcome: RoadFeature | str, number: int, raw: object,
             seen: dict[str, int]) -> None:
    """File one feature's outcome: a road, an excluded class, or a rejection."""
    if isinstance(outcome, RoadFeature):
        first = seen.setdefault(outcome.feature_id, number)
        if first == number:
            result.roads.append(outcome)
            return
        outcome = f"duplicate feature id {outcome.feature_id} (first at feature {first})"
    if outcome.startswith("excluded:"):
        result.excluded[outcome.removeprefix("excluded:")] += 1
    else:
        result.rejected.append((number, outcome, raw if isinstance(raw, dict) else {"feature": raw}))


def read_osm(path: Path) -> RoadFile:
    """Road ways of an OSM extract (PBF or XML) with their node locations (pyosmium)."""
    import osmium

    result = RoadFile(str(path))
    seen: dict[str, int] = {}
    processor = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
                 .with_locations()
                 .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY)))
    try:
        for way in processor:
            result.features_read += 1
            number = result.features_read
            tags = {tag.k: tag.v for tag in way.tags}
            outcome = _osm_way(way, tags, number)
            raw = {"osm_id": way.id, **tags} if not isinstance(outcome, RoadFeature) else None
            _collect(result, outcome, number, raw, seen)
    except RuntimeError as exc:
        raise WxriskError(f"{path}: unreadable OSM file, truncated or corrupt ({exc})") from exc
    return result


def _osm_way(way, tags: dict[str, str], number: int) -> RoadFeature | str:
    if not is_road(tags.get("highway")):
        return f"excluded:{tags.get('highway') or _non_road_kind(tags)}"
    locations = [node.location for node in way.nodes]
    if not all(location.valid() for location in locations):
        return "way references nodes missing from the extract"
    part = line_coords([(location.lon, location.lat) for location in locations])
    if isinstance(part, str):
        return part
    return RoadFeature(number, str(way.id), tags, [part], parse_bool(tags.get("synthetic")) is True)
