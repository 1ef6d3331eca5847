"""The account pages' defences: CSRF everywhere, expired links, limits on guessing."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select

from quarty.models import User
from quarty.security.links import Purpose, fingerprint, make_token
from tests.accounts import PASSWORD, create_account, log_in, page_text, submit
from tests.helpers import app_database, csrf_token_in

SECRET_KEY = "test-secret-key"  # conftest's app_settings


class TwoHoursAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 2 * 3600


def old_token(purpose: Purpose, payload: dict[str, object]) -> str:
    """A link the app signed two hours ago: past its hour."""
    serializer = URLSafeTimedSerializer(
        SECRET_KEY, salt=str(purpose), signer=TwoHoursAgo
    )
    return serializer.dumps(payload)


@pytest.mark.parametrize(
    ("path", "signed_in"),
    [
        ("/auth/login", False),
        ("/auth/register", False),
        ("/auth/reset", False),
        ("/auth/change-password", True),
        ("/auth/change_email", True),
        ("/auth/logout", True),
        ("/auth/confirm", True),
        ("/", False),
    ],
)
async def test_every_form_refuses_a_post_without_its_csrf_token(
    app: Quart, client: QuartClient, path: str, signed_in: bool
) -> None:
    await create_account(app, confirmed=path != "/auth/confirm")
    if signed_in:
        await log_in(client)
    fields = {"email": "ada@example.com", "password": PASSWORD, "username": "x"}
    response = await client.post(path, form=fields)
    assert response.status_code == 400
    assert "security token" in await response.get_data(as_text=True)


async def test_an_expired_confirmation_link_is_refused(
    app: Quart, client: QuartClient
) -> None:
    account = await create_account(app, confirmed=False)
    await log_in(client)
    path = f"/auth/confirm/{old_token(Purpose.CONFIRM, {'confirm': account.id})}"
    page = await page_text(client, path)
    await client.post(path, form={"csrf_token": csrf_token_in(page)})
    assert "The confirmation link is invalid or has expired." in await page_text(
        client, "/auth/unconfirmed"
    )


async def test_an_expired_reset_link_is_refused(
    app: Quart, client: QuartClient
) -> None:
    account = await create_account(app)
    async with app_database(app).sessionmaker() as session:
        password_hash = await session.scalar(
            select(User.password_hash).where(User.id == account.id)
        )
    async with app.app_context():
        state = fingerprint(password_hash)
    token = old_token(Purpose.RESET_PASSWORD, {"reset": account.id, "state": state})
    response = await client.get(f"/auth/reset/{token}")
    assert response.headers["Location"] == "/auth/reset"
    assert "The password reset link is invalid or has expired." in await page_text(
        client, "/auth/reset"
    )


async def test_a_link_for_one_purpose_does_not_serve_another(
    app: Quart, client: QuartClient
) -> None:
    account = await create_account(app)
    async with app.app_context():
        confirm = make_token(Purpose.CONFIRM, {"reset": account.id, "state": ""})
    response = await client.get(f"/auth/reset/{confirm}")
    assert response.headers["Location"] == "/auth/reset"


async def test_registrations_are_limited_per_address(
    app: Quart, client: QuartClient
) -> None:
    statuses = []
    for number in range(11):
        response = await submit(
            client,
            "/auth/register",
            email=f"user{number}@example.com",
            username=f"user{number}",
            password=PASSWORD,
            password2=PASSWORD,
        )
        statuses.append(response.status_code)
    assert statuses == [302] * 10 + [429]


async def test_reset_requests_are_limited_per_account(
    app: Quart, client: QuartClient
) -> None:
    await create_account(app)
    statuses = [
        (await submit(client, "/auth/reset", email="ada@example.com")).status_code
        for _ in range(6)
    ]
    assert statuses == [302] * 5 + [429]
    # Another account is not held up by ada's.
    other = await submit(client, "/auth/reset", email="bob@example.com")
    assert other.status_code == 302


async def test_new_passwords_from_reset_links_do_not_share_one_bucket(
    app: Quart, client: QuartClient
) -> None:
    # The new-password form names no account: only its address counts.
    statuses = []
    for _ in range(10):
        response = await submit(
            client,
            "/auth/reset/not-a-valid-token",
            form_page="/auth/reset",
            password=PASSWORD,
            password2=PASSWORD,
        )
        statuses.append(response.status_code)
    assert statuses == [302] * 10
