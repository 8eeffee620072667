"""A scenario world's road network: corridors densified to ~1 km vertices, split into features by
province, bridge, tunnel and mountain stretch, written as GeoJSON with OSM tags (docs/importers.md).
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from wxrisk.config import Settings
from wxrisk.roads.importer import segments_frame
from wxrisk.roads.reader import read_roads
from wxrisk.scenario.geography import BORDER, CENTRAL_CHINA, Corridor, Geography
from wxrisk.scenario.osm_bridges import (
    ATTRIBUTION,
    BridgeSpan,
    bridge_spans,
    span_of_pieces,
    with_span_vertices,
)

KM_PER_DEG_LAT = 111.2
VERTEX_SPACING_KM = 1.0
WIGGLE_FRACTION = 0.03          # lateral bow of a leg between two cities [share of the leg length]
MOUNTAIN_CHUNK_KM = 6.0         # mountain stretches are cut into pieces of this length, each with its incline
LONG_BRIDGE_KM = 1.6            # bridge lengths [km]: over the world's great river, and others
RIVER_BRIDGE_KM = 0.6
RELIEF_WAVELENGTHS_KM = (23.0, 9.0)   # road-scale ups and downs of plateau roads, and their weights
RELIEF_WEIGHTS = (0.6, 0.4)
TUNNEL_KM = 1.2
VALLEY_BRIDGE_KM = 0.5
MOUNTAIN_MAXSPEED_KMH = 100


def substream(seed: int, name: str) -> np.random.Generator:
    """A random generator for one named part of the world, independent of the order parts are made."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def distance_km(lon0, lat0, lon1, lat1) -> np.ndarray:
    """Distance on a local equirectangular projection [km]; exact enough over a few km."""
    mean_lat = np.radians((np.asarray(lat0) + np.asarray(lat1)) / 2.0)
    dx = (np.asarray(lon1) - np.asarray(lon0)) * np.cos(mean_lat) * KM_PER_DEG_LAT
    dy = (np.asarray(lat1) - np.asarray(lat0)) * KM_PER_DEG_LAT
    return np.hypot(dx, dy)


@dataclass
class RoadPieces:
    """The network as the roads importer segments it (<= 1 km), with the attributes the hazard uses."""

    segment_id: np.ndarray     # exactly as `wxrisk import roads` assigns it
    lon: np.ndarray            # segment midpoint longitude [deg]
    lat: np.ndarray            # segment midpoint latitude [deg]
    lines: np.ndarray          # shapely LineStrings of the segment paths [lon, lat]
    length_km: np.ndarray
    ref: np.ndarray            # road number per segment
    province: np.ndarray
    aadt: np.ndarray           # vehicles/day
    is_bridge: np.ndarray
    is_tunnel: np.ndarray
    grade_pct: np.ndarray      # absolute grade of the feature [%], 0 off mountain stretches

    def __len__(self) -> int:
        return len(self.length_km)


def segment_pieces(roads_path: Path, segment_max_km: float = Settings().segment_max_km) -> RoadPieces:
    """The segments `wxrisk import roads` makes of `roads_path` (same reader, same cutting, same ids)."""
    frame = segments_frame(read_roads(roads_path), segment_max_km)
    paths = [np.asarray(json.loads(p), dtype=float) for p in frame["path_json"]]
    return RoadPieces(
        segment_id=frame["segment_id"].to_numpy(str), lon=frame["lon"].to_numpy(float),
        lat=frame["lat"].to_numpy(float), lines=shapely.linestrings(np.concatenate(paths),
                                                                    indices=np.repeat(np.arange(len(paths)),
                                                                                      [len(p) for p in paths])),
        length_km=frame["length_km"].to_numpy(float), ref=frame["road_ref"].to_numpy(str),
        province=frame["province"].to_numpy(str), aadt=frame["aadt"].to_numpy(float),
        is_bridge=frame["bridge"].to_numpy(bool), is_tunnel=frame["tunnel"].to_numpy(bool),
        grade_pct=np.abs(frame["grade_pct"].fillna(0.0).to_numpy(float)),
    )


