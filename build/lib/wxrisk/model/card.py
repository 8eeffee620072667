"""The model card (markdown) written into every version folder, from its `meta.json`."""

from __future__ import annotations

from wxrisk.model.metrics import Metrics, reliability_table

DIRECTION = {1: "never lowers risk (+1)", -1: "never raises risk (-1)", 0: "free"}


def _features_section(features: list[dict]) -> list[str]:
    lines = ["| feature | unit | constraint | 中文 | English |", "|---|---|---|---|---|"]
    lines += [f"| `{f['name']}` | {f['unit'] or '-'} | {DIRECTION[f['monotone']]} | {f['label_zh']} | {f['label_en']} |"
              for f in features]
    return lines


def render_card(meta: dict) -> str:
    """The card of one version: what it is for, what it learnt from, how well it did, its limits."""
    splits, rows, hashes = meta["splits"], meta["rows"], meta["data_hashes"]
    model_metrics = Metrics(**meta["metrics"]["model"])
    lines = [
        f"# Model card: {meta['version']}",
        "",
        f"Created {meta['created_at']} UTC. LightGBM binary classifier, seed {meta['seed']}, "
        f"{meta['best_iteration']} trees, deterministic with {meta['params']['num_threads']} thread(s); "
        f"{meta['calibration']} calibration on the validation period.",
        "",
        "## Intended use",
        "",
        "The calibrated probability that at least one incident occurs on a road segment (<= 1 km) in an "
        "hour, from weather, road and traffic features, to rank segment-hours for escort measures "
        "(police escort, pacing, convoys, speed limits, closures, de-icing) during winter travel. "
        "Not a substitute for the duty officer's judgement or for road patrol reports.",
        "",
        "## Training data",
        "",
        f"- Window: {meta['training_window']['start']} to {meta['training_window']['end']} (UTC, analysis weather).",
        f"- Splits by time ({splits['how']}): train {splits['train'][0]} to {splits['train'][1]}, "
        f"validation {splits['valid'][0]} to {splits['valid'][1]}, held-out test {splits['test'][0]} to {splits['test'][1]}.",
        f"- Label: {meta['label']['definition']}",
        f"- Rows: train {rows['train']} ({rows['train_positives']} positive) after keeping "
        f"{meta['negative_rate']:.3g} of negatives (weight {1 / meta['negative_rate']:.3g}); "
        f"validation {rows['valid']} ({rows['valid_positives']} positive); "
        f"test {rows['test']} ({rows['test_positives']} positive).",
        f"- Data hashes (sha256 of the frames): train `{hashes['train'][:16]}`, validation "
        f"`{hashes['valid'][:16]}`, test `{hashes['test'][:16]}`; imported files: "
        + (", ".join(f"{i['kind']} `{i['file_hash'][:12]}`" for i in hashes["imports"]) or "none recorded") + ".",
        "",
        f"## Features (list version `{meta['feature_list_version']}`)",
        "",
        *_features_section(meta["features"]),
        "",
        "## Evaluation on the held-out period",
        "",
        f"Baselines: historical average per segment; physical rule `{meta['baselines']['rule']}`.",
        "",
        "```",
        meta["metrics_table"],
        "```",
        "",
        "```",
        reliability_table(model_metrics),
        "```",
        "",
        "## Promotion",
        "",
        meta.get("promotion", {}).get("reason", "not requested"),
        "",
        "## Limitations",
        "",
        "- Incidents are rare and under-reported; the label only counts incidents matched to a segment.",
        "- Trained on analysis weather; forecast weather adds its own error, larger at long lead times.",
        "- Explanations are the model's feature contributions, not causes.",
        "- A model trained on one region or period can drift on another: check `wxrisk evaluate` each winter.",
        "",
    ]
    return "\n".join(lines)
