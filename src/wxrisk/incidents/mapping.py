"""How an export's columns and codes become the canonical incident columns (docs/importers.md).

A mapping is a small YAML file; the presets `generic`, `stats19` and `stats19-decoded` and the
worked examples `leeds` and `police-zh` ship in `wxrisk/incidents/mappings/`. Every key, its
meaning and an example are in docs/importers.md ("Mapping keys"); `MAPPING_KEYS` lists them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from wxrisk.config import WxriskError
from wxrisk.incidents.timezones import check_zone

CANONICAL_COLUMNS = (
    "incident_id", "occurred_at", "date", "time", "hour", "minute", "tz", "lat", "lon", "easting",
    "northing", "road_ref", "road_class", "road_number", "severity", "surface", "weather", "vehicles",
    "casualties", "synthetic",
)
VOCABULARY = {
    "severity": ("fatal", "serious", "slight", "damage_only"),
    "surface": ("dry", "wet", "snow", "ice", "frost", "slush", "flood", "unknown"),
    "weather": ("clear", "rain", "snow", "freezing_rain", "fog", "wind", "other"),
}
PRESETS = ("generic", "stats19", "stats19-decoded")
DUPLICATE_RULES = ("quarantine", "merge")
MAPPING_KEYS = (
    "description", "base", "columns", "optional", "occurred_format", "date_format", "time_format", "crs",
    "timezone", "encoding", "delimiter", "duplicate_ids", "casualties_from_rows", "null_values",
    "codes", "road_ref_formats",
)
_TEXT_KEYS = ("description", "base", "occurred_format", "date_format", "time_format", "crs", "timezone",
              "encoding", "delimiter")


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file (docs/importers.md, "Mapping keys", says what each field means)."""

    name: str
    columns: dict[str, str] = field(default_factory=dict)
    optional: tuple[str, ...] = ()
    occurred_format: str | None = None
    date_format: str | None = None
    time_format: str | None = None
    crs: str | None = None
    timezone: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    duplicate_ids: str = "quarantine"
    casualties_from_rows: bool = False
    null_values: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    road_ref_formats: dict[str, str] = field(default_factory=dict)
    content_sha256: str = ""

    def sources_for(self, canonical: str) -> list[str]:
        """Source headers that feed a canonical column, the canonical name itself last."""
        return [source for source, target in self.columns.items() if target == canonical] + [canonical]

    def mapped_columns(self) -> list[str]:
        """Canonical columns the mapping names, in canonical order."""
        targets = set(self.columns.values())
        return [c for c in CANONICAL_COLUMNS if c in targets]


def load_mapping(preset: str | None = "generic", mapping: str | Path | None = None) -> Mapping:
    """The mapping file given (a path, or the name of a bundled one), else the preset's."""
    if mapping is None:
        preset = preset or "generic"
        if preset not in PRESETS:
            raise WxriskError(f"--preset {preset}: unknown incidents preset (one of {', '.join(PRESETS)}; "
                              "any other layout: --mapping FILE.yaml)")
        return parse_mapping(preset, _bundled(preset).read_text(encoding="utf-8"))
    if preset not in (None, "generic"):
        raise WxriskError(f"--preset {preset} and --mapping {mapping}: give one of them, not both")
    path = Path(mapping)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise WxriskError(f"{path}: a mapping file must be UTF-8 text") from exc
        return parse_mapping(str(path), text)
    bundled = _bundled(str(mapping))
    if "/" not in str(mapping) and bundled.is_file():
        return parse_mapping(str(mapping), bundled.read_text(encoding="utf-8"))
    shipped = sorted(p.name.removesuffix(".yaml") for p in _bundled_folder().iterdir() if p.name.endswith(".yaml"))
    raise WxriskError(f"{mapping}: no such mapping file (nor a shipped mapping: {', '.join(shipped)})")


def _bundled_folder():
    return resources.files("wxrisk.incidents") / "mappings"


def _bundled(name: str):
    return _bundled_folder() / f"{name}.yaml"


