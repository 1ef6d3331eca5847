"""The name form in a real headless Chromium, served by a real hypercorn."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Response

pytestmark = pytest.mark.browser


async def test_a_person_types_a_name_and_is_greeted(
    browser: Browser, live_url: str, artifacts_dir: Path
) -> None:
    context = await browser.new_context(locale="en-US", timezone_id="America/New_York")
    page = await context.new_page()
    hosts: set[str] = set()
    failures: list[str] = []
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or ""))

    def record_failure(response: Response) -> None:
        if response.status >= 400:
            failures.append(response.url)

    page.on("response", record_failure)

    await page.goto(live_url + "/")
    assert await page.text_content("h1") == "Hello, Stranger!"

    await page.fill("input[name=name]", "Grace")
    await page.click("input[type=submit]")
    await page.wait_for_selector("text=Pleased to meet you!")
    assert await page.text_content("h1") == "Hello, Grace!"

    await page.fill("input[name=name]", "Ada")
    await page.click("input[type=submit]")
    alert = page.locator(".alert")
    await alert.wait_for()
    assert "Looks like you have changed your name!" in (
        await alert.text_content() or ""
    )

    # The footer's time was formatted by the page's script in the browser's zone.
    clock = page.locator("time.quarty-moment[data-kind=format]")
    await page.wait_for_selector("time.quarty-moment[data-rendered=true]")
    shown = (await clock.text_content() or "").strip()
    stamp = await clock.get_attribute("datetime")
    assert stamp and stamp not in shown
    assert "UTC" not in shown
    assert any(month in shown for month in MONTHS), shown
    ago = await page.locator("time.quarty-moment[data-kind=fromNow]").text_content()
    assert ago and "ago" in ago

    # Bootstrap's CSS came from the app itself: the navbar is styled dark.
    navbar_color = await page.eval_on_selector(
        "nav.navbar", "e => getComputedStyle(e).backgroundColor"
    )
    assert navbar_color == "rgb(33, 37, 41)"
    assert hosts == {"127.0.0.1"}
    assert failures == []

    # Dismissing the flash works: Bootstrap's JS is loaded too.
    await page.click(".alert .btn-close")
    await alert.wait_for(state="detached")

    await page.screenshot(path=str(artifacts_dir / "name-form.png"), full_page=True)
    await context.close()


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
