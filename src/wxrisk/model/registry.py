"""The model registry: one folder per version under `settings.models_dir`, and a champion pointer.

```
models/
  CHAMPION                      {"version": ..., "promoted_at": ..., "reason": ...} (replaced atomically)
  <version>/model.txt           LightGBM segment trees of the risk model (any incident)
  <version>/region.txt          LightGBM Poisson model of the region's incidents per hour (absent when
                                no input is the same on every segment)
  <version>/calibrator.json     its calibration (cross-fitted by winter)
  <version>/share.txt           LightGBM ice/snow share model (absent when the history has too few)
  <version>/share_calibrator.json
  <version>/yardstick.txt       the plain yardstick (any incident), for `wxrisk evaluate`
  <version>/yardstick_ice.txt   the plain yardstick (ice/snow incidents)
  <version>/meta.json           features (full specs) and feature-list version, the hour-of-week
                                offset, winters used for trees / calibration / evaluation,
                                rolling-origin metrics with the yardstick and baselines, data hashes,
                                seed, parameters
  <version>/card.md             the model card, generated for every version
```
A version folder is written under a temporary name and renamed into place, so a reader never
sees half a version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from wxrisk.config import Settings, WxriskError
from wxrisk.features.spec import FeatureSpec
from wxrisk.model.calibrate import Calibrator
from wxrisk.model.exposure import WeekProfile
from wxrisk.vocab import atomic_write_text

CHAMPION = "CHAMPION"


@dataclass(frozen=True)
class FeatureBlock:
    """Feature columns as one float32 block (len(names), rows), e.g. `FeatureTable.block`: a model's
    inputs are taken from it directly, without a DataFrame round trip."""

    block: np.ndarray
    names: tuple[str, ...]

    def rows(self, first: int, stop: int) -> FeatureBlock:
        return FeatureBlock(self.block[:, first:stop], self.names)

    def matrix(self, names: list[str], rows: np.ndarray | None = None) -> np.ndarray:
        """(rows, names) float32, C-contiguous (what LightGBM reads fastest); `rows` selects rows."""
        position = {name: i for i, name in enumerate(self.names)}
        _require_columns(names, position)
        block = self.block if rows is None else self.block[:, rows]
        return np.ascontiguousarray(np.take(block.T, [position[n] for n in names], axis=1))


def _require_columns(names: list[str], available) -> None:
    missing = [n for n in names if n not in available]
    if missing:
        raise WxriskError(f"features: missing column(s) the model needs: {', '.join(missing)}")


def feature_matrix(frame: pd.DataFrame, names: list[str], block: FeatureBlock | None = None) -> np.ndarray:
    """The model's columns `names`, in its order, as a float32 matrix (NaN for missing values), from
    `block` when given, else from the frame's columns."""
    if block is not None:
        return block.matrix(names)
    _require_columns(names, frame.columns)
    return np.ascontiguousarray(frame[names].to_numpy(dtype="float32", na_value=np.nan))


