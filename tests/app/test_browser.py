"""The board in a real browser: the app runs as `streamlit run`, Debian's headless Chromium opens it.

Checks that the map canvas is drawn, the priority list opens with the top stretch, the language
switch changes the labels, no map tiles are fetched, `/board` opens the board (no "Page not
found"), and that a measure recorded in Dispatch survives an app restart. Screenshots go to
`test-output/`.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from wxrisk.boardview.access import PASSWORD_ENV
from wxrisk.boardview.bench import CHROMIUM, app_environment, chromium_page, running_app
from wxrisk.config import load_settings

pytestmark = [
    pytest.mark.slow, pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
]
OUTPUT = Path(__file__).parents[2] / "test-output"
WAIT_MS = 180_000  # the app's first render on a busy 2-core machine
TILE_HOSTS = ("cartocdn", "mapbox", "openstreetmap", "tile")


@pytest.fixture
def site(published_real_root, tmp_path, monkeypatch) -> dict[str, str]:
    """A real (not replayed) board whose window is over: it opens at its busiest hour, the G4 storm."""
    root = tmp_path / "site"
    shutil.copytree(published_real_root, root)
    monkeypatch.setenv("WXRISK_DATA", str(root / "data"))
    monkeypatch.setenv("WXRISK_BOARDS", str(root / "boards"))
    monkeypatch.setenv("WXRISK_MODELS", str(root / "models"))
    monkeypatch.setenv("WXRISK_DB", str(root / "work.duckdb"))
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    OUTPUT.mkdir(exist_ok=True)
    return app_environment(load_settings())


def grid_text(page) -> list[str]:
    """Cell texts of the first data grid (Streamlit's grid keeps an accessible copy in the DOM)."""
    return page.evaluate(
        "Array.from(document.querySelectorAll('[data-testid=stDataFrame] td')).map(e => e.textContent)")


def wait_for_board(page) -> None:
    page.wait_for_selector("[data-testid=stDataFrame] td", state="attached", timeout=WAIT_MS)
    page.wait_for_function("document.querySelector('[data-testid=stImage] img')?.complete", timeout=WAIT_MS)


def pixels_of(page, selector: str) -> np.ndarray:
    from PIL import Image

    png = page.locator(selector).first.screenshot(timeout=WAIT_MS)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)


def red_pixels(pixels: np.ndarray) -> int:
    return int(((pixels[..., 0] > 190) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)).sum())


def test_board_map_table_and_language_in_chromium(site):
    requests: list[str] = []
    with running_app(site, log_path=OUTPUT / "streamlit-board.log") as server, chromium_page() as page:
        page.on("request", lambda r: requests.append(r.url))
        page.goto(server.url)
        wait_for_board(page)
        drawn = pixels_of(page, "[data-testid=stImage]")
        assert drawn.std() > 3 and red_pixels(drawn) > 50, "the first map (drawn on the server) shows G4 in red"
        page.get_by_text("交互地图").click()  # the interactive map, on demand
        page.wait_for_selector("[data-testid=stDeckGlJsonChart] canvas", state="attached", timeout=WAIT_MS)
        page.wait_for_timeout(2500)  # let deck.gl finish drawing
        pixels = pixels_of(page, "[data-testid=stDeckGlJsonChart]")
        assert pixels.std() > 10, "the map canvas is blank"
        assert red_pixels(pixels) > 50, "the red stretch of G4 is drawn on the interactive map"
        cells = grid_text(page)
        assert cells[:4] == ["1", "G4 K1493+000–K1507+000", "02-11 19:00 – 02-12 16:00", "红色"]  # from the start of its first hour
        assert page.locator("h1").first.inner_text() == "冰雪道路风险研判"
        page.screenshot(path=str(OUTPUT / "board-zh.png"), timeout=WAIT_MS)

        page.get_by_text("English", exact=True).click()
        page.wait_for_selector("h1:has-text('Ice and snow road risk board')", timeout=WAIT_MS)
        page.wait_for_function(
            "Array.from(document.querySelectorAll('[data-testid=stDataFrame] td')).some(e => e.textContent === 'Red')",
            timeout=WAIT_MS)
        assert page.get_by_text("Priority list").count() == 1
        page.wait_for_timeout(2000)
        page.screenshot(path=str(OUTPUT / "board-en.png"), timeout=WAIT_MS)

        box = page.locator("[data-testid=stDataFrame]").first.bounding_box()
        page.mouse.click(box["x"] + 14, box["y"] + 35 + 35 + 17)  # the second row's selection cell
        page.wait_for_selector("h1:has-text('Stretch')", timeout=WAIT_MS)
        chosen = page.locator("[data-testid=stSelectbox] input").first.input_value(timeout=WAIT_MS)
        assert chosen.startswith("G56 K3+000–K8+000"), "the selected row's stretch is opened"
    assert not [url for url in requests if any(host in url for host in TILE_HOSTS)], "no map tiles fetched"


def test_the_board_answers_at_slash_board_too(site):
    with running_app(site, log_path=OUTPUT / "streamlit-board-path.log") as server, chromium_page() as page:
        page.goto(f"{server.url}/board")
        wait_for_board(page)
        assert page.locator("h1").first.inner_text() == "冰雪道路风险研判"
        assert page.get_by_text("Page not found").count() == 0
        assert page.get_by_text("You have requested page").count() == 0


def record_in_dispatch(url: str) -> None:
    with chromium_page() as page:
        page.goto(f"{url}/dispatch")
        officer = page.get_by_label("值班民警")
        officer.wait_for(timeout=WAIT_MS)
        officer.fill("赵警官")
        page.get_by_label("备注").fill("两车带道，已到位")
        page.get_by_role("button", name="保存登记").click()
        page.wait_for_selector("text=已保存", timeout=WAIT_MS)


def test_a_recorded_measure_survives_an_app_restart(site):
    with running_app(site, log_path=OUTPUT / "streamlit-dispatch-1.log") as server:
        record_in_dispatch(server.url)
    with running_app(site, log_path=OUTPUT / "streamlit-dispatch-2.log") as server, chromium_page() as page:
        page.goto(server.url)
        wait_for_board(page)
        assert "✅ 警车带道 · 赵警官" in grid_text(page)
        page.goto(f"{server.url}/dispatch")
        page.wait_for_function(
            "Array.from(document.querySelectorAll('[data-testid=stDataFrame] td')).some(e => e.textContent === '赵警官')",
            timeout=WAIT_MS)
        page.screenshot(path=str(OUTPUT / "dispatch-after-restart.png"), full_page=True, timeout=WAIT_MS)
