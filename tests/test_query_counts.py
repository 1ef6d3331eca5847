"""How many SQL statements each page and endpoint runs: few, and never one per row."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from quart import Quart, Response
from quart.testing import QuartClient
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database
from quarty.models import User
from quarty.services import posts as posts_service
from quarty.services import roles as roles_service
from tests.accounts import PASSWORD, create_account, log_in
from tests.helpers import app_database, client_of, get_csrf_token, started_app
from tests.queries import Statements, counted

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
        ("/", 1),  # the posts (none yet) and their total
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
        ("/", 1),
        ("/user/ada", 2),  # the profile, then its posts
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


# Pages with posts: 45 by three authors, more than two pages of 20.
POSTS = 45


async def _posts_store(app: Quart) -> None:
    """The default roles, ada, bob and cy, and POSTS posts, the authors taking
    turns (ada wrote post 1)."""
    async with app_database(app).sessionmaker() as session:
        await roles_service.insert_default_roles(session)
    authors = [
        await create_account(app, email=f"{name}@example.com", username=name)
        for name in ("ada", "bob", "cy")
    ]
    async with app_database(app).sessionmaker() as session:
        for index in range(POSTS):
            await posts_service.create_post(
                session, author=authors[index % 3], body=f"post *{index}*"
            )


async def _count_queries(
    settings: dict[str, object], path: str, *, signed_in: bool
) -> tuple[Response, Statements]:
    """GET path on a posts store, as a visitor or signed in as ada."""
    async with started_app(settings) as app:
        await _posts_store(app)
        client = client_of(app)
        if signed_in:
            await log_in(client)
        with counted(app_database(app)) as statements:
            response = await client.get(path)
    assert response.status_code == 200
    return response, statements


@pytest.mark.parametrize("per_page", [5, 40])
@pytest.mark.parametrize(
    ("path", "signed_in", "queries", "listed"),
    [
        ("/", False, 1, POSTS),  # the posts, each with the total
        ("/?page=2", False, 1, POSTS),
        ("/?page=99", False, 2, POSTS),  # past the end: no row carries the total
        ("/user/bob", False, 2, POSTS // 3),  # the profile, then its posts
        ("/user/bob?page=99", False, 2, POSTS // 3),  # the profile counted them
        ("/", True, 2, POSTS),  # the signed-in account first
        ("/?page=99", True, 3, POSTS),
        ("/user/bob", True, 3, POSTS // 3),
        ("/user/bob?page=99", True, 3, POSTS // 3),
    ],
)
async def test_a_list_of_posts_runs_the_same_queries_for_any_page_size(
    app_settings: dict[str, object],
    per_page: int,
    path: str,
    signed_in: bool,
    queries: int,
    listed: int,
) -> None:
    settings = {**app_settings, "QUARTY_POSTS_PER_PAGE": per_page}
    response, statements = await _count_queries(settings, path, signed_in=signed_in)
    assert statements.count == queries, statements.sql
    # The page holds per_page of the `listed` posts, or what is left of them.
    page = int(parse_qs(urlsplit(path).query).get("page", ["1"])[0])
    shown = max(0, min(per_page, listed - (page - 1) * per_page))
    html = await response.get_data(as_text=True)
    assert html.count('<li class="post">') == shown


@pytest.mark.parametrize(
    ("path", "signed_in", "queries"),
    [("/post/1", False, 1), ("/post/1", True, 2), ("/edit/1", True, 2)],
)
async def test_a_post_page_is_one_query_and_the_users(
    app_settings: dict[str, object], path: str, signed_in: bool, queries: int
) -> None:
    _response, statements = await _count_queries(
        app_settings, path, signed_in=signed_in
    )
    assert statements.count == queries, statements.sql
