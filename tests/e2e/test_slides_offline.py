"""A built deck opens in headless Chromium from the disk and asks the network for nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from labcore.course.slides import build_slides
from tests.e2e.test_jupyterlab import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_setup_deck_runs_reveal_from_the_local_copy(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium")
    deck = next(deck for deck in build_slides(tmp_path) if deck.name.startswith("00-"))
    requested: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.on("request", lambda request: requested.append(request.url))
            page.goto(deck.as_uri())
            page.locator(".reveal.ready").wait_for(timeout=30_000)
            assert "setup" in page.locator(".reveal .slides section.present").first.inner_text().lower()
            page.keyboard.press("Space")  # the next slide, vertical ones included
            page.locator(".reveal .slides section.present", has_text="In this chapter you").first.wait_for()
            page.screenshot(path=str(ARTIFACTS / "slides-00-setup.png"))
        finally:
            browser.close()
    assert [url for url in requested if not url.startswith("file://")] == []
    assert any(url.endswith("reveal.js/dist/reveal.js") for url in requested)
    assert any("/slides/node_modules/" in url for url in requested)  # the repository's npm install
