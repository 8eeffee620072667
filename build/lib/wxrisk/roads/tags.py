"""OSM tags to segment attributes: one small parser per tag, units converted once here."""

from __future__ import annotations

import math
import re

# Ways that carry motor traffic; everything else (cycleway, footway, path, steps, track,
# waterway, construction, ...) is not a road segment.
ROAD_CLASSES = frozenset({
    "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
    "living_street", "service", "road",
})
KMH_PER_MPH = 1.609344
KMH_PER_KNOT = 1.852
M_PER_FT = 0.3048

_HSTORE_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=>\s*(?:"((?:[^"\\]|\\.)*)"|NULL)')
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_TRUE = frozenset({"yes", "true", "1", "-1", "viaduct", "cantilever", "covered", "building_passage"})
_FALSE = frozenset({"no", "false", "0"})


def parse_hstore(text: str | None) -> dict[str, str]:
    """Tags from a GDAL OSM-driver `other_tags` string (`"maxspeed"=>"30 mph","lit"=>"yes"`)."""
    if not text:
        return {}
    return {
        _unescape(match.group(1)): _unescape(match.group(2))
        for match in _HSTORE_PAIR.finditer(text)
        if match.group(2) is not None
    }


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def is_road(highway: str | None) -> bool:
    """Whether an OSM `highway` value is a road for motor traffic (`*_link` included)."""
    if not highway:
        return False
    return highway.removesuffix("_link") in ROAD_CLASSES


def is_ramp(highway: str | None) -> bool:
    """Whether the way is a slip road / interchange ramp (`*_link`)."""
    return bool(highway) and highway.endswith("_link")


def _first_number(text: str | None) -> float | None:
    if text is None:
        return None
    match = _NUMBER.search(str(text))
    return float(match.group()) if match else None


def parse_maxspeed_kmh(value: str | float | None) -> float | None:
    """Speed limit [km/h] from `120`, `80 km/h`, `30 mph`, `20 knots`; None for `none`, `signals`, ..."""
    if value is None:
        return None
    text = str(value).strip().lower().split(";")[0]
    number = _first_number(text)
    if number is None or number <= 0:
        return None
    if "mph" in text:
        return round(number * KMH_PER_MPH, 1)
    if "knot" in text:
        return round(number * KMH_PER_KNOT, 1)
    return number


def parse_bool(value: str | bool | None) -> bool | None:
    """OSM yes/no style flags; None when absent or unrecognised."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def parse_lanes(value: str | float | None) -> int | None:
    """Number of lanes (`2`, `2;3` -> 2); None when not a positive number."""
    number = _first_number(None if value is None else str(value).split(";")[0])
    return int(number) if number is not None and number >= 1 else None


def parse_elevation_m(value: str | float | None) -> float | None:
    """Elevation [m] from `ele` (`123`, `123 m`, `400 ft`)."""
    number = _first_number(None if value is None else str(value))
    if number is None:
        return None
    return number * M_PER_FT if "ft" in str(value).lower() else number


def parse_grade_pct(value: str | float | None) -> float | None:
    """Absolute longitudinal grade [%] from `incline` (`5%`, `-8%`, `4°`); None for `up`/`down`."""
    number = _first_number(None if value is None else str(value))
    if number is None:
        return None
    if "°" in str(value) or "deg" in str(value).lower():
        return abs(math.tan(math.radians(number)) * 100.0)
    return abs(number)


def parse_float(value: str | float | None) -> float | None:
    """A plain number (e.g. `aadt` [vehicles/day], `12,345` allowed); None when not numeric."""
    return _first_number(None if value is None else str(value).replace(",", ""))
