"""API authentication: Basic for a token, the token as a bearer, revocation, limits."""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.models import ApiToken
from quarty.services import auth as accounts
from quarty.services import credentials
from tests.accounts import PASSWORD, create_account
from tests.helpers import app_database, client_of, started_app

API = "/api/v1"
TOKENS = f"{API}/tokens"
CURRENT = f"{API}/tokens/current"
ME = f"{API}/users/me"
EMAIL = "ada@example.com"
BASIC_CHALLENGE = 'Basic realm="quarty"'
BEARER_CHALLENGE = 'Bearer realm="quarty"'
DEAD_TOKEN_CHALLENGE = 'Bearer realm="quarty", error="invalid_token"'


def basic(email: str = EMAIL, password: str = PASSWORD) -> dict[str, str]:
    pair = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def from_address(address: str) -> dict[str, Any]:
    """Test-client keywords for a request from another client address."""
    return {"scope_base": {"client": (address, 40000)}}


async def issue(client: QuartClient, **credentials: str) -> str:
    response = await client.post(TOKENS, headers=basic(**credentials))
    assert response.status_code == 200, await response.get_data(as_text=True)
    token: str = (await response.get_json())["token"]
    return token


async def refused(
    client: QuartClient,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    status: int = 401,
) -> tuple[dict[str, str], str | None]:
    """Make a request that must be refused; return its JSON error and challenge."""
    response = await client.open(path, method=method, headers=headers or {})
    assert response.status_code == status, await response.get_data(as_text=True)
    assert response.content_type == "application/json"
    error: dict[str, str] = await response.get_json()
    assert set(error) == {"error", "message"}
    return error, response.headers.get("WWW-Authenticate")


@pytest.fixture
async def account(app: Quart) -> accounts.Account:
    return await create_account(app, email=EMAIL)


# --- issuing ---------------------------------------------------------------


async def test_basic_credentials_get_a_token_no_cache_keeps(
    client: QuartClient, account: accounts.Account
) -> None:
    response = await client.post(TOKENS, headers=basic())

    assert response.status_code == 200
    body = await response.get_json()
    assert set(body) == {"token", "expiration"}
    assert body["expiration"] == 3600
    assert len(body["token"]) >= 43
    assert response.headers["Cache-Control"] == "no-store"


async def test_the_email_is_matched_whatever_its_case(
    client: QuartClient, account: accounts.Account
) -> None:
    await issue(client, email="  ADA@Example.COM ")


async def test_the_token_lasts_as_long_as_configured(
    app_settings: dict[str, object],
) -> None:
    async with started_app({**app_settings, "QUARTY_TOKEN_EXPIRATION": 120}) as app:
        await create_account(app, email=EMAIL)
        before = datetime.now(UTC)
        response = await client_of(app).post(TOKENS, headers=basic())
        after = datetime.now(UTC)
        async with app_database(app).sessionmaker() as session:
            [expires_at] = (await session.scalars(select(ApiToken.expires_at))).all()

    assert (await response.get_json())["expiration"] == 120
    expires_at = expires_at.replace(tzinfo=UTC)  # SQLite gives back naive UTC
    lifetime = timedelta(seconds=120)
    assert before + lifetime <= expires_at <= after + lifetime


async def test_the_database_holds_only_the_tokens_digest(
    client: QuartClient, session: AsyncSession, account: accounts.Account
) -> None:
    token = await issue(client)

    [row] = (await session.scalars(select(ApiToken))).all()
    assert row.user_id == account.id
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.token_hash, str(row.expires_at))


async def test_each_request_gets_a_new_token(
    client: QuartClient, account: accounts.Account
) -> None:
    first, second = await issue(client), await issue(client)
    assert first != second
    for token in (first, second):
        assert (await client.get(ME, headers=bearer(token))).status_code == 200


async def test_a_body_sent_for_a_token_is_ignored(
    client: QuartClient, account: accounts.Account
) -> None:
    # POST /users refuses a body that is not JSON; POST /tokens reads none.
    response = await client.post(
        TOKENS, data="anything", headers={**basic(), "Content-Type": "text/plain"}
    )
    assert response.status_code == 200


# --- the token as a bearer --------------------------------------------------


async def test_the_token_opens_the_callers_own_user(
    client: QuartClient, account: accounts.Account
) -> None:
    token = await issue(client)

    response = await client.get(ME, headers=bearer(token))

    assert response.status_code == 200
    me = await response.get_json()
    public = await (await client.get(f"{API}/users/{account.id}")).get_json()
    assert me == {**public, "email": EMAIL, "confirmed": True}
    assert "email" not in public  # shown only to the user themself


