"""Roles end to end: in real Chromium, an administrator changes another user's
role on a real hypercorn deployment, and that user's pages change with it."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.servers import BIN, Hypercorn, deploy, deployment_environment

pytestmark = [pytest.mark.browser, pytest.mark.server]

ADMIN_EMAIL, ADMIN = "ada@example.com", "ada"
USER_EMAIL, USER = "bob@example.com", "bob"
PASSWORD = "analytical engine"


async def create_user(
    environment: dict[str, str], cwd: Path, email: str, username: str
) -> None:
    """`quart --app quarty users create`, the password on stdin."""
    result = await asyncio.to_thread(
        subprocess.run,
        [
            str(BIN / "quart"),
            *("--app", "quarty", "users", "create"),
            *("--email", email, "--username", username),
        ],
        input=PASSWORD + "\n",
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
async def live_server(database_url: str, tmp_path: Path) -> AsyncIterator[Hypercorn]:
    """A deployment whose QUARTY_ADMIN is ada, with ada and bob's accounts."""
    environment = deployment_environment(database_url, QUARTY_ADMIN=ADMIN_EMAIL)
    await deploy(environment, tmp_path)
    await create_user(environment, tmp_path, ADMIN_EMAIL, ADMIN)
    await create_user(environment, tmp_path, USER_EMAIL, USER)
    async with Hypercorn(environment, tmp_path / "hypercorn.log") as server:
        yield server


async def signed_in(
    browser: Browser, url: str, email: str
) -> tuple[BrowserContext, Page]:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url + "/auth/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log In").click()
    await expect(page).to_have_url(url + "/")
    return context, page


async def test_an_administrator_makes_a_user_an_administrator(
    live_server: Hypercorn, browser: Browser
) -> None:
    url = live_server.url
    hosts: set[str] = set()
    admin_context, admin = await signed_in(browser, url, ADMIN_EMAIL)
    user_context, user = await signed_in(browser, url, USER_EMAIL)
    for context in (admin_context, user_context):
        context.on(
            "request", lambda request: hosts.add(urlsplit(request.url).hostname or "")
        )

    # bob, a User: no admin link, and the admin page is refused.
    await user.goto(f"{url}/user/{ADMIN}")
    await expect(user.locator("h1")).to_have_text(ADMIN)
    await expect(user.get_by_role("link", name="Edit Profile [Admin]")).to_have_count(0)
    response = await user.goto(f"{url}/edit-profile/1")
    assert response is not None and response.status == 403

    # ada, the administrator, changes bob's role from his profile.
    await admin.goto(f"{url}/user/{USER}")
    await admin.get_by_role("link", name="Edit Profile [Admin]").click()
    await admin.get_by_label("Role").select_option(label="Administrator")
    await admin.get_by_role("button", name="Submit").click()
    await expect(admin.locator(".alert")).to_have_text("The profile has been updated.")
    await expect(admin).to_have_url(f"{url}/user/{USER}")

    # bob's next page knows: the admin link, the admin page, ada's email.
    await user.goto(f"{url}/user/{ADMIN}")
    await expect(user.get_by_role("link", name="Edit Profile [Admin]")).to_have_count(1)
    await expect(user.get_by_role("link", name=ADMIN_EMAIL)).to_have_count(1)
    await user.get_by_role("link", name="Edit Profile [Admin]").click()
    await expect(user.get_by_label("Role")).to_have_value("3")  # Administrator's id
    assert hosts == {"127.0.0.1"}
    await admin_context.close()
    await user_context.close()
