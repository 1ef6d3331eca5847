"""Posts end to end: in real Chromium, on a real hypercorn deployment, a writer
types Markdown with a script in it, watches the live preview, and posts; the
saved post is the preview, and the script never runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Dialog, Page, Request, Route, expect

from tests.servers import Hypercorn, deploy, deployment_environment
from tests.test_browser_roles import ADMIN_EMAIL as EMAIL
from tests.test_browser_roles import PASSWORD, create_user

pytestmark = [pytest.mark.browser, pytest.mark.server]

USERNAME = "ada"
ATTACK = (
    '<script>window.__pwned = true; document.title = "pwned"; alert(1)</script>'
    '<img src="/nothing" onerror="window.__pwned = true">'
)
BODY = (
    "Some **bold** words and [a link](https://example.com/quarty).\n\n"
    f"- first\n- second\n\n{ATTACK}\n\nThe end"
)
# Typed key by key after the rest is pasted: several input events, one preview.
LAST_WORDS = ", typed."


@pytest.fixture
async def live_server(database_url: str, tmp_path: Path) -> AsyncIterator[Hypercorn]:
    """A deployment with one account, a User (who may write)."""
    environment = deployment_environment(database_url)
    await deploy(environment, tmp_path)
    await create_user(environment, tmp_path, EMAIL, USERNAME)
    async with Hypercorn(environment, tmp_path / "hypercorn.log") as server:
        yield server


async def sign_in(page: Page, url: str) -> None:
    await page.goto(url + "/auth/login")
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log In").click()
    await expect(page).to_have_url(url + "/")


async def test_the_preview_is_the_saved_post_and_its_script_never_runs(
    live_server: Hypercorn, browser: Browser
) -> None:
    url = live_server.url
    context = await browser.new_context()
    hosts: set[str] = set()
    context.on(
        "request", lambda request: hosts.add(urlsplit(request.url).hostname or "")
    )
    page = await context.new_page()
    dialogs: list[str] = []

    async def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", refuse)
    await sign_in(page, url)

    draft = page.get_by_label("What's on your mind?")
    preview = page.locator(".post-preview .post-body")
    await expect(page.locator(".post-preview")).to_be_hidden()
    await draft.fill(BODY)
    await draft.press_sequentially(LAST_WORDS)
    # The preview of the whole text, rendered by the server.
    await expect(preview.locator("strong")).to_have_text("bold")
    await expect(preview).to_contain_text("The end" + LAST_WORDS)
    await expect(preview.locator("li")).to_have_text(["first", "second"])
    preview_html = await preview.inner_html()
    assert await page.evaluate("window.__pwned") is None

    await page.get_by_role("button", name="Submit").click()
    await expect(page).to_have_url(url + "/")
    saved = page.locator("ul.posts .post-body").first
    await expect(saved.locator("strong")).to_have_text("bold")
    assert await saved.inner_html() == preview_html
    link = saved.get_by_role("link", name="a link")
    await expect(link).to_have_attribute("href", "https://example.com/quarty")
    await expect(link).to_have_attribute("rel", "nofollow noopener")
    await expect(page.locator("ul.posts script")).to_have_count(0)
    await expect(page.locator("ul.posts [onerror]")).to_have_count(0)
    assert await page.evaluate("window.__pwned") is None
    await expect(page).to_have_title("Quarty")
    assert dialogs == []
    # The form is empty again, and so, hidden, is its preview.
    await expect(draft).to_have_value("")
    await expect(page.locator(".post-preview")).to_be_hidden()
    assert hosts == {"127.0.0.1"}
    await context.close()


# Answers the page heard (quarty:preview events), as [stale, failed] pairs.
LISTEN = """() => {
  window.answers = [];
  document.querySelector(".post-preview").addEventListener("quarty:preview",
    (event) => window.answers.push([event.detail.stale, event.detail.failed]));
}"""


async def test_the_preview_shows_the_newest_draft_and_says_what_is_wrong(
    live_server: Hypercorn, browser: Browser
) -> None:
    url = live_server.url
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, url)
    draft = page.get_by_label("What's on your mind?")
    preview = page.locator(".post-preview .post-body")
    problem = page.locator(".post-preview-error")
    await page.evaluate(LISTEN)

    # The first draft's answer is held back until the second's is shown.
    held: list[Route] = []
    release = asyncio.Event()

    async def hold_the_first(route: Route, request: Request) -> None:
        if held:
            await route.continue_()
            return
        held.append(route)
        answer = await route.fetch()
        await release.wait()
        await route.fulfill(response=answer)

    await page.route("**/preview", hold_the_first)
    async with page.expect_request("**/preview"):
        await draft.fill("*older*")
    await draft.fill("*newer*")
    await expect(preview.locator("em")).to_have_text("newer")
    release.set()
    await page.wait_for_function("() => window.answers.length === 2")
    assert await page.evaluate("window.answers") == [[False, False], [True, False]]
    await expect(preview.locator("em")).to_have_text("newer")
    await page.unroute("**/preview")

    # Too long: the server's reason, and no stale preview beside it.
    await draft.fill("x" * 20_001)
    await expect(problem).to_have_text(
        "A post has at most 20,000 characters; this one has 20,001."
    )
    await expect(preview).to_be_empty()

    # The network fails: what is shown stays, and the form still posts.
    await draft.fill("**kept**")
    await expect(preview.locator("strong")).to_have_text("kept")
    await page.route("**/preview", lambda route: route.abort())
    await page.evaluate("window.answers = []")
    await draft.fill("**lost**")
    await page.wait_for_function("() => window.answers.length === 1")
    assert await page.evaluate("window.answers") == [[False, True]]
    await expect(preview.locator("strong")).to_have_text("kept")
    await expect(problem).to_be_empty()
    await page.get_by_role("button", name="Submit").click()
    await expect(page.locator("ul.posts .post-body strong").first).to_have_text("lost")
    await context.close()
