"""Changing and resetting the password, changing the email: single-use links."""

from __future__ import annotations

import logging

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select

from quarty.models import User
from tests.accounts import (
    PASSWORD,
    create_account,
    last_link_to,
    log_in,
    mails_to,
    page_text,
    path_of,
    submit,
)
from tests.helpers import app_database, client_of, csrf_token_in, started_app

NEW_PASSWORD = "a brand new passphrase"


async def change_password(
    client: QuartClient, old: str = PASSWORD, new: str = NEW_PASSWORD
) -> str:
    response = await submit(
        client,
        "/auth/change-password",
        old_password=old,
        password=new,
        password2=new,
    )
    return await response.get_data(as_text=True)


async def is_signed_in(client: QuartClient) -> bool:
    return "Hello, ada!" in await page_text(client, "/")


async def stored_hash(app: Quart) -> str | None:
    async with app_database(app).sessionmaker() as session:
        query = select(User.password_hash).where(User.username == "ada")
        return (await session.execute(query)).scalar_one()


async def test_changing_the_password_signs_out_every_other_browser(
    app: Quart,
) -> None:
    await create_account(app)
    here, elsewhere = client_of(app), client_of(app)
    await log_in(here)
    await log_in(elsewhere)

    await change_password(here)
    assert "Your password has been updated." in await page_text(here, "/")
    assert await is_signed_in(here)
    assert not await is_signed_in(elsewhere)
    assert await log_in(client_of(app), password=PASSWORD) == ""
    assert await log_in(client_of(app), password=NEW_PASSWORD) == "/"


