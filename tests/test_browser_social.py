"""Followers, comments and moderation end to end: in real Chromium, on a real
hypercorn deployment, cy follows bob, finds bob's post on the Followed tab and
comments on it, and ada, a moderator, disables the comment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, expect

from tests.servers import Hypercorn, deploy, deployment_environment, run_command
from tests.test_browser_roles import create_user, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

MODERATOR, WRITER, READER = "ada", "bob", "cy"
POST = "Notes on the *analytical engine*"
COMMENT = "A fine engine, **truly**."
DISABLED = "This comment has been disabled by a moderator."


@pytest.fixture
async def live_server(database_url: str, tmp_path: Path) -> AsyncIterator[Hypercorn]:
    """A deployment with ada, a Moderator, and bob and cy, Users."""
    environment = deployment_environment(database_url)
    await deploy(environment, tmp_path)
    for name in (MODERATOR, WRITER, READER):
        await create_user(environment, tmp_path, f"{name}@example.com", name)
    await run_command(
        *("quart", "--app", "quarty", "users", "set-role"),
        *(f"{MODERATOR}@example.com", "Moderator"),
        environment=environment,
        cwd=tmp_path,
    )
    async with Hypercorn(environment, tmp_path / "hypercorn.log") as server:
        yield server


async def test_a_follow_a_comment_and_its_moderation(
    live_server: Hypercorn, browser: Browser
) -> None:
    url = live_server.url
    hosts: set[str] = set()
    writer_context, writer = await signed_in(browser, url, f"{WRITER}@example.com")
    reader_context, reader = await signed_in(browser, url, f"{READER}@example.com")
    moderator_context, moderator = await signed_in(
        browser, url, f"{MODERATOR}@example.com"
    )
    for context in (writer_context, reader_context, moderator_context):
        context.on(
            "request", lambda request: hosts.add(urlsplit(request.url).hostname or "")
        )

    # bob writes a post; ada writes one too, which cy will not follow.
    await writer.get_by_label("What's on your mind?").fill(POST)
    await writer.get_by_role("button", name="Submit").click()
    await moderator.get_by_label("What's on your mind?").fill("Moderation notes")
    await moderator.get_by_role("button", name="Submit").click()
    await expect(moderator.locator("ul.posts .post-body").first).to_have_text(
        "Moderation notes"
    )

    # cy follows bob from his profile, which bob sees.
    await reader.goto(f"{url}/user/{WRITER}")
    await reader.get_by_role("button", name="Follow").click()
    await expect(reader.locator(".alert")).to_have_text(
        f"You are now following {WRITER}."
    )
    await expect(reader.get_by_role("link", name="Followers: 1")).to_be_visible()
    await writer.goto(f"{url}/user/{READER}")
    await expect(writer.get_by_text("Follows you")).to_be_visible()

    # The Followed tab has bob's post and not ada's.
    await reader.goto(url + "/")
    await reader.get_by_role("button", name="Followed").click()
    await expect(reader).to_have_url(url + "/")
    bodies = reader.locator("ul.posts .post-body")
    await expect(bodies).to_have_count(1)
    await expect(bodies.locator("em")).to_have_text("analytical engine")

    # cy comments on it, from its "0 Comments" link.
    await reader.get_by_role("link", name="0 Comments").click()
    await reader.get_by_label("Enter your comment").fill(COMMENT)
    await reader.get_by_role("button", name="Submit").click()
    await expect(reader.locator(".alert")).to_have_text(
        "Your comment has been published."
    )
    assert urlsplit(reader.url).fragment == "comments"
    comment = reader.locator("#comments .comment-body")
    await expect(comment.locator("strong")).to_have_text("truly")

    # ada disables it from the moderation page.
    await moderator.goto(url + "/")
    await moderator.get_by_role("link", name="Moderate Comments").click()
    await expect(moderator.locator(".comment-body").first).to_contain_text(
        "A fine engine"
    )
    await moderator.get_by_role("button", name="Disable").click()
    await expect(moderator.get_by_role("button", name="Enable")).to_be_visible()

    # cy no longer sees its words; the post still counts it.
    await reader.reload()
    await expect(reader.locator("#comments")).to_contain_text(DISABLED)
    await expect(reader.locator("#comments")).not_to_contain_text("A fine engine")
    await reader.goto(url + "/")
    await expect(reader.get_by_role("link", name="1 Comment")).to_be_visible()
    assert hosts == {"127.0.0.1"}
    for context in (writer_context, reader_context, moderator_context):
        await context.close()
