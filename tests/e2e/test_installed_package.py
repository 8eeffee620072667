"""A plain (non-editable) `pip install` of wxrisk runs the tiny demo from a folder outside the repository.

The wheel is built from this checkout without network (setuptools is pinned in the test extra) and
installed into a fresh virtual environment that sees the already installed pinned dependencies;
the flows and the app must then come from the installed package, not from the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _run(*command, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=900, **kwargs)


def test_a_plain_install_runs_the_tiny_demo_from_another_folder(tmp_path):
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    for name in ("src", "flows", "app"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                 "-w", wheels, source)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = wheels.glob("wxrisk-*.whl")

    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "wxrisk-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = _run(python, "-m", "pip", "install", "--no-deps", "--no-index", wheel)
    assert installed.returncode == 0, installed.stderr[-2000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("WXRISK_", "PYTHON"))}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    where = _run(python, "-c", "import wxrisk.flows.pipeline as f, wxrisk.app as a; print(f.__file__); print(a.__file__)",
                 cwd=elsewhere, env=env)
    assert where.returncode == 0, where.stderr[-2000:]
    assert all(Path(line).is_relative_to(site) for line in where.stdout.split()), where.stdout

    demo = _run(venv / "bin" / "wxrisk", "demo", "--size", "tiny", cwd=elsewhere, env=env)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "board published" in demo.stderr
    current = elsewhere / "data" / "boards" / "CURRENT"
    assert current.exists() and (elsewhere / "models").is_dir()
