"""Accounts end to end: real Chromium, a real hypercorn deployment, real SMTP.

The browser registers, confirms through the mailed link, logs out, resets its
password through the mailed link and logs in with the new one; the mail goes
through the app's outbox and its background sender to aiosmtpd.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Cookie, Page, expect

from quarty.config import Config
from tests.servers import Hypercorn, deploy, deployment_environment
from tests.smtp import HOST, ReceivedMail, SmtpServer, eventually

pytestmark = [pytest.mark.browser, pytest.mark.server]

EMAIL = "ada@example.com"
USERNAME = "ada"
PASSWORD = "analytical engine"
NEW_PASSWORD = "difference engine"
CONFIRM_SUBJECT = "[Quarty] Confirm Your Account"
RESET_SUBJECT = "[Quarty] Reset Your Password"
MAIL_LINK = re.compile(r"https?://\S+")
# The sender wakes when a request queues mail; this is only its fallback.
MAIL_POLL_SECONDS = "1"
# Mail goes from the outbox to SMTP in well under a second; this is a deadline.
MAIL_DEADLINE_SECONDS = 30


@pytest.fixture
async def live_server(
    database_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> AsyncIterator[Hypercorn]:
    """A production deployment on this database that mails to `smtp_server`."""
    environment = deployment_environment(
        database_url,
        MAIL_SERVER=HOST,
        MAIL_PORT=str(smtp_server.port),
        QUARTY_MAIL_SENDER="Quarty <quarty@example.com>",
        MAIL_POLL_INTERVAL=MAIL_POLL_SECONDS,
    )
    await deploy(environment, tmp_path)
    async with Hypercorn(environment, tmp_path / "hypercorn.log") as server:
        yield server


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile: no cookies yet."""
    async with await browser.new_context() as context:
        yield context


def requested_hosts(context: BrowserContext) -> set[str]:
    """The hosts of every request the context's pages make, from now on."""
    hosts: set[str] = set()
    context.on(
        "request", lambda request: hosts.add(urlsplit(request.url).hostname or "")
    )
    return hosts


async def mailed_link(server: SmtpServer, *, subject: str) -> str:
    """The link in the plain-text part of the mail to EMAIL with this subject."""

    async def arrived() -> ReceivedMail | None:
        for mail in server.received:
            if mail.rcpt_tos == [EMAIL] and mail.message["Subject"] == subject:
                return mail
        return None

    mail = await eventually(arrived, seconds=MAIL_DEADLINE_SECONDS)
    links = MAIL_LINK.findall(mail.part("text/plain"))
    assert len(links) == 1, mail.part("text/plain")
    link: str = links[0]
    return link


async def register(page: Page, url: str) -> None:
    """Register EMAIL, USERNAME, PASSWORD from the home page, as a visitor does."""
    await page.goto(url + "/")
    await page.get_by_role("link", name="Log In").click()
    await page.get_by_role("link", name="Click here to register").click()
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Username").fill(USERNAME)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("Confirm password").fill(PASSWORD)
    await page.get_by_role("button", name="Register").click()
    await expect(page).to_have_url(url + "/auth/login")
    await expect_flash(page, "A confirmation email has been sent to you by email.")


async def log_in(page: Page, password: str, *, remember: bool = False) -> None:
    """Fill in and send the login form on the page."""
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill(password)
    await page.get_by_label("Keep me logged in").set_checked(remember)
    await page.get_by_role("button", name="Log In").click()


async def expect_flash(page: Page, message: str) -> None:
    await expect(page.locator(".alert")).to_have_text(message)


async def expect_greeting(page: Page, name: str) -> None:
    await expect(page.locator("h1")).to_have_text(f"Hello, {name}!")


