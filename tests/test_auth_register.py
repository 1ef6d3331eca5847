"""Registration and confirmation through the pages, mail in the same transaction."""

from __future__ import annotations

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select

from quarty.models import OutboxMessage, User
from tests.accounts import (
    PASSWORD,
    create_account,
    last_link_to,
    link_in,
    log_in,
    mails_to,
    page_text,
    path_of,
    submit,
)
from tests.helpers import (
    app_database,
    client_of,
    csrf_token_in,
    started_app,
    submit_name,
)


async def register(
    client: QuartClient,
    *,
    email: str = "bob@example.com",
    username: str = "bob",
    password: str = PASSWORD,
    password2: str | None = None,
) -> tuple[int, str]:
    response = await submit(
        client,
        "/auth/register",
        email=email,
        username=username,
        password=password,
        password2=password if password2 is None else password2,
    )
    return response.status_code, await response.get_data(as_text=True)


async def test_registration_stores_the_account_and_queues_its_confirmation(
    app: Quart, client: QuartClient
) -> None:
    response = await submit(
        client,
        "/auth/register",
        email="  Bob@Example.COM ",
        username="bob",
        password=PASSWORD,
        password2=PASSWORD,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    login_page = await page_text(client, "/auth/login")
    assert "A confirmation email has been sent to you by email." in login_page

    async with app_database(app).sessionmaker() as session:
        user = (await session.scalars(select(User))).one()
    assert (user.username, user.email, user.confirmed) == (
        "bob",
        "bob@example.com",
        False,
    )
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    [mail] = await mails_to(app, "bob@example.com")
    assert mail["Subject"] == "[Quarty] Confirm Your Account"
    assert "/auth/confirm/" in link_in(mail)
    html = mail.get_body(("html",))
    assert html is not None
    assert "/auth/confirm/" in html.get_content()


async def test_registration_tells_the_admin_in_the_same_transaction(
    app_settings: dict[str, object],
) -> None:
    app_settings["QUARTY_ADMIN"] = "admin@example.com"
    async with started_app(app_settings) as app:
        await register(client_of(app))
        [new_user] = await mails_to(app, "admin@example.com")
        assert new_user["Subject"] == "[Quarty] New User"
        body = new_user.get_body(("plain",))
        assert body is not None
        assert "User bob has joined." in body.get_content()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"email": "not-an-email"}, "Invalid email address."),
        ({"email": "a" * 250 + "@example.com"}, "Field must be between 1 and 254"),
        ({"username": "9lives"}, "Usernames must have only letters, numbers, dots"),
        ({"username": "bob smith"}, "Usernames must have only letters, numbers, dots"),
        ({"username": "b" * 65}, "Field must be between 1 and 64 characters long."),
        ({"password2": "something else"}, "Passwords must match."),
        ({"password": "short", "password2": "short"}, "Field must be between 8"),
        (
            {"password": "x" * 20_480, "password2": "x" * 20_480},
            "Field must be between 8",
        ),
    ],
)
async def test_bad_registrations_get_the_form_again_with_the_error(
    app: Quart, client: QuartClient, fields: dict[str, str], error: str
) -> None:
    values = {
        "email": "bob@example.com",
        "username": "bob",
        "password": PASSWORD,
        "password2": PASSWORD,
    } | fields
    response = await submit(client, "/auth/register", **values)
    assert response.status_code == 200
    assert error in await response.get_data(as_text=True)
    async with app_database(app).sessionmaker() as session:
        assert (await session.scalars(select(User))).first() is None
        assert (await session.scalars(select(OutboxMessage))).first() is None


async def test_a_taken_email_is_refused_whatever_its_case(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app, email="ada@example.com", username="ada")
    status, html = await register(client, email="ADA@example.com", username="bob")
    assert status == 200
    assert "Email already registered." in html


async def test_a_name_only_users_username_is_taken(
    app: Quart, client: QuartClient
) -> None:
    await submit_name(client, "bob")  # the name form makes a name-only user
    status, html = await register(client, username="bob")
    assert status == 200
    assert "Username already in use." in html


async def test_a_name_only_user_cannot_log_in(app: Quart, client: QuartClient) -> None:
    await submit_name(client, "bob")
    assert await log_in(client, "bob", "") == ""
    assert await log_in(client, "bob@example.com") == ""


async def test_the_mailed_link_confirms_the_account(
    app: Quart, client: QuartClient
) -> None:
    await register(client)
    link = await last_link_to(app, "bob@example.com", "Confirm Your Account")
    assert await log_in(client, "bob@example.com") == "/"
    # Unconfirmed: every page outside /auth sends the user to confirm first.
    response = await client.get("/")
    assert response.headers["Location"] == "/auth/unconfirmed"
    unconfirmed = await page_text(client, "/auth/unconfirmed")
    assert "Hello, bob!" in unconfirmed
    assert "You have not confirmed your account yet." in unconfirmed

    # Opening the link changes nothing until its button is pressed.
    page = await page_text(client, path_of(link))
    assert "Confirm my account" in page
    assert (await client.get("/")).status_code == 302
    response = await client.post(
        path_of(link), form={"csrf_token": csrf_token_in(page)}
    )
    assert response.headers["Location"] == "/"
    home = await page_text(client, "/")
    assert "You have confirmed your account. Thanks!" in home
    assert "Hello, bob!" in home


async def test_static_files_and_auth_pages_stay_open_to_an_unconfirmed_user(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app, confirmed=False)
    await log_in(client)
    assert (await client.get("/static/css/quarty.css")).status_code == 200
    assert (await client.get("/auth/change-password")).status_code == 200
    assert (await client.get("/user/ada")).headers["Location"] == "/auth/unconfirmed"


@pytest.mark.parametrize(
    "token",
    ["garbage", "eyJjb25maXJtIjoxfQ.AAAAAA.forged-signature", "x" * 5000],
)
async def test_a_bad_confirmation_link_is_refused(
    app: Quart, client: QuartClient, token: str
) -> None:
    await create_account(app, confirmed=False)
    await log_in(client)
    page = await page_text(client, f"/auth/confirm/{token}")
    response = await client.post(
        f"/auth/confirm/{token}", form={"csrf_token": csrf_token_in(page)}
    )
    assert response.status_code == 302
    assert "The confirmation link is invalid or has expired." in await page_text(
        client, "/auth/unconfirmed"
    )


async def test_another_accounts_link_does_not_confirm_this_one(
    app: Quart, client: QuartClient
) -> None:
    await register(client, email="eve@example.com", username="eve")
    eves_link = await last_link_to(app, "eve@example.com", "Confirm Your Account")
    await create_account(app, confirmed=False)
    await log_in(client)
    page = await page_text(client, path_of(eves_link))
    await client.post(path_of(eves_link), form={"csrf_token": csrf_token_in(page)})
    assert "Hello, ada!" in await page_text(client, "/auth/unconfirmed")


async def test_resend_queues_a_new_confirmation_by_post_only(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app, confirmed=False)
    await log_in(client)
    assert (await client.get("/auth/confirm")).status_code == 405
    response = await submit(client, "/auth/confirm", form_page="/auth/unconfirmed")
    assert response.headers["Location"] == "/"
    assert "A new confirmation email has been sent to you by email." in (
        await page_text(client, "/auth/unconfirmed")
    )
    # The one registration queued, and the one asked for.
    mails = await mails_to(app, "ada@example.com")
    assert [mail["Subject"] for mail in mails] == ["[Quarty] Confirm Your Account"] * 2