@dataclass
class LoadedModel:
    """A registered version, ready to score feature frames (`segment_id`, `valid_time`, features)."""

    version: str
    path: Path
    booster: lgb.Booster
    calibrator: Calibrator
    specs: list[FeatureSpec]
    meta: dict
    share: lgb.Booster | None = None
    share_calibrator: Calibrator | None = None
    region: lgb.Booster | None = None
    yardsticks: dict[str, lgb.Booster] = field(default_factory=dict)

    @property
    def tree_names(self) -> list[str]:
        """The inputs of the risk model's segment trees (`booster`), in its order."""
        return [s.name for s in self.specs]

    @property
    def region_names(self) -> list[str]:
        return list((self.meta.get("region") or {}).get("features", []) if self.region is not None else [])

    @property
    def input_specs(self) -> list[FeatureSpec]:
        """Every input some model of the version uses (segment trees, region rate, share), in catalog order."""
        used = set(self.tree_names) | set(self.region_names) | set(self.share_features)
        return [s for s in specs_from_json(self.meta.get("inputs", self.meta["features"])) if s.name in used]

    @property
    def feature_names(self) -> list[str]:
        """Every input column the version reads (`input_specs`), in catalog order: what a caller passes."""
        return [s.name for s in self.input_specs]

    def parts(self) -> list[tuple[lgb.Booster, list[str]]]:
        """(booster, its input names) of every model adding to the log scale of `ice_risk`."""
        found = [(self.booster, self.tree_names)]
        if self.region is not None:
            found.append((self.region, self.region_names))
        if self.share is not None:
            found.append((self.share, self.share_features))
        return found

    @property
    def share_features(self) -> list[str]:
        return list((self.meta.get("share") or {}).get("features", []))

    def region_log_rate(self, frame: pd.DataFrame, block: FeatureBlock | None = None) -> np.ndarray:
        """ln E[incidents in the region in the hour] + the segment scale, per row (`wxrisk.model.region`)."""
        region = self.meta["region"]
        log_rate = WeekProfile.from_json(region["profile"]).log_rate(frame["valid_time"].to_numpy())
        if self.region is not None:
            log_rate = log_rate + self.region.predict(feature_matrix(frame, region["features"], block), raw_score=True,
                                                      num_threads=0)
        return log_rate + region["segment_scale"]

    def margin(self, frame: pd.DataFrame, block: FeatureBlock | None = None) -> np.ndarray:
        """The risk model's raw log-odds: the region's hourly rate plus the segment trees.

        `block`: the frame's feature columns as a FeatureBlock (rows in the frame's order), read instead
        of the frame's columns; `frame` then only gives `valid_time`."""
        trees = self.booster.predict(feature_matrix(frame, self.tree_names, block), raw_score=True, num_threads=0)
        return self.region_log_rate(frame, block) + trees

    def risk(self, frame: pd.DataFrame, block: FeatureBlock | None = None) -> np.ndarray:
        """Calibrated P(at least one incident on the segment in the hour) per row [0-1]."""
        return np.clip(self.calibrator.apply_margin(self.margin(frame, block)), 0.0, 1.0)

    def ice_share(self, frame: pd.DataFrame, block: FeatureBlock | None = None) -> np.ndarray:
        """Calibrated P(an incident there and then is an ice/snow one) per row [0-1]; NaN without a share model."""
        if self.share is None or self.share_calibrator is None:
            return np.full(len(frame), np.nan)
        raw = self.share.predict(feature_matrix(frame, self.share_features, block), raw_score=True, num_threads=0)
        return np.clip(self.share_calibrator.apply_margin(raw), 0.0, 1.0)

    def ice_risk(self, frame: pd.DataFrame, risk: np.ndarray | None = None,
                 block: FeatureBlock | None = None) -> np.ndarray:
        """Calibrated P(at least one ice/snow incident) = risk x ice share per row [0-1]."""
        return (self.risk(frame, block) if risk is None else risk) * self.ice_share(frame, block)

    def yardstick(self, frame: pd.DataFrame, label: str = "label") -> np.ndarray | None:
        """The plain yardstick's probability for `label` (label / ice_label); None if not stored."""
        booster = self.yardsticks.get(label)
        if booster is None:
            return None
        from wxrisk.model.learners import undo_thinning

        rate = float(self.meta.get("sampling", {}).get("rate", 1.0))
        return undo_thinning(booster.predict(feature_matrix(frame, booster.feature_name()), num_threads=0), rate)


@dataclass(frozen=True)
class VersionInfo:
    version: str
    created_at: str
    champion: bool
    training_window: dict
    test_pr_auc: float | None


def feature_list_version(specs: list[FeatureSpec]) -> str:
    """A short hash of the feature list (names, units, directions), changing when it changes."""
    text = json.dumps([[s.name, s.unit, s.monotone] for s in specs])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def specs_to_json(specs: list[FeatureSpec]) -> list[dict]:
    return [asdict(s) for s in specs]


def specs_from_json(items: list[dict]) -> list[FeatureSpec]:
    return [FeatureSpec(**item) for item in items]


