"""No secrets in the repository: tracked files carry no keys, tokens or passwords."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"AKIA[0-9A-Z]{16}"),
    "GitHub token": re.compile(r"gh[pousr]_[A-Za-z0-9]{36}"),
    "assigned password": re.compile(r"""(?i)\b(password|passwd|secret|api_key|token)\s*[:=]\s*["'][^"'\s]{6,}["']"""),
}


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [REPO / name for name in listed.splitlines() if (REPO / name).is_file()]


def find_secrets(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        if path.suffix in {".grib", ".nc", ".png", ".pdf"}:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path.name
        found += [f"{shown}: {kind}" for kind, pattern in SECRET_PATTERNS.items()
                  if pattern.search(text) and path.name != Path(__file__).name]
    return found


def test_scanner_finds_a_planted_secret(tmp_path):
    planted = tmp_path / "settings.py"
    planted.write_text('api_key = "sk-live-1234567890"\n')
    assert find_secrets([planted]) == ["settings.py: assigned password"]


def test_no_secrets_in_tracked_files():
    assert find_secrets(tracked_files()) == []
