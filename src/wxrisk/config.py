"""Typed settings from defaults, a config file and the environment. No I/O at import.

Where a value comes from, later winning: the defaults below -> the config file (`--config FILE`,
else `WXRISK_CONFIG`, else `wxrisk.toml` beside the database) -> environment variables
(`WXRISK_TZ`, `WXRISK_MODELS`, `WXRISK_BOARDS`, `WXRISK_DASK_ADDRESS`). Every option a file may
set is listed in `OPTIONS` (and so in `wxrisk --help` and docs/configuration.md); anything else
in the file is an error of one line naming the file and the option.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CONFIG_NAME = "wxrisk.toml"
STALE_FORECAST_HOURS = 12.0  # a forecast issued longer ago than two 6-hourly cycles is stale [h]


class WxriskError(Exception):
    """An error caused by input or state the user can fix; the CLI prints it as one line."""


@dataclass(frozen=True)
class Settings:
    """Where things live and the tunable constants of the pipeline."""

    db_path: Path = Path("data/wxrisk.duckdb")
    data_dir: Path = Path("data")
    models_dir: Path = Path("models")
    boards_dir: Path = Path("data/boards")
    timezone: str = "Asia/Shanghai"
    segment_max_km: float = 1.0
    match_tolerance_m: float = 100.0
    board_hours: int = 72
    # A station/point serves segments at most this far [km]: about one ERA5 grid cell (0.25° is
    # 28 km north-south); a reanalysis point resolves nothing finer, and one gauge's hourly
    # precipitation says little about a road much farther away. `import weather --max-km` overrides.
    station_reach_km: float = 25.0
    board_rules: Path | None = None  # tier and stretch rules (default: the packaged tiers.yaml)
    playbook: Path | None = None  # measures playbook (default: the packaged playbook.yaml)
    stale_forecast_hours: float = STALE_FORECAST_HOURS
    tile_segments: int = 16_384  # segments scored together; bounds a run's working memory
    duckdb_memory: str = "1GB"  # most memory DuckDB keeps during a board run
    dask_address: str | None = None  # a Dask scheduler for `--dask` (else a local cluster)
    config_path: Path | None = None  # the config file these settings were read from
    extra: dict = field(default_factory=dict)  # rooms' own sections of the config file: "model", "http"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def actions_db_path(self) -> Path:
        """The app's own small database of officers' records (the flows never write it)."""
        return self.data_dir / "actions.duckdb"

    def with_db(self, db_path: str | Path | None) -> Settings:
        return self if db_path is None else replace(self, db_path=Path(db_path))


@dataclass(frozen=True)
class Option:
    """One setting a config file may hold: `section.name`, its type, default and meaning."""

    key: str
    kind: type
    default: object
    help: str
    env: str | None = None


# The options of the config file. `model.*` mirror wxrisk.model.train.TrainConfig and `http.*`
# wxrisk.sources.http.HttpPolicy (tests keep them equal).
OPTIONS: tuple[Option, ...] = (
    Option("timezone", str, "Asia/Shanghai", "local time zone of calendar features, the board and exports",
           "WXRISK_TZ"),
    Option("paths.models", Path, "models", "model registry folder", "WXRISK_MODELS"),
    Option("paths.boards", Path, None, "published board snapshots (default: the data folder's boards/)",
           "WXRISK_BOARDS"),
    Option("roads.segment_max_km", float, 1.0, "longest road segment [km]"),
    Option("incidents.match_tolerance_m", float, 100.0, "farthest an incident may lie from its segment [m]"),
    Option("weather.station_reach_km", float, 25.0, "farthest a weather station or point serves a segment [km]"),
    Option("board.hours", int, 72, "hours ahead of the scheduled daily board [h]"),
    Option("board.rules", Path, None, "tier and stretch rules YAML (default: the packaged tiers.yaml)"),
    Option("board.playbook", Path, None, "measures playbook YAML (default: the packaged playbook.yaml)"),
    Option("board.stale_forecast_hours", float, STALE_FORECAST_HOURS,
           "a forecast issued longer ago than this is flagged stale [h]"),
    Option("scoring.tile_segments", int, 16_384, "segments scored together: about 60 kB of memory a segment "
           "for a 72 h board, two tiles at a time"),
    Option("scoring.duckdb_memory", str, "1GB", "most memory DuckDB keeps during a board run (e.g. 2GB)"),
    Option("scoring.dask_address", str, None, "Dask scheduler for --dask, e.g. tcp://host:8786",
           "WXRISK_DASK_ADDRESS"),
    Option("model.target_rows", int, 150_000, "segment-hours built for training, all winters (thinned, weighted back)"),
    Option("model.rounds_max", int, 300, "most boosting rounds tried on the rolling-origin folds"),
    Option("model.learning_rate", float, 0.05, "LightGBM learning rate"),
    Option("model.min_data_in_leaf", int, 200, "fewest rows in a leaf of the risk trees (capped at 2 % of the rows)"),
    Option("model.lambda_l2", float, 1.0, "L2 regularisation"),
    Option("model.share_rounds_max", int, 200, "most boosting rounds of the ice/snow share model"),
    Option("model.share_min_data_in_leaf", int, 20, "fewest incidents in a leaf of the ice/snow share model"),
    Option("model.calibration", str, "platt", "platt or isotonic"),
    Option("model.num_threads", int, 2, "LightGBM threads"),
    Option("http.connect_timeout_s", float, 10.0, "time allowed to open a connection [s]"),
    Option("http.read_timeout_s", float, 60.0, "time allowed between bytes of an answer [s]"),
    Option("http.max_attempts", int, 4, "attempts per request, the first included"),
    Option("http.backoff_s", float, 2.0, "wait after the first failed attempt, doubled after each [s]"),
    Option("http.request_interval_s", float, 0.0, "pause between consecutive requests [s]"),
)
OPTIONS_BY_KEY = {option.key: option for option in OPTIONS}
ROOM_SECTIONS = ("model", "http")  # kept as dicts in Settings.extra, read by their rooms


def options_help() -> str:
    """Every config-file option, one line each (for `wxrisk --help` and the docs)."""
    lines = []
    for option in OPTIONS:
        default = "" if option.default is None else f" (default {option.default})"
        env = f" [env {option.env}]" if option.env else ""
        lines.append(f"{option.key} ({option.kind.__name__}){default}: {option.help.strip()}{env}")
    return "\n".join(lines)


def _checked(path: Path, option: Option, value) -> object:
    """The value converted to the option's type, or a one-line error naming file and option."""
    kind = option.kind
    ok = (isinstance(value, bool) if kind is bool else
          isinstance(value, int) and not isinstance(value, bool) if kind is int else
          isinstance(value, int | float) and not isinstance(value, bool) if kind is float else
          isinstance(value, str))
    if not ok:
        expected = {bool: "true or false", int: "a whole number", float: "a number"}.get(kind, "a string")
        raise WxriskError(f"{path}: {option.key} must be {expected}, not {value!r}")
    if kind is Path:
        resolved = (path.parent / value).resolve() if not Path(value).is_absolute() else Path(value)
        if option.key in ("board.rules", "board.playbook") and not resolved.exists():
            raise WxriskError(f"{path}: {option.key} {resolved}: no such file")
        return resolved
    if option.key == "timezone":
        check_timezone(value, f"{path}: timezone")
    if option.key == "scoring.duckdb_memory" and not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value):
        raise WxriskError(f"{path}: scoring.duckdb_memory must be an amount like 1GB or 512MB, not {value!r}")
    if option.key == "model.calibration" and value not in ("platt", "isotonic"):
        raise WxriskError(f"{path}: model.calibration must be platt or isotonic, not {value!r}")
    return float(value) if kind is float else value