def densify_corridor(corridor: Corridor, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Vertices about every VERTEX_SPACING_KM along the corridor, each with the province of the piece it starts."""
    rng = substream(seed, f"roads/{corridor.ref}")
    lons: list[float] = []
    lats: list[float] = []
    provinces: list[str] = []
    points = corridor.waypoints
    for (_n0, lon0, lat0, prov0), (_n1, lon1, lat1, prov1) in zip(points[:-1], points[1:], strict=True):
        province = prov1 if prov0 == BORDER else prov0
        leg_km = float(distance_km(lon0, lat0, lon1, lat1))
        steps = max(1, math.ceil(leg_km / VERTEX_SPACING_KM))
        s = np.arange(steps) / steps
        bow_km = rng.uniform(-WIGGLE_FRACTION, WIGGLE_FRACTION) * leg_km * np.sin(np.pi * s)
        coslat = math.cos(math.radians((lat0 + lat1) / 2))
        ux, uy = (lon1 - lon0) * coslat, lat1 - lat0
        norm = math.hypot(ux, uy)
        px, py = -uy / norm, ux / norm     # unit normal in km-like space
        lons.extend(lon0 + (lon1 - lon0) * s + px * bow_km / KM_PER_DEG_LAT / coslat)
        lats.extend(lat0 + (lat1 - lat0) * s + py * bow_km / KM_PER_DEG_LAT)
        provinces.extend([province] * steps)
    lons.append(points[-1][1])
    lats.append(points[-1][2])
    return np.round(np.array(lons), 6), np.round(np.array(lats), 6), provinces


def river_crossings_km(geography: Geography, lon: np.ndarray, lat: np.ndarray) -> list[tuple[float, str]]:
    """Along-road positions [km] where the line crosses a river, with the river's name."""
    cum_km = np.concatenate([[0.0], np.cumsum(distance_km(lon[:-1], lat[:-1], lon[1:], lat[1:]))])
    road = shapely.LineString(np.column_stack([lon, lat]))
    crossings = []
    for river, coords in geography.rivers.items():
        hits = shapely.intersection(road, shapely.LineString(coords))
        for point in getattr(hits, "geoms", [hits]):
            if point.is_empty or point.geom_type != "Point":
                continue
            frac = road.project(point, normalized=True)
            crossings.append((float(np.interp(frac * road.length, _cum_deg(lon, lat), cum_km)), river))
    return sorted(crossings)


def _cum_deg(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(lon), np.diff(lat)))])


def _nearest_waypoint(corridor: Corridor, lon: float, lat: float) -> str:
    named = [(n, x, y) for n, x, y, p in corridor.waypoints if p != BORDER]
    return min(named, key=lambda w: (w[1] - lon) ** 2 + (w[2] - lat) ** 2)[0]


def _nearest_mountain(geography: Geography, lon: float, lat: float) -> str:
    hills = geography.mountains + geography.plateaus
    return min(hills, key=lambda m: (m[1] - lon) ** 2 + (m[2] - lat) ** 2)[0]


def road_elevation_m(geography: Geography, corridor: Corridor, lon: np.ndarray, lat: np.ndarray,
                     seed: int) -> np.ndarray:
    """Vertex elevations [m]: the terrain with its passes, plus the road-scale relief of plateau roads."""
    ele = geography.terrain_elevation_m(lon, lat, with_passes=True)
    if geography.road_relief_m <= 0:
        return ele
    cum_km = np.concatenate([[0.0], np.cumsum(distance_km(lon[:-1], lat[:-1], lon[1:], lat[1:]))])
    phases = substream(seed, f"relief/{corridor.ref}").uniform(0, 2 * np.pi, len(RELIEF_WAVELENGTHS_KM))
    relief = sum(w * np.sin(2 * np.pi * cum_km / wavelength + phase)
                 for w, wavelength, phase in zip(RELIEF_WEIGHTS, RELIEF_WAVELENGTHS_KM, phases, strict=True))
    return ele + geography.road_relief_m * relief


