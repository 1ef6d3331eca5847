"""Logging in and out: the cookie, safe redirects, limits on guessing, the navbar."""

from __future__ import annotations

import pytest
from quart import Quart
from quart.testing import QuartClient

from quarty.security.passwords import EXTENSION_KEY as PASSWORDS_KEY
from quarty.security.passwords import Passwords, Verdict
from tests.accounts import PASSWORD, create_account, log_in, page_text, submit
from tests.helpers import client_of, csrf_token_in, started_app, submit_name

AUTH_COOKIE = "quarty_auth"


def set_cookie_header(response_headers: object, name: str) -> str:
    headers = [
        value
        for value in response_headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
        if value.startswith(f"{name}=")
    ]
    assert len(headers) == 1, headers
    return str(headers[0])


async def test_login_greets_the_user_instead_of_the_name_form(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    home = await page_text(client, "/")
    assert "What is your name?" in home
    assert "Log In" in home
    assert "Account" not in home

    assert await log_in(client, "ADA@example.com") == "/"
    home = await page_text(client, "/")
    assert "Hello, ada!" in home
    assert "What is your name?" not in home
    for item in ("Account", "Change Password", "Change Email", "Log Out"):
        assert item in home


async def test_the_name_form_stays_for_visitors(
    app: Quart, client: QuartClient
) -> None:
    html = await submit_name(client, "Grace", follow=True)
    assert "Hello, Grace!" in html
    assert "Pleased to meet you!" in html


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ada@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
        ("ada@example.com", "x" * 256),
    ],
)
async def test_bad_credentials_get_the_form_again(
    app: Quart, client: QuartClient, email: str, password: str
) -> None:
    await create_account(app)
    response = await submit(client, "/auth/login", email=email, password=password)
    assert response.status_code == 200
    assert "Invalid email or password." in await response.get_data(as_text=True)
    assert "Hello, ada!" not in await page_text(client, "/")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"email": "not an email"}, "Invalid email address."),
        ({"password": "x" * 20_480}, "Field cannot be longer than 256 characters."),
        ({"email": "a" * 300 + "@example.com"}, "Field must be between 1 and 254"),
    ],
)
async def test_malformed_logins_get_the_form_with_the_error(
    app: Quart, client: QuartClient, fields: dict[str, str], error: str
) -> None:
    values = {"email": "ada@example.com", "password": PASSWORD} | fields
    response = await submit(client, "/auth/login", **values)
    assert response.status_code == 200
    assert error in await response.get_data(as_text=True)


class CountingPasswords(Passwords):
    """The app's hasher, counting the password checks it really makes."""

    checks = 0

    def _verify(self, stored_hash: str, password: str) -> Verdict:
        self.checks += 1
        return super()._verify(stored_hash, password)


async def test_an_unknown_email_costs_a_password_check_like_a_wrong_password(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    passwords = CountingPasswords(app.extensions[PASSWORDS_KEY].hasher)
    app.extensions[PASSWORDS_KEY] = passwords
    await log_in(client, "ada@example.com", "wrong password")
    assert passwords.checks == 1
    await log_in(client, "nobody@example.com", "wrong password")
    assert passwords.checks == 2


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "%2F%2Fevil.example",
        "/%09/evil.example",
    ],
)
async def test_next_never_leaves_the_site(
    app: Quart, client: QuartClient, target: str
) -> None:
    await create_account(app)
    assert await log_in(client, next_url=target) == "/"


async def test_next_goes_back_to_the_page_that_asked(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    response = await client.get("/auth/change-password")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/auth/login?next=/auth/change-password"
    assert "Please log in to access this page." in await page_text(client, location)
    assert await log_in(client, next_url="/auth/change-password") == (
        "/auth/change-password"
    )


async def test_logout_is_a_post_with_csrf(app: Quart, client: QuartClient) -> None:
    await create_account(app)
    await log_in(client)
    assert (await client.get("/auth/logout")).status_code == 405
    refused = await client.post("/auth/logout", form={"csrf_token": "forged"})
    assert refused.status_code == 400
    assert "Hello, ada!" in await page_text(client, "/")

    response = await submit(client, "/auth/logout", form_page="/")
    assert response.headers["Location"] == "/"
    home = await page_text(client, "/")
    assert "You have been logged out." in home
    assert "What is your name?" in home


async def test_the_cookie_is_httponly_lax_and_lasts_only_if_asked(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    token = csrf_token_in(await page_text(client, "/auth/login"))
    form = {"email": "ada@example.com", "password": PASSWORD, "csrf_token": token}
    response = await client.post("/auth/login", form=form)
    cookie = set_cookie_header(response.headers, AUTH_COOKIE)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie

    remembered = await client.post("/auth/login", form=form | {"remember_me": "y"})
    assert "Max-Age=31536000" in set_cookie_header(remembered.headers, AUTH_COOKIE)


async def test_production_cookies_are_secure(app_settings: dict[str, object]) -> None:
    app_settings["SECRET_KEY"] = "a-real-production-secret-key"
    from quarty import create_app

    app = create_app("production", **app_settings)
    assert app.config["QUART_AUTH_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True


async def test_a_forged_or_stale_cookie_is_dropped(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    client.set_cookie("localhost", AUTH_COOKIE, "forged.cookie.value")
    home = await client.get("/")
    assert "What is your name?" in await home.get_data(as_text=True)


async def test_login_attempts_are_limited_per_address(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    for _ in range(10):
        await log_in(client, "ada@example.com", "wrong password")
    response = await submit(
        client, "/auth/login", email="ada@example.com", password=PASSWORD
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too Many Requests" in await response.get_data(as_text=True)
    # Reading the form is not an attempt.
    assert (await client.get("/auth/login")).status_code == 200


async def test_login_attempts_are_limited_per_account_across_addresses(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    token = csrf_token_in(await page_text(client, "/auth/login"))
    form = {"email": "ada@example.com", "password": "wrong", "csrf_token": token}
    statuses = []
    for attempt in range(21):
        # Each attempt from another address: only the account's count grows.
        response = await client.post(
            "/auth/login",
            form=form,
            scope_base={"client": (f"10.0.0.{attempt}", 1234)},
        )
        statuses.append(response.status_code)
    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429


async def test_rate_limits_can_be_turned_off(app_settings: dict[str, object]) -> None:
    app_settings["QUART_RATE_LIMITER_ENABLED"] = False
    async with started_app(app_settings) as app:
        client = client_of(app)
        statuses = {
            (
                await submit(client, "/auth/login", email="a@example.com", password="x")
            ).status_code
            for _ in range(15)
        }
    assert statuses == {200}


async def test_signed_in_pages_are_private_to_caches(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    await log_in(client)
    response = await client.get("/")
    assert "Cookie" in response.headers["Vary"]
    assert "private" in response.headers["Cache-Control"]


async def test_avatars_stay_public_for_a_signed_in_browser(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    await log_in(client)
    response = await client.get("/avatar/" + "ab" * 32)
    assert response.status_code == 200
    cache_control = response.headers["Cache-Control"]
    assert "public" in cache_control
    assert "private" not in cache_control