async def test_the_bearer_scheme_name_is_case_blind(
    client: QuartClient, account: accounts.Account
) -> None:
    token = await issue(client)
    response = await client.get(ME, headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


async def test_a_token_cannot_get_another_token(
    client: QuartClient, account: accounts.Account
) -> None:
    token = await issue(client)

    error, challenge = await refused(client, "POST", TOKENS, bearer(token))

    assert challenge == BASIC_CHALLENGE
    assert "email and password" in error["message"]


async def test_users_me_takes_the_password_too(
    client: QuartClient, account: accounts.Account
) -> None:
    response = await client.get(ME, headers=basic())
    assert response.status_code == 200
    assert (await response.get_json())["email"] == EMAIL
    error, challenge = await refused(client, "GET", ME, basic(password="a guess"))
    assert challenge == f"{BASIC_CHALLENGE}, {BEARER_CHALLENGE}"
    assert error["message"] == "Invalid email or password."


async def test_passwords_sent_to_users_me_are_limited_too(
    client: QuartClient, account: accounts.Account
) -> None:
    for _ in range(30):
        await refused(client, "GET", ME, basic(password="a guess"))
    assert (await client.get(ME, headers=basic())).status_code == 429
    # A bearer token is no guess: it is not held up.
    token = await issue(client)
    assert (await client.get(ME, headers=bearer(token))).status_code == 200


# --- refused credentials ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "challenge"),
    [
        ("POST", TOKENS, BASIC_CHALLENGE),
        ("GET", ME, f"{BASIC_CHALLENGE}, {BEARER_CHALLENGE}"),
        ("DELETE", CURRENT, BEARER_CHALLENGE),
    ],
)
async def test_missing_credentials_are_a_401_that_says_what_to_send(
    client: QuartClient, method: str, path: str, challenge: str
) -> None:
    error, sent_challenge = await refused(client, method, path)
    assert sent_challenge == challenge
    assert error["error"] == "unauthorized"
    assert error["message"].startswith("Authentication required: send ")


async def test_a_wrong_password_is_a_401(
    client: QuartClient, session: AsyncSession, account: accounts.Account
) -> None:
    error, challenge = await refused(
        client, "POST", TOKENS, basic(password="wrong password")
    )
    assert challenge == BASIC_CHALLENGE
    assert error == {"error": "unauthorized", "message": "Invalid email or password."}
    assert (await session.scalars(select(ApiToken))).all() == []


async def test_an_unknown_email_gets_the_same_401(
    client: QuartClient, account: accounts.Account
) -> None:
    error, challenge = await refused(client, "POST", TOKENS, basic("eve@example.com"))
    assert challenge == BASIC_CHALLENGE
    assert error == {"error": "unauthorized", "message": "Invalid email or password."}


async def test_an_unconfirmed_account_is_forbidden_a_token(
    app: Quart, client: QuartClient, session: AsyncSession
) -> None:
    await create_account(app, email=EMAIL, confirmed=False)

    error, _ = await refused(client, "POST", TOKENS, basic(), status=403)

    assert error == {"error": "forbidden", "message": "Unconfirmed account."}
    assert (await session.scalars(select(ApiToken))).all() == []


def _basic_raw(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic ",
        "Basic not-base64!",
        "Basic YWRh",  # "ada": no colon
        _basic_raw(b":" + PASSWORD.encode()),  # no email
        _basic_raw(EMAIL.encode() + b":"),  # no password
        _basic_raw(b"\xff\xfe:" + PASSWORD.encode()),  # not UTF-8
        _basic_raw(b"ada\x00@example.com:" + PASSWORD.encode()),  # NUL
        _basic_raw(b"a" * 300 + b"@example.com:x"),  # email too long
        _basic_raw(EMAIL.encode() + b":" + b"x" * 100_000),  # huge
        "Basic " + "A" * 100_000,
        "Bearer",
        "Bearer ",
        "Bearer not a token",
        "Bearer " + "A" * 100_000,
        "Bearer \u00e9t\u00e9",
        "Bearer abc\x00def",
        "Digest username=ada",
        "Token abc",
        "garbage",
        "\u00e9",
    ],
)
@pytest.mark.parametrize("path", [TOKENS, ME])
async def test_garbage_authorization_is_a_401(
    client: QuartClient, account: accounts.Account, header: str, path: str
) -> None:
    method = "POST" if path == TOKENS else "GET"
    error, challenge = await refused(client, method, path, {"Authorization": header})
    assert error["error"] == "unauthorized"
    assert challenge is not None


# --- ending tokens ------------------------------------------------------------


async def test_a_revoked_token_is_refused(
    client: QuartClient, account: accounts.Account
) -> None:
    token = await issue(client)
    other = await issue(client)

    response = await client.delete(CURRENT, headers=bearer(token))

    assert response.status_code == 204
    assert await response.get_data() == b""
    for method, path in (("GET", ME), ("DELETE", CURRENT)):
        error, challenge = await refused(client, method, path, bearer(token))
        assert challenge is not None
        assert challenge.endswith(DEAD_TOKEN_CHALLENGE)
        assert error["message"] == "Invalid or expired token."
    # Only the token in use is revoked.
    assert (await client.get(ME, headers=bearer(other))).status_code == 200


