"""How fast the board answers: the app started as a real server, timed over HTTP, in headless
Chromium (when `/usr/bin/chromium` is there: first paint, then the interactive map) and in
Streamlit's AppTest. Printed, not asserted (`wxrisk bench`, or `python -m wxrisk.boardview.bench`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from wxrisk.config import Settings, WxriskError

APP_PATH = Path(str(resources.files("wxrisk.app").joinpath("streamlit_app.py")))  # app/ of the repository
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BOARD_READY = "[data-testid=stDataFrame], [data-testid=stAlertContentInfo]"
MAP_IMAGE = "[data-testid=stImage] img"
MAP_CANVAS = "[data-testid=stDeckGlJsonChart] canvas"


def app_environment(settings: Settings) -> dict[str, str]:
    """The process environment that points the app at `settings`' folders."""
    return {**os.environ, "WXRISK_DB": str(settings.db_path), "WXRISK_DATA": str(settings.data_dir),
            "WXRISK_BOARDS": str(settings.boards_dir), "WXRISK_MODELS": str(settings.models_dir),
            "WXRISK_TZ": settings.timezone}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen


def _wait_healthy(url: str, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WxriskError(f"{APP_PATH}: streamlit exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise WxriskError(f"{url}: the app did not answer within {timeout_s:.0f} s")


@contextmanager
def running_app(env: dict[str, str], app_path: Path = APP_PATH, timeout_s: float = 90.0,
                log_path: Path | None = None) -> Iterator[AppServer]:
    """`streamlit run app_path` on a free local port, headless; stopped on exit."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(app_path), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    log = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        server = AppServer(url=f"http://127.0.0.1:{port}", process=process)
        _wait_healthy(server.url, process, timeout_s)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_path:
            log.close()


@contextmanager
def chromium_page(width_px: int = 1440, height_px: int = 1600) -> Iterator[object]:
    """A Playwright page in Debian's headless Chromium (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": width_px, "height": height_px})
        finally:
            browser.close()


def http_seconds(url: str) -> float:
    """Time to fetch the app's HTML page [s]."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as reply:
        reply.read()
    return time.perf_counter() - started


def first_paint_seconds(page, url: str, timeout_s: float = 180.0) -> float:
    """Seconds from navigation until the board's first paint: the map image and the priority list drawn."""
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(BOARD_READY, state="visible", timeout=timeout_s * 1000)
    page.wait_for_function(f"document.querySelector('{MAP_IMAGE}')?.complete", timeout=timeout_s * 1000)
    return time.perf_counter() - started


def browser_seconds(url: str, timeout_s: float = 180.0) -> dict[str, float]:
    """In headless Chromium: the first paint of the first session after the server started (cold:
    imports and queries), of a later session (warm), and the interactive map's start once its
    toggle is switched on (until its canvas is in the page) [s]."""
    with chromium_page() as page:
        cold = first_paint_seconds(page, url, timeout_s)
    with chromium_page() as page:
        warm = first_paint_seconds(page, url, timeout_s)
        started = time.perf_counter()
        page.locator("[data-testid=stSidebar] [data-testid=stCheckbox]").nth(1).click()
        page.wait_for_selector(MAP_CANVAS, state="attached", timeout=timeout_s * 1000)
        interactive = time.perf_counter() - started
    return {"browser_first_paint_cold_s": cold, "browser_first_paint_s": warm, "browser_interactive_map_s": interactive}


def apptest_seconds(env: dict[str, str], app_path: Path = APP_PATH, runs: int = 3) -> list[float]:
    """Script run times of the Board page in AppTest [s]; the first is cold (no query cache)."""
    from streamlit.testing.v1 import AppTest

    saved = {k: os.environ.get(k) for k in env if k.startswith("WXRISK_")}
    os.environ.update({k: v for k, v in env.items() if k.startswith("WXRISK_")})
    try:
        at = AppTest.from_file(str(app_path), default_timeout=120)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
            if at.exception:
                raise WxriskError(f"{app_path}: board page failed: {at.exception[0].value}")
        return times
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def board_latency(settings: Settings, browser: bool = True, progress=print) -> dict[str, float]:
    """Measure and print how fast the current board answers; returns seconds by measure."""
    env = app_environment(settings)
    result: dict[str, float] = {}
    runs = apptest_seconds(env)
    result["apptest_board_cold_s"], result["apptest_board_warm_s"] = runs[0], min(runs[1:])
    with running_app(env) as server:
        http_seconds(server.url)
        result["http_page_s"] = http_seconds(server.url)
        if browser and CHROMIUM.exists():
            result.update(browser_seconds(server.url))
    for name, seconds in result.items():
        progress(f"board latency {name:<28} {seconds:6.2f} s")
    return result


if __name__ == "__main__":
    from wxrisk.config import load_settings

    board_latency(load_settings())