def new_version_name(models_dir: Path, model_text: str, now: datetime | None = None) -> str:
    """`YYYYMMDDTHHMMSSZ-<model hash>`, with a counter if that folder exists already."""
    now = now or datetime.now(UTC)
    base = f"{now:%Y%m%dT%H%M%SZ}-{hashlib.sha256(model_text.encode()).hexdigest()[:8]}"
    name, n = base, 1
    while (models_dir / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


BOOSTER_FILES = {"model": "model.txt", "region": "region.txt", "share": "share.txt", "yardstick": "yardstick.txt",
                 "yardstick_ice": "yardstick_ice.txt"}
CALIBRATOR_FILES = {"calibrator": "calibrator.json", "share_calibrator": "share_calibrator.json"}
YARDSTICK_LABELS = {"yardstick": "label", "yardstick_ice": "ice_label"}


def save_version(settings: Settings, boosters: dict[str, lgb.Booster | None],
                 calibrators: dict[str, Calibrator | None], meta: dict) -> Path:
    """Write a new version folder (models, calibrators, meta, card); `meta["version"]` is set here.

    `boosters` by BOOSTER_FILES key ("model" required), `calibrators` by CALIBRATOR_FILES key.
    """
    from wxrisk.model.card import render_card

    models_dir = settings.models_dir
    models_dir.mkdir(parents=True, exist_ok=True)
    texts = {key: booster.model_to_string() for key, booster in boosters.items() if booster is not None}
    version = new_version_name(models_dir, texts["model"])
    meta = {**meta, "version": version}
    tmp = models_dir / f".{version}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for key, text in texts.items():
        (tmp / BOOSTER_FILES[key]).write_text(text, encoding="utf-8")
    for key, calibrator in calibrators.items():
        if calibrator is not None:
            (tmp / CALIBRATOR_FILES[key]).write_text(json.dumps(calibrator.to_json(), indent=1), encoding="utf-8")
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    (tmp / "card.md").write_text(render_card(meta), encoding="utf-8")
    final = models_dir / version
    os.replace(tmp, final)
    return final


def champion_version(settings: Settings) -> str | None:
    pointer = settings.models_dir / CHAMPION
    if not pointer.exists():
        return None
    return json.loads(pointer.read_text(encoding="utf-8"))["version"]


def set_champion(settings: Settings, version: str, reason: str) -> None:
    """Make `version` the champion (the pointer file is replaced atomically)."""
    if not (settings.models_dir / version / "model.txt").exists():
        raise WxriskError(f"{settings.models_dir / version}: no such model version")
    record = {"version": version, "promoted_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "reason": reason}
    atomic_write_text(settings.models_dir / CHAMPION, json.dumps(record, ensure_ascii=False))


def resolve_version(settings: Settings, version: str = "champion") -> str:
    if version != "champion":
        return version
    champion = champion_version(settings)
    if champion is None:
        raise WxriskError(f"{settings.models_dir}: no champion model yet (run `wxrisk train --promote`)")
    return champion


def load_model(settings: Settings, version: str = "champion") -> LoadedModel:
    """Load a version (or the champion) from the registry."""
    version = resolve_version(settings, version)
    folder = settings.models_dir / version
    if not (folder / "model.txt").exists():
        raise WxriskError(f"{folder}: no such model version (see `list_versions`)")
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    boosters = {key: lgb.Booster(model_file=str(folder / name)) for key, name in BOOSTER_FILES.items()
                if (folder / name).exists()}
    calibrators = {key: Calibrator.from_json(json.loads((folder / name).read_text(encoding="utf-8")))
                   for key, name in CALIBRATOR_FILES.items() if (folder / name).exists()}
    return LoadedModel(version, folder, boosters["model"], calibrators["calibrator"], specs_from_json(meta["features"]),
                       meta, boosters.get("share"), calibrators.get("share_calibrator"), boosters.get("region"),
                       {label: boosters[key] for key, label in YARDSTICK_LABELS.items() if key in boosters})


def list_versions(settings: Settings) -> list[VersionInfo]:
    """All versions, oldest first, with the champion marked."""
    if not settings.models_dir.exists():
        return []
    champion = champion_version(settings)
    infos = []
    for meta_path in sorted(settings.models_dir.glob("[!.]*/meta.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        model_metrics = meta.get("metrics", {}).get("model", {})
        infos.append(VersionInfo(meta["version"], meta.get("created_at", ""), meta["version"] == champion,
                                 meta.get("training_window", {}), model_metrics.get("pr_auc")))
    return infos
