"""Screenshot of the published board in Debian's headless Chromium (used for the pictures in docs/).

    .venv/bin/python docs/board_screenshot.py OUT.png [--lang English|中文] [--hour N] [--width 1440] [--height 1400]

Reads the board the environment points at (`WXRISK_DATA`, `WXRISK_BOARDS`, `WXRISK_DB`,
`WXRISK_MODELS`, as `wxrisk board` does), starts it with `streamlit run` on a free local port,
moves the hour slider to N hours after the board's start when asked, waits until the table and
the map image are drawn, and saves the page.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wxrisk.boardview.bench import CHROMIUM, app_environment, chromium_page, running_app
from wxrisk.config import load_settings

WAIT_MS = 180_000  # the app's first render on a busy 2-core machine


def move_hour_slider(page, hour: int) -> None:
    """Put the board's hour slider at `hour` hours after the start, with the keyboard."""
    thumb = page.locator("[data-testid=stSlider] input[type=range]").first
    thumb.focus()
    thumb.press("Home")
    page.wait_for_timeout(2000)
    for _ in range(hour):
        thumb.press("ArrowRight")
        page.wait_for_timeout(700)
    page.wait_for_function("document.querySelector('[data-testid=stSlider] input[type=range]').value == "
                           f"'{hour}'", timeout=WAIT_MS)
    page.wait_for_timeout(3000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--lang", default="English", help="the sidebar language choice (English or 中文)")
    parser.add_argument("--hour", type=int, help="hours after the board's start (default: the board's own choice)")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=1400)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM}: not installed (apt-get install chromium)")
    with running_app(app_environment(load_settings())) as server, chromium_page(args.width, args.height) as page:
        page.goto(server.url)
        page.wait_for_selector("[data-testid=stDataFrame], [data-testid=stAlertContentInfo]", timeout=WAIT_MS)
        if args.lang != "中文":
            page.get_by_text(args.lang, exact=True).first.click()
            page.wait_for_timeout(3000)
        if args.hour is not None:
            move_hour_slider(page, args.hour)
        # the board's first map is an image drawn on the server (the interactive map loads on demand)
        page.wait_for_function("document.querySelector('[data-testid=stImage] img')?.complete", timeout=WAIT_MS)
        page.wait_for_timeout(1000)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out), full_page=True, timeout=WAIT_MS)
    print(args.out)


if __name__ == "__main__":
    main()