async def test_a_wrong_old_password_changes_nothing(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    await log_in(client)
    before = await stored_hash(app)
    assert "Invalid password." in await change_password(client, old="not it")
    assert await stored_hash(app) == before


async def request_reset(client: QuartClient, email: str) -> str:
    response = await submit(client, "/auth/reset", email=email)
    assert response.headers["Location"] == "/auth/login"
    return await page_text(client, "/auth/login")


async def test_reset_answers_the_same_for_unknown_emails(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    known = await request_reset(client, "ada@example.com")
    unknown = await request_reset(client, "nobody@example.com")
    message = "An email with instructions to reset your password has been sent to you."
    assert message in known
    assert message in unknown
    assert await mails_to(app, "nobody@example.com") == []
    [_confirm, reset] = await mails_to(app, "ada@example.com")
    assert reset["Subject"] == "[Quarty] Reset Your Password"


async def reset_with(client: QuartClient, link: str, password: str) -> str:
    page = await page_text(client, path_of(link))
    response = await client.post(
        path_of(link),
        form={
            "password": password,
            "password2": password,
            "csrf_token": csrf_token_in(page),
        },
    )
    return response.headers.get("Location", "")


async def test_the_reset_link_works_once_and_signs_everyone_out(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    signed_in = client_of(app)
    await log_in(signed_in)
    await request_reset(client, "ada@example.com")
    link = await last_link_to(app, "ada@example.com", "Reset Your Password")

    assert await reset_with(client, link, NEW_PASSWORD) == "/auth/login"
    assert "Your password has been updated." in await page_text(client, "/auth/login")
    assert not await is_signed_in(signed_in)
    assert await log_in(client_of(app), password=NEW_PASSWORD) == "/"

    # Used once: the link was bound to the password it replaced.
    assert await reset_with(client, link, "yet another passphrase") == "/auth/reset"
    assert "The password reset link is invalid or has expired." in await page_text(
        client, "/auth/reset"
    )
    assert await log_in(client_of(app), password=NEW_PASSWORD) == "/"


async def test_an_older_reset_link_dies_with_a_newer_password(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    await request_reset(client, "ada@example.com")
    first = await last_link_to(app, "ada@example.com", "Reset Your Password")
    signed_in = client_of(app)
    await log_in(signed_in)
    await change_password(signed_in)
    assert await reset_with(client, first, "yet another passphrase") == "/auth/reset"
    assert await log_in(client_of(app), password=NEW_PASSWORD) == "/"


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "%C3%A9t%C3%A9", "x" * 4000])
async def test_a_garbage_reset_link_is_refused(
    app: Quart, client: QuartClient, token: str
) -> None:
    response = await client.get(f"/auth/reset/{token}")
    assert response.headers["Location"] == "/auth/reset"
    page = await page_text(client, "/auth/reset")
    assert "The password reset link is invalid or has expired." in page


async def test_a_signed_in_user_does_not_reset(app: Quart, client: QuartClient) -> None:
    await create_account(app)
    await log_in(client)
    assert (await client.get("/auth/reset")).headers["Location"] == "/"


async def request_email_change(
    client: QuartClient, email: str, password: str = PASSWORD
) -> str:
    response = await submit(
        client, "/auth/change_email", email=email, password=password
    )
    if response.status_code == 302:
        return await page_text(client, response.headers["Location"])
    return await response.get_data(as_text=True)


async def confirm_email_change(client: QuartClient, link: str) -> str:
    page = await page_text(client, path_of(link))
    assert "Use my new email address" in page
    response = await client.post(
        path_of(link), form={"csrf_token": csrf_token_in(page)}
    )
    return await page_text(client, response.headers["Location"])


async def test_changing_the_email_goes_through_a_link_to_the_new_address(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    await log_in(client)
    page = await request_email_change(client, "Ada.New@Example.com")
    assert (
        "An email with instructions to confirm your new email address has been sent"
        in page
    )
    link = await last_link_to(app, "ada.new@example.com", "Confirm your email address")
    assert "Your email address has been updated." in await confirm_email_change(
        client, link
    )
    assert await log_in(client_of(app), "ada.new@example.com") == "/"
    assert await log_in(client_of(app), "ada@example.com") == ""
    # Used once: the link was bound to the address it replaced.
    assert "The email change link is invalid or has expired." in (
        await confirm_email_change(client, link)
    )


async def test_email_change_refusals(app: Quart, client: QuartClient) -> None:
    await create_account(app)
    await create_account(app, email="bob@example.com", username="bob")
    await log_in(client)
    assert "Email already registered." in await request_email_change(
        client, "BOB@example.com"
    )
    assert "Invalid email or password." in await request_email_change(
        client, "new@example.com", password="not it"
    )
    assert await mails_to(app, "new@example.com") == []


async def test_an_address_taken_meanwhile_is_refused(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    await log_in(client)
    await request_email_change(client, "shared@example.com")
    link = await last_link_to(app, "shared@example.com", "Confirm your email address")
    await create_account(app, email="shared@example.com", username="bob")
    assert "The email change link is invalid or has expired." in (
        await confirm_email_change(client, link)
    )


async def test_an_outdated_hash_is_replaced_at_the_next_login(
    app_settings: dict[str, object],
) -> None:
    async with started_app(app_settings) as app:
        await create_account(app)
        old = await stored_hash(app)
    app_settings["ARGON2_TIME_COST"] = 2
    async with started_app(app_settings) as app:
        assert await stored_hash(app) == old
        assert await log_in(client_of(app)) == "/"
        new = await stored_hash(app)
        assert new != old
        assert new is not None and "t=2" in new
        assert await log_in(client_of(app)) == "/"


async def test_no_password_token_or_hash_reaches_the_log(
    app: Quart, client: QuartClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await create_account(app)
    await log_in(client)
    await change_password(client)
    await request_reset(client_of(app), "ada@example.com")
    link = await last_link_to(app, "ada@example.com", "Reset Your Password")
    await reset_with(client_of(app), link, "the third passphrase")
    secrets = [PASSWORD, NEW_PASSWORD, "the third passphrase", path_of(link)]
    secrets.append(str(await stored_hash(app)))
    for secret in secrets:
        assert secret not in caplog.text
