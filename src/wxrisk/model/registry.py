"""The model registry: one folder per version under `settings.models_dir`, and a champion pointer.

```
models/
  CHAMPION                 {"version": ..., "promoted_at": ..., "reason": ...} (replaced atomically)
  <version>/model.txt      LightGBM model
  <version>/calibrator.json
  <version>/meta.json      features (full specs) and feature-list version, training window,
                           splits, data hashes, metrics with baselines, seed, parameters
  <version>/card.md        the model card, generated for every version
```
A version folder is written under a temporary name and renamed into place, so a reader never
sees half a version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np

from wxrisk.config import Settings, WxriskError
from wxrisk.features.spec import FeatureSpec
from wxrisk.model.calibrate import Calibrator
from wxrisk.vocab import atomic_write_text

CHAMPION = "CHAMPION"


@dataclass
class LoadedModel:
    """A registered version, ready to score."""

    version: str
    path: Path
    booster: lgb.Booster
    calibrator: Calibrator
    specs: list[FeatureSpec]
    meta: dict

    @property
    def feature_names(self) -> list[str]:
        return [s.name for s in self.specs]

    def risk(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for a feature matrix in `feature_names` order [0-1]."""
        return np.clip(self.calibrator.apply(self.booster.predict(x, num_threads=0)), 0.0, 1.0)


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


def save_version(settings: Settings, booster: lgb.Booster, calibrator: Calibrator, meta: dict) -> Path:
    """Write a new version folder (model, calibrator, meta, card); `meta["version"]` is set here."""
    from wxrisk.model.card import render_card

    models_dir = settings.models_dir
    models_dir.mkdir(parents=True, exist_ok=True)
    model_text = booster.model_to_string(num_iteration=booster.best_iteration or None)
    version = new_version_name(models_dir, model_text)
    meta = {**meta, "version": version}
    tmp = models_dir / f".{version}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    (tmp / "model.txt").write_text(model_text, encoding="utf-8")
    (tmp / "calibrator.json").write_text(json.dumps(calibrator.to_json(), indent=1), encoding="utf-8")
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
    calibrator = Calibrator.from_json(json.loads((folder / "calibrator.json").read_text(encoding="utf-8")))
    booster = lgb.Booster(model_file=str(folder / "model.txt"))
    return LoadedModel(version, folder, booster, calibrator, specs_from_json(meta["features"]), meta)


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