async def test_an_expired_token_is_refused(
    client: QuartClient, session: AsyncSession, account: accounts.Account
) -> None:
    token = await issue(client)
    async with session.begin():
        await session.execute(
            update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    error, challenge = await refused(client, "GET", ME, bearer(token))

    assert challenge == f"{BASIC_CHALLENGE}, {DEAD_TOKEN_CHALLENGE}"
    assert error["message"] == "Invalid or expired token."


async def test_a_new_token_clears_the_users_expired_ones(
    client: QuartClient, session: AsyncSession, account: accounts.Account
) -> None:
    await issue(client)
    async with session.begin():
        await session.execute(
            update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    token = await issue(client)

    [row] = (await session.scalars(select(ApiToken))).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()


async def test_changing_the_password_revokes_every_token(
    app: Quart, client: QuartClient, account: accounts.Account
) -> None:
    tokens = [await issue(client), await issue(client)]

    async with (
        app.test_request_context("/"),
        app_database(app).sessionmaker() as session,
    ):
        changed = await credentials.change_password(
            session, account, old_password=PASSWORD, new_password="a new password"
        )
    assert changed is not None

    for token in tokens:
        await refused(client, "GET", ME, bearer(token))
    await refused(client, "POST", TOKENS, basic())
    await issue(client, password="a new password")


# --- limits -----------------------------------------------------------------


async def test_the_31st_token_request_in_a_minute_is_a_429(
    client: QuartClient, account: accounts.Account
) -> None:
    for _ in range(30):
        await refused(client, "POST", TOKENS, basic(password="a guess"))

    # Over the limit even the right password waits.
    response = await client.post(TOKENS, headers=basic())

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.content_type == "application/json"
    assert (await response.get_json())["error"] == "too many requests"


async def test_the_61st_token_request_for_an_account_in_an_hour_is_a_429(
    client: QuartClient, account: accounts.Account
) -> None:
    # Three addresses stay under their limit of 30 a minute each.
    for number in range(60):
        response = await client.post(
            TOKENS,
            headers=basic(password="a guess"),
            **from_address(f"192.0.2.{number % 3 + 1}"),
        )
        assert response.status_code == 401

    response = await client.post(TOKENS, headers=basic(), **from_address("192.0.2.9"))
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    # Another account from the same address is not held up.
    await create_account(client.app, email="bob@example.com", username="bob")
    response = await client.post(
        TOKENS, headers=basic("bob@example.com"), **from_address("192.0.2.9")
    )
    assert response.status_code == 200


async def test_reading_with_a_token_is_not_rate_limited(
    client: QuartClient, account: accounts.Account
) -> None:
    token = await issue(client)
    for _ in range(40):
        assert (await client.get(ME, headers=bearer(token))).status_code == 200


# --- secrets and the document --------------------------------------------------


async def test_no_password_or_token_reaches_the_log(
    client: QuartClient, account: accounts.Account, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await issue(client)
    await client.get(ME, headers=bearer(token))
    await client.post(TOKENS, headers=basic(password="a wrong guess"))
    await client.delete(CURRENT, headers=bearer(token))
    await client.get(ME, headers=bearer(token))

    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    for secret in (token, PASSWORD, "a wrong guess", basic()["Authorization"]):
        assert secret not in logged


async def test_openapi_declares_who_may_call_what(client: QuartClient) -> None:
    spec = await (await client.get("/openapi.json")).get_json()

    assert spec["components"]["securitySchemes"] == {
        "basic": {"type": "http", "scheme": "basic"},
        "bearer": {"type": "http", "scheme": "bearer"},
    }
    paths = spec["paths"]
    assert paths["/api/v1/tokens"]["post"]["security"] == [{"basic": []}]
    assert paths["/api/v1/tokens/current"]["delete"]["security"] == [{"bearer": []}]
    assert paths["/api/v1/users/me"]["get"]["security"] == [
        {"basic": []},
        {"bearer": []},
    ]
    # Public, with optional credentials (the empty requirement) for the email.
    for path in ("/api/v1/users", "/api/v1/users/{user_id}"):
        assert paths[path]["get"]["security"] == [
            {"basic": []},
            {"bearer": []},
            {},
        ]
    assert "security" not in paths["/api/v1/roles"]["get"]  # public
    assert "security" not in paths["/api/v1/users"]["post"]
    issue_responses = paths["/api/v1/tokens"]["post"]["responses"]
    assert set(issue_responses) == {"200", "401", "403", "429"}
    assert "www-authenticate" in issue_responses["401"]["headers"]
    assert "retry-after" in issue_responses["429"]["headers"]
    revoke = paths["/api/v1/tokens/current"]["delete"]["responses"]["204"]
    assert "content" not in revoke