def piece_kinds(geography: Geography, corridor: Corridor, lon: np.ndarray, lat: np.ndarray, ele: np.ndarray,
                spans: list[BridgeSpan] = ()) -> list[str]:
    """A kind per piece (`road`, `bridge:<name>`, `osm-bridge:<name>|<way ids>`, `tunnel:<name>`,
    `mountain:<chunk>`), from the vertex elevations `ele` [m]."""
    n = len(lon) - 1
    cum_km = np.concatenate([[0.0], np.cumsum(distance_km(lon[:-1], lat[:-1], lon[1:], lat[1:]))])
    mid_ele = (ele[:-1] + ele[1:]) / 2
    kinds = ["road"] * n
    mountain = mid_ele > geography.mountain_ele_m
    run_start = None
    for i in range(n + 1):
        if i < n and mountain[i] and run_start is None:
            run_start = i
        elif (i == n or not mountain[i]) and run_start is not None:
            _label_mountain_run(geography, kinds, run_start, i, cum_km, mid_ele, lon, lat)
            run_start = None
    _label_valley_bridges(geography, corridor, kinds, cum_km, mid_ele, lon, lat)
    for i, span in enumerate(span_of_pieces(lon, lat, list(spans))):
        if span is not None:
            where = _nearest_waypoint(corridor, float(lon[i]), float(lat[i]))
            kinds[i] = f"osm-bridge:{span.name or where + '桥'}|{';'.join(span.osm_ids)}"
    for km, river in river_crossings_km(geography, lon, lat):
        half = (LONG_BRIDGE_KM if river == geography.long_bridge_river else RIVER_BRIDGE_KM) / 2
        idx = int(np.searchsorted(cum_km, km)) - 1
        where = _nearest_waypoint(corridor, float(lon[max(idx, 0)]), float(lat[max(idx, 0)]))
        name = f"{where}{river}大桥"
        real = {kinds[i] for i in range(n) if kinds[i].startswith("osm-bridge:")
                and cum_km[i] < km + half and cum_km[i + 1] > km - half}
        for i in range(n):
            if kinds[i] in real:                      # the real bridge over the river takes the river's name
                kinds[i] = f"osm-bridge:{name}|{kinds[i].partition('|')[2]}"
            elif not real and cum_km[i] < km + half and cum_km[i + 1] > km - half:
                kinds[i] = f"bridge:{name}"
    return kinds


def _tunnel_peaks(geography: Geography, start: int, stop: int, mid_km: np.ndarray, mid_ele: np.ndarray) -> list[int]:
    """Pieces of a mountain run that are summits worth a tunnel: above `tunnel_min_peak_m` and the highest
    point within `tunnel_spacing_km` (the whole run when that is infinite)."""
    if not math.isfinite(geography.tunnel_spacing_km):
        peak = start + int(np.argmax(mid_ele[start:stop]))
        return [peak] if mid_ele[peak] > geography.tunnel_min_peak_m else []
    peaks = []
    for i in range(start, stop):
        near = (np.abs(mid_km[start:stop] - mid_km[i]) <= geography.tunnel_spacing_km / 2)
        if mid_ele[i] > geography.tunnel_min_peak_m and mid_ele[i] >= mid_ele[start:stop][near].max():
            peaks.append(i)
    return peaks


