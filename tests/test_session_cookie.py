"""The session cookie and the CSRF token bound to it, as Quart and WTForms made them."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from hashlib import sha1
from typing import Any

import pytest
from quart import Quart
from quart.sessions import SecureCookieSessionInterface
from quart.testing import QuartClient

from tests.helpers import get_csrf_token, started_app

STOCK = SecureCookieSessionInterface()


def cookie_header(value: str) -> dict[str, str]:
    return {"Cookie": f"session={value}"}


def session_cookie(client: QuartClient) -> str:
    assert client.cookie_jar is not None
    cookies = [cookie.value for cookie in client.cookie_jar if cookie.name == "session"]
    assert len(cookies) == 1
    assert cookies[0] is not None
    return cookies[0]


def quart_cookie(app: Quart, data: dict[str, Any]) -> str:
    """A session cookie as Quart's own cookie interface signs it."""
    serializer = STOCK.get_signing_serializer(app)
    assert serializer is not None
    return serializer.dumps(data)


async def test_cookie_signed_by_quarts_interface_is_read(
    app: Quart, client: QuartClient
) -> None:
    cookie = quart_cookie(app, {"name": "ada", "known": True})
    html = await (await client.get("/", headers=cookie_header(cookie))).get_data(True)
    assert "Hello, ada!" in html
    assert "Happy to see you again!" in html


async def test_cookie_set_by_the_app_reads_with_quarts_interface(
    app: Quart, client: QuartClient
) -> None:
    await client.get("/")
    serializer = STOCK.get_signing_serializer(app)
    assert serializer is not None
    data = serializer.loads(session_cookie(client))
    assert set(data) == {"csrf"}


@pytest.mark.parametrize("old_key_kept", [True, False])
async def test_cookie_signed_with_a_retired_key_needs_it_in_the_fallbacks(
    app_settings: dict[str, object], old_key_kept: bool
) -> None:
    async with started_app({**app_settings, "SECRET_KEY": "old-key"}) as old_app:
        cookie = quart_cookie(old_app, {"name": "grace"})
    fallbacks = ["old-key"] if old_key_kept else []
    settings = {**app_settings, "SECRET_KEY": "new-key"}
    async with started_app({**settings, "SECRET_KEY_FALLBACKS": fallbacks}) as app:
        response = await app.test_client().get("/", headers=cookie_header(cookie))
        html = await response.get_data(True)
    assert ("Hello, grace!" in html) is old_key_kept


async def test_tampered_cookie_starts_a_new_session(
    app: Quart, client: QuartClient
) -> None:
    cookie = quart_cookie(app, {"name": "ada"})
    payload, _, signature = cookie.rpartition(".")
    forged = payload + "." + signature[::-1]
    html = await (await client.get("/", headers=cookie_header(forged))).get_data(True)
    assert "Hello, Stranger!" in html


def signed_token(app: Quart, csrf_secret: str, expires: datetime) -> str:
    """A CSRF token as WTForms' SessionCSRF makes it, for a chosen expiry."""
    stamp = expires.strftime("%Y%m%d%H%M%S")
    key = str(app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, (csrf_secret + stamp).encode(), sha1).hexdigest()
    return f"{stamp}##{digest}"


@pytest.mark.parametrize(("offset", "status"), [(60, 302), (-60, 400)])
async def test_token_is_accepted_until_its_time_limit(
    app: Quart, client: QuartClient, offset: int, status: int
) -> None:
    await get_csrf_token(client)
    serializer = STOCK.get_signing_serializer(app)
    assert serializer is not None
    csrf_secret = serializer.loads(session_cookie(client))["csrf"]
    token = signed_token(app, csrf_secret, datetime.now() + timedelta(seconds=offset))
    response = await client.post("/", form={"name": "timely", "csrf_token": token})
    assert response.status_code == status


async def test_token_expiry_follows_the_configured_time_limit(
    app: Quart, client: QuartClient
) -> None:
    token = await get_csrf_token(client)
    expires = datetime.strptime(token.split("##")[0], "%Y%m%d%H%M%S")
    limit = timedelta(seconds=app.config["WTF_CSRF_TIME_LIMIT"])
    assert abs(expires - (datetime.now() + limit)) < timedelta(seconds=5)