async def test_a_person_registers_confirms_and_resets_the_password_by_mail(
    live_server: Hypercorn, smtp_server: SmtpServer, context: BrowserContext
) -> None:
    url = live_server.url
    hosts = requested_hosts(context)
    page = await context.new_page()
    navbar = page.locator("nav.navbar")

    await register(page, url)
    await log_in(page, PASSWORD)
    # Logged in, but sent to confirm the account before anything else.
    await expect(page).to_have_url(url + "/auth/unconfirmed")
    await expect_greeting(page, USERNAME)
    await expect(page.locator("h3")).to_have_text(
        "You have not confirmed your account yet."
    )

    confirmation = await mailed_link(smtp_server, subject=CONFIRM_SUBJECT)
    # Absolute, on the host the browser asked for.
    assert confirmation.startswith(url + "/auth/confirm/"), confirmation
    await page.goto(confirmation)
    await page.get_by_role("button", name="Confirm my account").click()
    await expect_flash(page, "You have confirmed your account. Thanks!")
    await expect_greeting(page, USERNAME)
    await expect(navbar.get_by_role("link", name="Log In")).to_have_count(0)

    await navbar.get_by_role("button", name="Account").click()
    await navbar.get_by_role("button", name="Log Out").click()
    await expect_flash(page, "You have been logged out.")
    await expect_greeting(page, "Stranger")
    await expect(navbar.get_by_role("button", name="Account")).to_have_count(0)

    await navbar.get_by_role("link", name="Log In").click()
    await page.get_by_role("link", name="Click here to reset it").click()
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_role("button", name="Reset Password").click()
    await expect_flash(
        page, "An email with instructions to reset your password has been sent to you."
    )

    reset = await mailed_link(smtp_server, subject=RESET_SUBJECT)
    assert reset.startswith(url + "/auth/reset/"), reset
    await page.goto(reset)
    await page.get_by_label("New Password").fill(NEW_PASSWORD)
    await page.get_by_label("Confirm password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Reset Password").click()
    await expect(page).to_have_url(url + "/auth/login")
    await expect_flash(page, "Your password has been updated.")

    await log_in(page, PASSWORD)
    await expect_flash(page, "Invalid email or password.")
    await expect(page).to_have_url(url + "/auth/login")

    await log_in(page, NEW_PASSWORD)
    await expect(page).to_have_url(url + "/")
    await expect_greeting(page, USERNAME)
    await expect(navbar.get_by_role("button", name="Account")).to_be_visible()

    # One mail each: nothing was sent twice.
    subjects = [mail.message["Subject"] for mail in smtp_server.received]
    assert subjects == [CONFIRM_SUBJECT, RESET_SUBJECT]
    assert hosts == {"127.0.0.1"}


async def test_keep_me_logged_in_decides_whether_the_sign_in_outlives_the_browser(
    live_server: Hypercorn, browser: Browser, context: BrowserContext
) -> None:
    url = live_server.url
    hosts = requested_hosts(context)
    page = await context.new_page()
    await register(page, url)

    await log_in(page, PASSWORD, remember=False)
    await expect_greeting(page, USERNAME)
    for_this_visit = await auth_cookie(context)
    # A session cookie: it ends when the browser closes.
    assert for_this_visit["expires"] == -1

    async with await browser.new_context() as other_browser:
        other_hosts = requested_hosts(other_browser)
        other_page = await other_browser.new_page()
        await other_page.goto(url + "/auth/login")
        await log_in(other_page, PASSWORD, remember=True)
        await expect_greeting(other_page, USERNAME)
        kept = await auth_cookie(other_browser)

    kept_for = kept["expires"] - time.time()
    assert abs(kept_for - Config.QUART_AUTH_DURATION) < 60, kept_for
    for cookie in (for_this_visit, kept):
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Lax"
    assert hosts | other_hosts == {"127.0.0.1"}


async def auth_cookie(context: BrowserContext) -> Cookie:
    """The sign-in cookie the browser holds."""
    cookies = [
        cookie
        for cookie in await context.cookies()
        if cookie.get("name") == Config.QUART_AUTH_COOKIE_NAME
    ]
    assert len(cookies) == 1, cookies
    return cookies[0]