def parse_mapping(name: str, text: str) -> Mapping:
    """A Mapping from YAML text; any mistake raises WxriskError naming `name`, the key and what is valid."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise WxriskError(f"{name}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise WxriskError(f"{name}: a mapping file is a YAML dictionary of keys ({', '.join(MAPPING_KEYS)})")
    if unknown := sorted(str(k) for k in set(data) - set(MAPPING_KEYS)):
        raise WxriskError(f"{name}: unknown mapping keys {unknown} (valid keys: {', '.join(MAPPING_KEYS)})")
    for key in _TEXT_KEYS:
        if data.get(key) is not None and not isinstance(data[key], str | int | float):
            raise WxriskError(f"{name}: {key} must be one value (text), not {type(data[key]).__name__}")
    if data.get("base") is not None:
        data = _on_base(name, data)
    columns = _columns(name, data.get("columns"))
    optional = _optional(name, data.get("optional"))
    codes = _codes(name, data.get("codes"))
    duplicate_ids = str(data.get("duplicate_ids") or "quarantine")
    if duplicate_ids not in DUPLICATE_RULES:
        raise WxriskError(f"{name}: duplicate_ids: {duplicate_ids} (use quarantine or merge)")
    casualties_from_rows = _flag(name, "casualties_from_rows", data.get("casualties_from_rows", False))
    if casualties_from_rows and duplicate_ids != "merge":
        raise WxriskError(f"{name}: casualties_from_rows needs duplicate_ids: merge (several rows make one incident)")
    timezone = _text(data.get("timezone"))
    if timezone is not None:
        check_zone(timezone, f"{name}: timezone")
    return Mapping(
        name=name,
        columns=columns,
        optional=optional,
        occurred_format=_text(data.get("occurred_format")),
        date_format=_text(data.get("date_format")),
        time_format=_text(data.get("time_format")),
        crs=_text(data.get("crs")),
        timezone=timezone,
        encoding=_text(data.get("encoding")),
        delimiter=_delimiter(name, data.get("delimiter")),
        duplicate_ids=duplicate_ids,
        casualties_from_rows=casualties_from_rows,
        null_values=_null_values(name, data.get("null_values")),
        codes=codes,
        road_ref_formats=_dictionary(name, "road_ref_formats", data.get("road_ref_formats"),
                                     "{3: 'A{number}'}", code_key),
        content_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


_MERGED_KEYS = ("columns", "null_values", "road_ref_formats")


def _on_base(name: str, data: dict) -> dict:
    """`data` laid over the shipped preset it names as `base` (dictionaries merged key by key)."""
    base_name = str(data["base"])
    if base_name not in PRESETS:
        raise WxriskError(f"{name}: base: {base_name} is not a preset ({', '.join(PRESETS)})")
    base = yaml.safe_load(_bundled(base_name).read_text(encoding="utf-8"))
    merged = {**base, **{k: v for k, v in data.items() if k != "base"}}
    for key in _MERGED_KEYS:
        if isinstance(base.get(key), dict) and isinstance(data.get(key), dict):
            merged[key] = {**base[key], **data[key]}
    if isinstance(base.get("optional"), list) and isinstance(data.get("optional"), list):
        merged["optional"] = base["optional"] + [c for c in data["optional"] if c not in base["optional"]]
    if isinstance(base.get("codes"), dict) and isinstance(data.get("codes"), dict):
        merged["codes"] = {col: {**base["codes"].get(col, {}), **(table or {})} if isinstance(table, dict | None)
                           else table for col, table in {**base["codes"], **data["codes"]}.items()}
    return merged


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _flag(name: str, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise WxriskError(f"{name}: {key} must be true or false, not {value!r}")
    return value


def _dictionary(name: str, key: str, value: object, example: str, key_of=str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WxriskError(f"{name}: {key} must be a dictionary, e.g. {key}: {example} "
                          f"(got a {type(value).__name__})")
    return {key_of(k): str(v) for k, v in value.items()}


def _canonical(name: str, where: str, column: str) -> str:
    if column not in CANONICAL_COLUMNS:
        raise WxriskError(f"{name}: {where}: {column!r} is not a canonical incident column "
                          f"(valid: {', '.join(CANONICAL_COLUMNS)})")
    return column


def _columns(name: str, value: object) -> dict[str, str]:
    columns = _dictionary(name, "columns", value, "{'Reference Number': incident_id, 'Accident Date': date}")
    for source, target in columns.items():
        _canonical(name, f"columns: {source}", target)
    return columns


def _optional(name: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise WxriskError(f"{name}: optional must be a list of canonical columns, e.g. optional: [weather, vehicles]")
    return tuple(_canonical(name, "optional", str(column)) for column in value)


def _null_values(name: str, value: object) -> dict[str, list[str]]:
    table = _dictionary(name, "null_values", value, "{road_ref: ['U', 'C']}")
    if not table:
        return {}
    result = {}
    for column, values in value.items():  # type: ignore[union-attr]
        _canonical(name, "null_values", str(column))
        values = values if isinstance(values, list) else [values]
        result[str(column)] = ["" if v is None else str(v) for v in values]
    return result


def _codes(name: str, value: object) -> dict[str, dict[str, str]]:
    _dictionary(name, "codes", value, "{surface: {1: dry, 2: wet}}")
    codes: dict[str, dict[str, str]] = {}
    for column, table in (value or {}).items():  # type: ignore[union-attr]
        column = str(column)
        allowed = VOCABULARY.get(column)
        if allowed is None:
            raise WxriskError(f"{name}: codes given for {column}, which takes no codes "
                              f"(codes are for {', '.join(VOCABULARY)})")
        codes[column] = _dictionary(name, f"codes: {column}", table, "{1: dry, 2: wet}", code_key)
        if bad := sorted(set(codes[column].values()) - set(allowed) - {"none"}):
            raise WxriskError(f"{name}: codes: {column} map to {bad}, not one of "
                              f"{', '.join(allowed)} (or none for NULL)")
    return codes


def _delimiter(name: str, value: object) -> str | None:
    if value is None:
        return None
    text = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ","}.get(str(value), str(value))
    if len(text) != 1:
        raise WxriskError(f"{name}: delimiter must be one character (',', ';', '|' or tab), not {value!r}")
    return text


def code_key(value: object) -> str:
    """A code as matched against file values: `1`, `1.0` and ` 1 ` all become `1`; labels lower-cased."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text.lower()
    return str(int(number)) if number.is_integer() else text