def check_timezone(name: str, where: str) -> str:
    """`name` if it is an IANA time zone, else a one-line error."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WxriskError(f"{where} {name!r}: unknown time zone (use an IANA name like Europe/London)") from None
    return name


def read_config(path: Path) -> dict[str, object]:
    """The options set in a config file, by `section.name`, checked and typed."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WxriskError(f"{path}: cannot read config file ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WxriskError(f"{path}: not valid TOML ({exc})") from exc
    values: dict[str, object] = {}
    for key, value in raw.items():
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for name, item in items:
            full = f"{key}.{name}" if name is not None else key
            option = OPTIONS_BY_KEY.get(full)
            if option is None:
                known = ", ".join(o.key for o in OPTIONS)
                raise WxriskError(f"{path}: unknown option {full} (known: {known})")
            values[full] = _checked(path, option, item)
    return values


def config_file(db_path: Path, config: str | Path | None) -> Path | None:
    """The config file to read: `config`, else `WXRISK_CONFIG`, else `wxrisk.toml` beside the database."""
    named = config or os.environ.get("WXRISK_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise WxriskError(f"{path}: no such config file")
        return path
    beside = db_path.parent / CONFIG_NAME
    return beside if beside.is_file() else None


def load_settings(db_path: str | Path | None = None, config: str | Path | None = None) -> Settings:
    """Settings from the defaults, the config file and the environment (see the module docstring).

    The database is `db_path`, else `WXRISK_DB`, else `WXRISK_DATA`/wxrisk.duckdb.
    """
    data_dir = Path(os.environ.get("WXRISK_DATA", "data"))
    db = Path(db_path) if db_path is not None else Path(os.environ.get("WXRISK_DB", data_dir / "wxrisk.duckdb"))
    path = config_file(db, config)
    values = {o.key: o.default for o in OPTIONS} | {"paths.boards": data_dir / "boards"}
    values |= read_config(path) if path else {}
    for option in OPTIONS:
        if option.env and os.environ.get(option.env):
            values[option.key] = option.kind(os.environ[option.env])
    if os.environ.get("WXRISK_TZ"):
        check_timezone(os.environ["WXRISK_TZ"], "WXRISK_TZ")
    return Settings(
        db_path=db, data_dir=data_dir, models_dir=Path(values["paths.models"]), boards_dir=Path(values["paths.boards"]),
        timezone=str(values["timezone"]), segment_max_km=float(values["roads.segment_max_km"]),
        match_tolerance_m=float(values["incidents.match_tolerance_m"]), board_hours=int(values["board.hours"]),
        station_reach_km=float(values["weather.station_reach_km"]),
        board_rules=values["board.rules"], playbook=values["board.playbook"],
        stale_forecast_hours=float(values["board.stale_forecast_hours"]),
        tile_segments=int(values["scoring.tile_segments"]), dask_address=values["scoring.dask_address"],
        duckdb_memory=str(values["scoring.duckdb_memory"]),
        config_path=path,
        extra={section: {k.split(".", 1)[1]: v for k, v in values.items()
                         if k.startswith(f"{section}.") and v != OPTIONS_BY_KEY[k].default}
               for section in ROOM_SECTIONS},
    )