def _label_valley_bridges(geography: Geography, corridor: Corridor, kinds: list[str], cum_km: np.ndarray,
                          mid_ele: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> None:
    """Bridges where a mountain road crosses a valley: the lowest point within `valley_bridge_spacing_km`."""
    if not math.isfinite(geography.valley_bridge_spacing_km):
        return
    mid_km = (cum_km[:-1] + cum_km[1:]) / 2
    half = geography.valley_bridge_spacing_km / 2
    for i in range(1, len(mid_ele) - 1):
        near = np.abs(mid_km - mid_km[i]) <= half
        if kinds[i].startswith("mountain:") and mid_ele[i] <= mid_ele[near].min():
            where = _nearest_waypoint(corridor, float(lon[i]), float(lat[i]))
            for j in np.flatnonzero(np.abs(mid_km - mid_km[i]) <= VALLEY_BRIDGE_KM / 2):
                if kinds[j].startswith("mountain:"):
                    kinds[j] = f"bridge:{where}{int(mid_km[i])}号特大桥"


def _label_mountain_run(geography: Geography, kinds: list[str], start: int, stop: int, cum_km: np.ndarray,
                        mid_ele: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> None:
    top = start + int(np.argmax(mid_ele[start:stop]))
    name = _nearest_mountain(geography, float(lon[top]), float(lat[top]))
    for i in range(start, stop):
        kinds[i] = f"mountain:{name}:{int((cum_km[i] - cum_km[start]) // MOUNTAIN_CHUNK_KM)}"
    mid_km = (cum_km[:-1] + cum_km[1:]) / 2
    for peak in _tunnel_peaks(geography, start, stop, mid_km, mid_ele):
        tunnel = _nearest_mountain(geography, float(lon[peak]), float(lat[peak]))
        for i in range(start, stop):
            if abs(mid_km[i] - mid_km[peak]) <= TUNNEL_KM / 2:
                kinds[i] = f"tunnel:{tunnel}隧道" if math.isinf(geography.tunnel_spacing_km) \
                    else f"tunnel:{tunnel}{int(mid_km[peak])}号隧道"


def build_network(seed: int, refs: tuple[str, ...] | None = None, lat_range: tuple[float, float] | None = None,
                  geography: Geography = CENTRAL_CHINA) -> list[dict]:
    """GeoJSON features for all corridors of the world or `refs`, cropped to `lat_range`."""
    features: list[dict] = []
    for corridor in geography.corridors:
        if refs is not None and corridor.ref not in refs:
            continue
        lon, lat, provinces = densify_corridor(corridor, seed)
        spans = bridge_spans(corridor.ref, lon, lat, provinces)
        lon, lat, provinces = with_span_vertices(lon, lat, provinces, spans)
        ele = road_elevation_m(geography, corridor, lon, lat, seed)
        kinds = piece_kinds(geography, corridor, lon, lat, ele, spans)
        keep = np.ones(len(kinds), dtype=bool)
        if lat_range is not None:
            mid_lat = (lat[:-1] + lat[1:]) / 2
            keep = (mid_lat >= lat_range[0]) & (mid_lat <= lat_range[1])
        for first, last in _runs([(provinces[i], kinds[i]) if keep[i] else None for i in range(len(kinds))]):
            features.append(_feature(corridor, len([f for f in features if f["properties"]["ref"] == corridor.ref]),
                                     lon[first:last + 2], lat[first:last + 2], ele[first:last + 2],
                                     provinces[first], kinds[first]))
    return features


def _runs(keys: list) -> list[tuple[int, int]]:
    """(first, last) index of each run of equal, non-None keys."""
    runs = []
    first = None
    for i, key in enumerate([*keys, None]):
        if first is not None and (key is None or key != keys[first]):
            runs.append((first, i - 1))
            first = None
        if key is not None and first is None:
            first = i
    return runs


def _feature(corridor: Corridor, number: int, lon: np.ndarray, lat: np.ndarray, ele: np.ndarray,
             province: str, kind: str) -> dict:
    """One GeoJSON feature with OSM tags."""
    props: dict = {
        "id": f"{corridor.ref}-{number + 1:03d}",
        "ref": corridor.ref,
        "name": corridor.name,
        "highway": "motorway",
        "lanes": corridor.lanes,
        "maxspeed": str(corridor.maxspeed_kmh),
        "oneway": "no",
        "admin": province,
        "aadt": corridor.aadt[province],
        "ele": round(float(np.mean(ele))),
    }
    length_km = float(np.sum(distance_km(lon[:-1], lat[:-1], lon[1:], lat[1:])))
    category, _, label = kind.partition(":")
    if category == "bridge":
        props.update({"bridge": "yes", "bridge:name": label})
    elif category == "osm-bridge":
        name, _, ids = label.partition("|")
        props.update({"bridge": "yes", "bridge:name": name, "osm_id": ids, "source:bridge": "OpenStreetMap",
                      "attribution": ATTRIBUTION})
    elif category in ("tunnel", "mountain"):
        incline = (ele[-1] - ele[0]) / (length_km * 1000.0) * 100.0
        props.update({"incline": f"{incline:.1f}%", "maxspeed": str(MOUNTAIN_MAXSPEED_KMH)})
        if category == "tunnel":
            props.update({"tunnel": "yes", "tunnel:name": label})
    props["synthetic"] = "yes"
    coords = [[round(float(x), 6), round(float(y), 6)] for x, y in zip(lon, lat, strict=True)]
    return {"type": "Feature", "properties": props, "geometry": {"type": "LineString", "coordinates": coords}}


def write_roads_geojson(features: list[dict], path: Path, title: str = "wxrisk demo world") -> Path:
    """Write the FeatureCollection, flagged synthetic (with the OSM attribution when it carries OSM bridges);
    same features, same bytes."""
    collection = {"type": "FeatureCollection", "wxrisk:synthetic": True, "name": f"{title}: roads"}
    if any("osm_id" in f["properties"] for f in features):
        collection["attribution"] = ATTRIBUTION
    collection["features"] = features
    path.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    return path
