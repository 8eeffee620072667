"""The model card (markdown) written into every version folder, from its `meta.json`."""

from __future__ import annotations

from wxrisk.model.metrics import Metrics, reliability_table

DIRECTION = {1: "never lowers risk (+1)", -1: "never raises risk (-1)", 0: "free"}


def _features_section(features: list[dict]) -> list[str]:
    lines = ["| feature | unit | constraint | 中文 | English |", "|---|---|---|---|---|"]
    lines += [f"| `{f['name']}` | {f['unit'] or '-'} | {DIRECTION[f['monotone']]} | {f['label_zh']} | {f['label_en']} |"
              for f in features]
    return lines


def _share_section(share: dict | None, sampling: dict) -> list[str]:
    if not share:
        return ["No ice/snow share model: the history had too few ice/snow incidents with weather, so "
                "`ice_risk` is empty (the board then ranks by the weather-attributable risk)."]
    return [f"LightGBM, {share['rounds']} trees of {share['num_leaves']} leaves, learnt from "
            f"{sampling['incidents']} incidents ({sampling['ice_incidents']} ice/snow; "
            f"{sampling['unmatched_incidents']} not matched to any segment, with the features of the nearest "
            f"segment at their hour). Inputs: {', '.join(f'`{n}`' for n in share['features'])}."]


def render_card(meta: dict) -> str:
    """The card of one version: what it is for, what it learnt from, how well it did, its limits."""
    winters, sampling, hashes = meta["winters"], meta["sampling"], meta["data_hashes"]
    model_metrics = Metrics(**meta["metrics"]["model"])
    lines = [
        f"# Model card: {meta['version']}",
        "",
        f"Created {meta['created_at']} UTC. LightGBM binary classifiers, seed {meta['seed']}, deterministic; "
        f"risk model {meta['risk']['rounds']} trees of {meta['risk']['num_leaves']} leaves on top of the region's "
        f"hour-of-week offset; {meta['calibration']} calibration on out-of-fold predictions.",
        "",
        "## Intended use",
        "",
        "Two calibrated probabilities per road segment (<= 1 km) and hour: `risk`, at least one incident of any "
        "kind, and `ice_risk`, at least one incident on an icy, frosty, snowy or slushy surface or in snow or "
        "freezing rain (`risk` x the ice/snow share). They rank segment-hours for escort measures (police "
        "escort, pacing, convoys, speed limits, closures, de-icing) in winter weather. Not a substitute for "
        "the duty officer's judgement or for road patrol reports.",
        "",
        "## Winters used",
        "",
        f"- Trees (final models, refit): {winters['trees']}.",
        f"- Calibration (out-of-fold predictions, cross-fitted by winter): {winters['calibration']}.",
        f"- Evaluation ({winters['how']}): {'; '.join(winters['folds'])}.",
        f"- Window: {meta['training_window']['start']} to {meta['training_window']['end']} (UTC, analysis weather).",
        "",
        "## Training data",
        "",
        f"- Label: {meta['label']['definition']}.",
        f"- Segment-hours: {sampling['rows']} kept of {sampling['segments']} segments' analysed hours "
        f"({sampling['rows_with_incidents']} with incidents, {sampling['rows_with_ice']} with ice/snow ones); "
        f"incident-free segment-hours drawn by segment and fortnight at rate {sampling['rate']:.4g}, weighted "
        "back to the true rate.",
        f"- Incidents without any segment within reach (no weather, left out): {sampling['incidents_without_weather']}.",
        f"- Data hash (sha256 of the sample): `{hashes['rows'][:16]}`; imported files: "
        + (", ".join(f"{i['kind']} `{i['file_hash'][:12]}`" for i in hashes["imports"]) or "none recorded") + ".",
        "",
        "## Ice/snow share model",
        "",
        *_share_section(meta.get("share"), sampling),
        "",
        f"## Features (list version `{meta['feature_list_version']}`)",
        "",
        *_features_section(meta["features"]),
        "",
        "## Evaluation (rolling origin: each winter predicted by models trained on the winters before it)",
        "",
        f"Yardstick: default-parameter LightGBM on the raw inputs. Baselines: historical average per segment; "
        f"physical rule `{meta['baselines']['rule']}`. Rows are the thinned sample, weighted back.",
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
        "- Incidents are rare and under-reported; `risk` counts only incidents matched to a segment.",
        "- Trained on analysis weather; forecast weather adds its own error, larger at long lead times.",
        "- Explanations are the model's feature contributions, not causes.",
        "- A model trained on one region or period can drift on another: check `wxrisk evaluate` each winter.",
        "",
    ]
    return "\n".join(lines)
