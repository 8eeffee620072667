"""A local HTTP server standing in for the weather services; no test here touches the internet."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from wxrisk.config import Settings
from wxrisk.store import connect

REAL_DATA = Path(__file__).resolve().parents[1] / "data" / "real"
READ_TIMEOUT_S = 0.3


@pytest.fixture(scope="session")
def make_httpserver():
    """A threaded server, so a request left hanging (time-out test) does not block the retry."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with short time-outs and back-off so fault tests stay fast."""
    http = {"connect_timeout_s": 2.0, "read_timeout_s": READ_TIMEOUT_S, "max_attempts": 3,
            "backoff_s": 0.01, "request_interval_s": 0.0}
    return Settings(db_path=tmp_path / "wx.duckdb", data_dir=tmp_path / "data", extra={"http": http})


@pytest.fixture
def con(settings: Settings):
    connection = connect(settings.db_path)
    yield connection
    connection.close()


@pytest.fixture
def cache_files(settings: Settings):
    """A function listing every file under the download cache (parts included)."""
    def files() -> list[Path]:
        root = settings.data_dir / "cache"
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return files
