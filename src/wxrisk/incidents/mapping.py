"""How an export's columns and codes become the canonical incident columns (CONTRACT.md section 2).

A mapping is a small YAML file; the presets `generic` and `stats19` and the worked example
`leeds` ship in `wxrisk/incidents/mappings/`. Keys:

    columns:           {source header: canonical column}; several headers may map to one column
                       (the first present wins). Canonical: incident_id, occurred_at, date, time,
                       lat, lon, easting, northing, road_ref, road_class, road_number, severity,
                       surface, weather, vehicles, casualties, synthetic
    occurred_format:   strptime format of occurred_at (default ISO 8601)
    date_format:       strptime format of date, e.g. "%d/%m/%Y"
    time_format:       "hhmm" (integer 1812 -> 18:12) or a strptime format such as "%H:%M"
    crs:               CRS of easting/northing, e.g. EPSG:27700
    timezone:          IANA zone of local times (an explicit `tz` argument overrides it)
    casualties_from_rows: true when the file has one row per casualty
    null_values:       {canonical column: [values meaning "none"]}
    codes:             {severity|surface|weather: {source value: canonical value}}
    road_ref_formats:  {road_class code: format with {number}}, to build road_ref
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from wxrisk.config import WxriskError

CANONICAL_COLUMNS = frozenset({
    "incident_id", "occurred_at", "date", "time", "lat", "lon", "easting", "northing", "road_ref",
    "road_class", "road_number", "severity", "surface", "weather", "vehicles", "casualties", "synthetic",
})
VOCABULARY = {
    "severity": ("fatal", "serious", "slight", "damage_only"),
    "surface": ("dry", "wet", "snow", "ice", "frost", "slush", "flood", "unknown"),
    "weather": ("clear", "rain", "snow", "freezing_rain", "fog", "wind", "other"),
}
PRESETS = ("generic", "stats19", "stats19-decoded")


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file (see the module docstring for the meaning of each field)."""

    name: str
    columns: dict[str, str] = field(default_factory=dict)
    occurred_format: str | None = None
    date_format: str | None = None
    time_format: str | None = None
    crs: str | None = None
    timezone: str | None = None
    casualties_from_rows: bool = False
    null_values: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    road_ref_formats: dict[str, str] = field(default_factory=dict)

    def sources_for(self, canonical: str) -> list[str]:
        """Source headers that feed a canonical column, the canonical name itself last."""
        return [source for source, target in self.columns.items() if target == canonical] + [canonical]


def load_mapping(preset: str = "generic", mapping: str | Path | None = None) -> Mapping:
    """The mapping file given (a path, or the name of a bundled one), else the preset's."""
    if mapping is None:
        if preset not in PRESETS:
            raise WxriskError(f"{preset}: unknown incidents preset (use one of {', '.join(PRESETS)})")
        return parse_mapping(preset, _bundled(preset).read_text(encoding="utf-8"))
    path = Path(mapping)
    if path.is_file():
        return parse_mapping(str(path), path.read_text(encoding="utf-8"))
    bundled = _bundled(str(mapping))
    if bundled.is_file():
        return parse_mapping(str(mapping), bundled.read_text(encoding="utf-8"))
    raise WxriskError(f"{mapping}: no such mapping file")


def _bundled(name: str):
    return resources.files("wxrisk.incidents") / "mappings" / f"{name}.yaml"


def parse_mapping(name: str, text: str) -> Mapping:
    """A Mapping from YAML text; unknown keys or canonical columns raise WxriskError naming `name`."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise WxriskError(f"{name}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise WxriskError(f"{name}: a mapping file is a YAML dictionary")
    known = set(Mapping.__dataclass_fields__) - {"name"} | {"description"}
    if unknown := sorted(set(data) - known):
        raise WxriskError(f"{name}: unknown mapping keys {unknown}")
    columns = {str(k): str(v) for k, v in (data.get("columns") or {}).items()}
    if wrong := sorted(set(columns.values()) - CANONICAL_COLUMNS):
        raise WxriskError(f"{name}: {wrong} are not canonical incident columns")
    codes = {str(col): {code_key(k): str(v) for k, v in table.items()}
             for col, table in (data.get("codes") or {}).items()}
    for col, table in codes.items():
        allowed = VOCABULARY.get(col)
        if allowed is None:
            raise WxriskError(f"{name}: codes given for {col}, which takes no codes")
        if bad := sorted(set(table.values()) - set(allowed) - {"none"}):
            raise WxriskError(f"{name}: {col} codes map to {bad}, not one of {list(allowed)}")
    return Mapping(
        name=name,
        columns=columns,
        occurred_format=data.get("occurred_format"),
        date_format=data.get("date_format"),
        time_format=data.get("time_format"),
        crs=data.get("crs"),
        timezone=data.get("timezone"),
        casualties_from_rows=bool(data.get("casualties_from_rows", False)),
        null_values={str(k): [str(v) for v in vs] for k, vs in (data.get("null_values") or {}).items()},
        codes=codes,
        road_ref_formats={code_key(k): str(v) for k, v in (data.get("road_ref_formats") or {}).items()},
    )


def code_key(value: object) -> str:
    """A code as matched against file values: `1`, `1.0` and ` 1 ` all become `1`."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text.lower()
    return str(int(number)) if number.is_integer() else text
