"""Typed settings: paths, time zone, segmentation and matching tolerances. No I/O at import."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo


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
    extra: dict = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def actions_db_path(self) -> Path:
        """The app's own small database of officers' records (the flows never write it)."""
        return self.data_dir / "actions.duckdb"

    def with_db(self, db_path: str | Path | None) -> Settings:
        return self if db_path is None else replace(self, db_path=Path(db_path))


def load_settings(db_path: str | Path | None = None) -> Settings:
    """Settings from the environment (`WXRISK_DB`, `WXRISK_DATA`, `WXRISK_MODELS`, `WXRISK_TZ`)."""
    data_dir = Path(os.environ.get("WXRISK_DATA", "data"))
    settings = Settings(
        db_path=Path(os.environ.get("WXRISK_DB", data_dir / "wxrisk.duckdb")),
        data_dir=data_dir,
        models_dir=Path(os.environ.get("WXRISK_MODELS", "models")),
        boards_dir=Path(os.environ.get("WXRISK_BOARDS", data_dir / "boards")),
        timezone=os.environ.get("WXRISK_TZ", "Asia/Shanghai"),
    )
    return settings.with_db(db_path)
