"""How many SQL statements each page and endpoint runs: few, and never one per row."""

from __future__ import annotations

import base64

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database
from quarty.models import User
from quarty.services import roles as roles_service
from tests.accounts import PASSWORD, create_account, log_in
from tests.helpers import app_database, client_of, get_csrf_token, started_app
from tests.queries import counted

API = "/api/v1"


@pytest.fixture
async def store(session: AsyncSession) -> None:
    """Three roles and 30 users, so that a page of users spans several roles."""
    roles = await roles_service.insert_default_roles(session)
    assert roles
    session.add_all(
        User(username=f"user{index:02}", role_id=index % 3 + 1) for index in range(30)
    )
    await session.commit()


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/", 0),
        ("/auth/login", 0),
        ("/auth/register", 0),
        ("/auth/reset", 0),
        ("/avatar/" + "ab" * 32, 0),
        ("/user/user01", 1),
        (f"{API}/users", 1),
        (f"{API}/users?per_page=100", 1),
        (f"{API}/users/1", 1),
        (f"{API}/roles", 1),
        (f"{API}/roles/1/users", 2),
    ],
)
async def test_reads_run_a_fixed_number_of_queries(
    client: QuartClient, database: Database, store: None, path: str, queries: int
) -> None:
    with counted(database) as statements:
        response = await client.get(path)
    assert response.status_code == 200
    assert statements.count == queries, statements.sql


async def test_a_known_name_is_one_lookup(
    client: QuartClient, database: Database, store: None
) -> None:
    token = await get_csrf_token(client)
    with counted(database) as statements:
        response = await client.post("/", form={"name": "user01", "csrf_token": token})
    assert response.status_code == 302
    assert statements.count == 1, statements.sql


@pytest.mark.parametrize(("admin", "queries"), [(None, 2), ("admin@example.com", 3)])
async def test_a_new_name_is_a_lookup_and_its_inserts(
    app_settings: dict[str, object], admin: str | None, queries: int
) -> None:
    async with started_app({**app_settings, "QUARTY_ADMIN": admin}) as app:
        client = client_of(app)
        token = await get_csrf_token(client)
        with counted(app_database(app)) as statements:
            response = await client.post("/", form={"name": "ada", "csrf_token": token})
    assert response.status_code == 302
    # The lookup, the user's INSERT, and with an admin the New User mail's.
    assert statements.count == queries, statements.sql


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/", 0),
        ("/user/ada", 1),
        ("/edit-profile", 1),
        ("/auth/change-password", 0),
        ("/auth/change_email", 0),
    ],
)
async def test_a_signed_in_page_adds_one_query_for_the_user(
    app: Quart, client: QuartClient, database: Database, path: str, queries: int
) -> None:
    await create_account(app)
    await log_in(client)
    with counted(database) as statements:
        response = await client.get(path)
    assert response.status_code == 200
    assert statements.count == 1 + queries, statements.sql


async def test_a_login_is_one_query(
    app: Quart, client: QuartClient, database: Database
) -> None:
    await create_account(app)
    token = await get_csrf_token(client, "/auth/login")
    form = {"email": "ada@example.com", "password": PASSWORD, "csrf_token": token}
    with counted(database) as statements:
        response = await client.post("/auth/login", form=form)
    assert response.headers["Location"] == "/"
    assert statements.count == 1, statements.sql


@pytest.mark.parametrize(
    ("path", "queries"),
    [(f"{API}/users/me", 1), (f"{API}/users", 1), (f"{API}/users/1", 1)],
)
async def test_an_api_call_with_a_token_adds_one_query(
    app: Quart, client: QuartClient, database: Database, path: str, queries: int
) -> None:
    await create_account(app)
    response = await client.post(
        f"{API}/tokens", headers={"Authorization": basic_auth("ada@example.com")}
    )
    token = (await response.get_json())["token"]
    with counted(database) as statements:
        response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    # The token's account, then what the endpoint reads.
    assert statements.count == 1 + queries, statements.sql


def basic_auth(email: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{PASSWORD}".encode()).decode()
