"""Fixtures for tests in a real headless Chromium against a real hypercorn."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from quarty import create_app
from tests.helpers import create_tables, serve_in_process

CHROMIUM = "/usr/bin/chromium"
# Headless, and without the background traffic this offline machine would refuse.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def live_url(app_settings: dict[str, object]) -> AsyncIterator[str]:
    """The testing app on its own database, served by hypercorn on 127.0.0.1."""
    app = create_app("testing", **app_settings)
    await create_tables(app)
    async with serve_in_process(app) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, driven by Playwright."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()
