"""Real bridges on the demo's G3 and G42 in Anhui, from OpenStreetMap.

Bridge data © OpenStreetMap contributors, available under the Open Database Licence 1.0
(https://www.openstreetmap.org/copyright); the subset shipped in `data/` is a derived database
under the same licence. Every map or document that shows these bridges carries `ATTRIBUTION`.

An OSM bridge line (`highway=motorway`, `bridge=yes`) whose `ref` names the corridor and whose both
ends lie within `SNAP_KM` of the demo line falls on it: its ends are projected onto the line and the
span between them becomes a bridge feature (the two carriageways, and decks closer than
`MERGE_GAP_KM`, make one). Regenerate the shipped subset from the full export with
`python -m wxrisk.scenario.osm_bridges anhui_bridges_osm_20240322.geojson`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import shapely

from wxrisk.roads.matching import normalise_ref

OSM_BRIDGES_FILE = "anhui_bridges_g3_g42_osm.geojson"
OSM_REFS = ("G3", "G42")
OSM_PROVINCE = "安徽"
SNAP_KM = 1.5
MERGE_GAP_KM = 0.05
KEPT_TAGS = ("@id", "ref", "name", "bridge:name", "layer", "lanes", "start_date")
ATTRIBUTION = "Bridges in Anhui © OpenStreetMap contributors, ODbL 1.0 (openstreetmap.org/copyright)"
KM_PER_DEG = 111.2


@dataclass(frozen=True)
class BridgeSpan:
    """A real bridge on the demo line: along-line K-stakes [km], its OSM name (if any) and way ids."""

    km_from: float
    km_to: float
    name: str | None
    osm_ids: tuple[str, ...]


@lru_cache(maxsize=1)
def shipped_bridges() -> tuple[dict, ...]:
    """The OSM bridge features shipped with the package."""
    text = resources.files("wxrisk.scenario").joinpath("data", OSM_BRIDGES_FILE).read_text(encoding="utf-8")
    return tuple(json.loads(text)["features"])


def _along(lon: np.ndarray, lat: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position along the line [km from its first vertex] and distance from it [km] of points (n, 2)."""
    coslat = np.cos(np.radians(float(lat[0])))     # the first vertex: inserting vertices keeps the frame
    line = shapely.LineString(np.column_stack([lon * coslat, lat]))
    pts = shapely.points(points[:, 0] * coslat, points[:, 1])
    return np.asarray(line.project(pts)) * KM_PER_DEG, np.asarray(shapely.distance(line, pts)) * KM_PER_DEG


def bridge_spans(ref: str, lon: np.ndarray, lat: np.ndarray, provinces: list[str],
                 bridges: tuple[dict, ...] | None = None) -> list[BridgeSpan]:
    """The OSM bridges of `ref` that fall on the densified line (lon, lat; province per piece), in order."""
    if ref not in OSM_REFS:
        return []
    spans = []
    for feature in shipped_bridges() if bridges is None else bridges:
        props = feature["properties"]
        if ref not in normalise_ref(props.get("ref")):
            continue
        coords = np.asarray(feature["geometry"]["coordinates"], dtype=float)
        along_km, off_km = _along(lon, lat, coords[[0, -1]])
        piece = min(int(np.searchsorted(_cum_km(lon, lat), along_km.mean())), len(provinces)) - 1
        if (off_km <= SNAP_KM).all() and provinces[max(piece, 0)] == OSM_PROVINCE and np.ptp(along_km) > 0:
            spans.append(BridgeSpan(float(along_km.min()), float(along_km.max()), props.get("bridge:name"),
                                    (props["@id"],)))
    return merge_spans(spans)


