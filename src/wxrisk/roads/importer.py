"""The roads importer: a GeoJSON or OSM file -> `segments` of at most `settings.segment_max_km`."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from wxrisk.config import Settings
from wxrisk.roads.reader import RoadFeature, RoadFile, read_roads
from wxrisk.roads.routes import FeatureEnds, assign_routes, route_k_stakes
from wxrisk.roads.segmentation import cut_line
from wxrisk.roads.tags import (
    is_ramp,
    parse_bool,
    parse_elevation_m,
    parse_float,
    parse_grade_pct,
    parse_lanes,
    parse_maxspeed_kmh,
)
from wxrisk.store.ledger import ImportEntry, ImportResult, run_import
from wxrisk.vocab import frame_registered, insert_frame

SEGMENT_COLUMNS = (
    "segment_id", "source", "feature_id", "route_id", "road_ref", "name", "highway", "province", "km_from", "km_to",
    "length_km", "lon", "lat", "path_json", "bridge", "tunnel", "is_ramp", "oneway", "lanes",
    "maxspeed_kmh", "elevation_m", "grade_pct", "curvature_deg_per_km", "aadt", "synthetic", "import_id",
)
PATH_DECIMALS = 7  # ~1 cm


def road_attributes(tags: dict[str, str]) -> dict:
    """Segment columns from a way's OSM tags, in canonical units (km/h, m, %, vehicles/day)."""
    return {
        "road_ref": tags.get("ref") or None,
        "name": tags.get("name") or None,
        "highway": tags.get("highway"),
        "province": tags.get("admin") or None,
        "bridge": parse_bool(tags.get("bridge")) is True,
        "tunnel": parse_bool(tags.get("tunnel")) is True,
        "is_ramp": is_ramp(tags.get("highway")),
        "oneway": parse_bool(tags.get("oneway")),
        "lanes": parse_lanes(tags.get("lanes")),
        "maxspeed_kmh": parse_maxspeed_kmh(tags.get("maxspeed")),
        "elevation_m": parse_elevation_m(tags.get("ele")),
        "grade_pct": parse_grade_pct(tags.get("incline")),
        "aadt": parse_float(tags.get("aadt")),
    }


def segment_id(feature_id: str, index: int) -> str:
    """Stable segment id: the feature id and the piece's position along it."""
    return f"{feature_id}-{index:04d}"


def feature_segments(feature: RoadFeature, max_km: float) -> list[dict]:
    """The feature cut into pieces, K-stakes [km] from the feature's first vertex (running on across
    the parts of a MultiLineString)."""
    attributes = road_attributes(feature.tags)
    rows: list[dict] = []
    km_offset = 0.0
    for part in feature.parts:
        for piece in cut_line(part, max_km, km_offset):
            rows.append({
                "segment_id": segment_id(feature.feature_id, len(rows)),
                "feature_id": feature.feature_id,
                **attributes,
                "km_from": piece.km_from,
                "km_to": piece.km_to,
                "lon": piece.lon_mid,
                "lat": piece.lat_mid,
                "path_json": json.dumps(np.round(piece.path, PATH_DECIMALS).tolist()),
                "curvature_deg_per_km": round(piece.curvature_deg_per_km, 3),
                "synthetic": feature.synthetic,
            })
            km_offset = piece.km_to
    return rows


def feature_ends(feature: RoadFeature, length_km: float) -> FeatureEnds:
    """The feature as route chaining sees it: ref, one-way flag, first and last vertex, length [km]."""
    first, last = feature.parts[0][0], feature.parts[-1][-1]
    return FeatureEnds(feature.feature_id, feature.tags.get("ref") or None,
                       parse_bool(feature.tags.get("oneway")) is True,
                       (float(first[0]), float(first[1])), (float(last[0]), float(last[1])), length_km)


def segments_frame(roads: RoadFile, max_km: float) -> pd.DataFrame:
    """All segments of a file's roads, columns as in `segments` (source and import id left empty).

    K-stakes count from the start of each segment's route (`routes.assign_routes`); segment ids
    and geometry stay per feature.
    """
    rows = [row for feature in roads.roads for row in feature_segments(feature, max_km)]
    frame = pd.DataFrame(rows, columns=[c for c in SEGMENT_COLUMNS if c not in ("source", "import_id")])
    feature_km = frame.groupby("feature_id", sort=False)["km_to"].max()
    routes = assign_routes([feature_ends(f, float(feature_km[f.feature_id])) for f in roads.roads])
    placed = frame[["feature_id"]].merge(routes, on="feature_id", how="left")
    km_from, km_to = route_k_stakes(frame["km_from"].to_numpy(float), frame["km_to"].to_numpy(float),
                                    placed["offset_km"].to_numpy(float),
                                    frame["feature_id"].map(feature_km).to_numpy(float),
                                    placed["reversed"].to_numpy(bool))
    frame["route_id"] = placed["route_id"].to_numpy()
    frame["km_from"], frame["km_to"] = np.round(km_from, 6), np.round(km_to, 6)
    frame["length_km"] = np.round(frame["km_to"] - frame["km_from"], 6)
    frame["lanes"] = frame["lanes"].astype("Int64")
    frame["oneway"] = frame["oneway"].astype("boolean")
    return frame


def _taken_elsewhere(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, window_key: str) -> pd.DataFrame:
    """Segment ids of `frame` already written by another roads file: feature_id and that source."""
    with frame_registered(con, "new_segment_ids", frame[["segment_id", "feature_id"]]):
        return con.execute(
            "SELECT DISTINCT n.feature_id, s.source FROM new_segment_ids n "
            "JOIN segments s USING (segment_id) WHERE s.source <> ?", [window_key]).df()


def import_roads(con: duckdb.DuckDBPyConnection, settings: Settings, path: str | Path) -> ImportResult:
    """Import a roads file into `segments` (replacing an earlier file of the same name) -> ImportResult."""
    roads = read_roads(path)
    frame = segments_frame(roads, settings.segment_max_km)
    window_key = f"roads:{Path(path).name}"

    def write(entry: ImportEntry) -> None:
        entry.replace_rows("segments")
        rejected = list(roads.rejected)
        clashes = _taken_elsewhere(con, frame, window_key)
        kept = frame
        if len(clashes):
            by_feature = dict(zip(clashes["feature_id"], clashes["source"], strict=True))
            kept = frame[~frame["feature_id"].isin(by_feature)]
            rejected += [(road.number, f"feature id {road.feature_id} already imported from {by_feature[road.feature_id]}",
                          {"feature_id": road.feature_id, **road.tags})
                         for road in roads.roads if road.feature_id in by_feature]
        kept = kept.assign(source=window_key, import_id=entry.import_id)[list(SEGMENT_COLUMNS)]
        insert_frame(con, "segments", kept, SEGMENT_COLUMNS)
        entry.quarantine(sorted(rejected, key=lambda row: row[0]))
        entry.rows_read = roads.features_read
        entry.rows_kept = len(roads.roads) - clashes["feature_id"].nunique()
        entry.details = {
            "segments": len(kept),
            "excluded": dict(sorted(roads.excluded.items())),
            "km": round(float(kept["length_km"].sum()), 3),
            "maxspeed_kmh_known": int(kept["maxspeed_kmh"].notna().sum()),
        }

    return run_import(con, "roads", path, window_key, write)
