"""The config file: found beside the database or named, checked on load, every option documented."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wxrisk.config import OPTIONS, OPTIONS_BY_KEY, WxriskError, load_settings
from wxrisk.model.train import TrainConfig
from wxrisk.sources.http import HttpPolicy

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("WXRISK_CONFIG", "WXRISK_TZ", "WXRISK_MODELS", "WXRISK_BOARDS", "WXRISK_DASK_ADDRESS", "WXRISK_DB",
                 "WXRISK_DATA"):
        monkeypatch.delenv(name, raising=False)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_beside_the_database_sets_every_room(tmp_path):
    rules = _write(tmp_path / "rules" / "strict.yaml", "x: 1\n")
    _write(tmp_path / "db" / "wxrisk.toml", """
timezone = "Europe/London"
[board]
rules = "../rules/strict.yaml"
stale_forecast_hours = 8
[model]
target_rows = 50000
min_data_in_leaf = 31
[scoring]
tile_segments = 500
[http]
max_attempts = 2
""")
    settings = load_settings(tmp_path / "db" / "wxrisk.duckdb")
    assert settings.timezone == "Europe/London"
    assert settings.board_rules == rules.resolve()
    assert settings.stale_forecast_hours == 8.0 and settings.tile_segments == 500
    config = TrainConfig.from_settings(settings)
    assert config.target_rows == 50_000 and config.min_data_in_leaf == 31 and config.learning_rate == 0.05
    assert HttpPolicy.from_settings(settings).max_attempts == 2
    assert settings.config_path == tmp_path / "db" / "wxrisk.toml"


def test_without_a_file_the_defaults_hold_and_the_environment_wins_over_a_file(tmp_path, monkeypatch):
    plain = load_settings(tmp_path / "wxrisk.duckdb")
    assert (plain.timezone, plain.board_rules, plain.config_path, plain.extra) == (
        "Asia/Shanghai", None, None, {"model": {}, "http": {}})
    _write(tmp_path / "wxrisk.toml", 'timezone = "Europe/London"\n')
    monkeypatch.setenv("WXRISK_TZ", "Europe/Berlin")
    assert load_settings(tmp_path / "wxrisk.duckdb").timezone == "Europe/Berlin"


def test_a_named_file_is_read_instead_of_the_one_beside_the_database(tmp_path, monkeypatch):
    _write(tmp_path / "wxrisk.toml", 'timezone = "Europe/London"\n')
    named = _write(tmp_path / "other.toml", 'timezone = "America/Denver"\n')
    assert load_settings(tmp_path / "wxrisk.duckdb", config=named).timezone == "America/Denver"
    monkeypatch.setenv("WXRISK_CONFIG", str(named))
    assert load_settings(tmp_path / "wxrisk.duckdb").timezone == "America/Denver"
    with pytest.raises(WxriskError, match="nowhere.toml: no such config file"):
        load_settings(tmp_path / "wxrisk.duckdb", config=tmp_path / "nowhere.toml")


@pytest.mark.parametrize(("text", "message"), [
    ("[model]\nnum_round = 3\n", r"wxrisk.toml: unknown option model.num_round \(known: timezone, "),
    ("[model]\nrounds_max = \"many\"\n", "wxrisk.toml: model.rounds_max must be a whole number, not 'many'"),
    ("[model]\nlearning_rate = true\n", "wxrisk.toml: model.learning_rate must be a number, not True"),
    ("[model]\ncalibration = \"beta\"\n", "wxrisk.toml: model.calibration must be platt or isotonic"),
    ('timezone = "Mars/Olympus"\n', "wxrisk.toml: timezone 'Mars/Olympus': unknown time zone"),
    ('[board]\nrules = "missing.yaml"\n', "wxrisk.toml: board.rules .*missing.yaml: no such file"),
    ("[board\nrules = 1\n", "wxrisk.toml: not valid TOML"),
    ("colour = \"red\"\n", "wxrisk.toml: unknown option colour"),
])
def test_mistakes_are_one_line_errors_naming_the_file_and_option(tmp_path, text, message):
    _write(tmp_path / "wxrisk.toml", text)
    with pytest.raises(WxriskError, match=message) as caught:
        load_settings(tmp_path / "wxrisk.duckdb")
    assert "\n" not in str(caught.value)


def test_the_model_and_http_options_mirror_their_rooms():
    for section, config in (("model", TrainConfig), ("http", HttpPolicy)):
        fields = {f.name: f.default for f in dataclasses.fields(config)}
        listed = {o.key.split(".", 1)[1]: o for o in OPTIONS if o.key.startswith(f"{section}.")}
        assert set(listed) == set(fields), section
        for name, option in listed.items():
            assert option.default == fields[name] and isinstance(fields[name], option.kind), f"{section}.{name}"


def test_help_and_docs_list_every_option():
    env = {**os.environ, "COLUMNS": "250", "TERM": "dumb"}
    shown = subprocess.run([sys.executable, "-m", "wxrisk.cli", "--help"], capture_output=True, text=True, env=env,
                           check=True).stdout
    documented = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for key in OPTIONS_BY_KEY:
        assert key in shown, f"wxrisk --help lacks {key}"
        assert f"`{key}`" in documented, f"docs/configuration.md lacks {key}"


def test_the_command_line_reads_a_named_config_and_reports_mistakes_in_one_line(tmp_path):
    bad = _write(tmp_path / "bad.toml", "[scoring]\ntile_size = 3\n")
    result = subprocess.run([sys.executable, "-m", "wxrisk.cli", "--config", str(bad), "export", "risk",
                             "--out", str(tmp_path / "r.csv"), "--db", str(tmp_path / "w.duckdb")],
                            capture_output=True, text=True, env={**os.environ, "WXRISK_DATA": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"wxrisk: {bad}: unknown option scoring.tile_size (known: "
                                                  + ", ".join(OPTIONS_BY_KEY) + ")"]