def _cum_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Along-line distance of each vertex [km], in the same local frame as `_along`."""
    coslat = np.cos(np.radians(float(lat[0])))     # the first vertex: inserting vertices keeps the frame
    return np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(lon) * coslat, np.diff(lat)))]) * KM_PER_DEG


def with_span_vertices(lon: np.ndarray, lat: np.ndarray, provinces: list[str], spans: list[BridgeSpan]
                       ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The line with a vertex at each end of each span (so a bridge is exactly its own pieces)."""
    cum = _cum_km(lon, lat)
    cuts = np.array(sorted({k for s in spans for k in (s.km_from, s.km_to)} - set(cum.tolist())))
    if len(cuts) == 0:
        return lon, lat, provinces
    at = np.concatenate([cum, cuts])
    order = np.argsort(at, kind="stable")
    new_lon = np.round(np.interp(at, cum, lon)[order], 6)
    new_lat = np.round(np.interp(at, cum, lat)[order], 6)
    piece_of = np.clip(np.searchsorted(cum, at[order], side="right") - 1, 0, len(provinces) - 1)
    keep = np.concatenate([[True], np.hypot(np.diff(new_lon), np.diff(new_lat)) > 0])
    return new_lon[keep], new_lat[keep], [provinces[i] for i in piece_of[keep]][:int(keep.sum()) - 1]


def span_of_pieces(lon: np.ndarray, lat: np.ndarray, spans: list[BridgeSpan]) -> list[BridgeSpan | None]:
    """The span each piece (consecutive vertices) lies in, or None."""
    cum = _cum_km(lon, lat)
    mids = (cum[:-1] + cum[1:]) / 2
    found: list[BridgeSpan | None] = [None] * len(mids)
    for span in spans:
        for i in np.flatnonzero((mids > span.km_from) & (mids < span.km_to)):
            found[i] = span
    return found


def merge_spans(spans: list[BridgeSpan]) -> list[BridgeSpan]:
    """Overlapping spans, or spans closer than MERGE_GAP_KM, as one bridge (ids joined, first name kept)."""
    merged: list[BridgeSpan] = []
    for span in sorted(spans, key=lambda s: (s.km_from, s.km_to)):
        if merged and span.km_from <= merged[-1].km_to + MERGE_GAP_KM:
            last = merged[-1]
            merged[-1] = BridgeSpan(last.km_from, max(last.km_to, span.km_to), last.name or span.name,
                                    tuple(sorted(set(last.osm_ids) | set(span.osm_ids))))
        else:
            merged.append(span)
    return merged


def select_bridges(source: Path) -> dict:
    """The subset of a full OSM bridge export (GeoJSON) that falls on the demo's G3 and G42 in Anhui."""
    from wxrisk.scenario.geography import CORRIDORS
    from wxrisk.scenario.roads import densify_corridor

    collection = json.loads(Path(source).read_text(encoding="utf-8"))
    kept = []
    for corridor in CORRIDORS:
        if corridor.ref not in OSM_REFS:
            continue
        lon, lat, provinces = densify_corridor(corridor, 2024)
        ids = {i for span in bridge_spans(corridor.ref, lon, lat, provinces, tuple(collection["features"]))
               for i in span.osm_ids}
        kept += [f for f in collection["features"] if f["properties"]["@id"] in ids]
    unique = {f["properties"]["@id"]: f for f in kept}
    features = [{"type": "Feature", "properties": {k: f["properties"][k] for k in KEPT_TAGS if k in f["properties"]},
                 "geometry": f["geometry"]} for _, f in sorted(unique.items())]
    return {"type": "FeatureCollection", "name": "OpenStreetMap expressway bridges on the demo's G3 and G42 in Anhui",
            "attribution": ATTRIBUTION, "license": "ODbL-1.0", "source": f"{Path(source).name} (export of 2024-03-22)",
            "features": features}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the shipped subset of OSM bridges from a full export.")
    parser.add_argument("source", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data" / OSM_BRIDGES_FILE)
    args = parser.parse_args(argv)
    subset = select_bridges(args.source)
    args.out.write_text(json.dumps(subset, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {len(subset['features'])} bridge lines to {args.out}")


if __name__ == "__main__":
    main()
