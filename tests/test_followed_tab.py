"""The All and Followed tabs of the home page: POST buttons, the show_followed
cookie they set, the followed feed, and a visitor who always sees All."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import NamedTuple

import pytest
from quart import Quart, Response
from quart.testing import QuartClient
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.services import follows, roles
from quarty.services.auth import Account
from tests.accounts import create_account, log_in, page_text
from tests.helpers import app_database, client_of, get_csrf_token, started_app
from tests.queries import counted
from tests.test_posts_pages import add_posts, bodies

THIRTY_DAYS = 30 * 24 * 60 * 60
TAB = re.compile(
    r'<form method="post" action="(/all|/followed)">\s*'
    r'<input type="hidden" name="csrf_token" value="[^"]+">\s*'
    r'<button type="submit" class="nav-link( active)?"[^>]*>(All|Followed)</button>'
)


class People(NamedTuple):
    ada: Account
    bob: Account
    cy: Account


@pytest.fixture
def app_settings(app_settings: dict[str, object]) -> dict[str, object]:
    """Four posts a page, so that a feed of a few spans pages."""
    return {**app_settings, "QUARTY_POSTS_PER_PAGE": 4}


async def make_people(app: Quart) -> People:
    """ada, bob and cy; ada follows bob, nobody follows cy; 12 posts, the three
    taking turns (ada wrote "post 0")."""
    async with app_database(app).sessionmaker() as session:
        await roles.insert_default_roles(session)
    ada, bob, cy = [
        await create_account(app, email=f"{name}@example.com", username=name)
        for name in ("ada", "bob", "cy")
    ]
    async with app_database(app).sessionmaker() as session:
        await follows.follow(session, follower=ada, followed_id=bob.id)
        await add_posts(session, [ada.id, bob.id, cy.id], 12)
    return People(ada, bob, cy)


@pytest.fixture
async def people(app: Quart) -> People:
    return await make_people(app)


async def choose(client: QuartClient, tab: str) -> Response:
    """Press a tab of the home page as a browser would."""
    token = await get_csrf_token(client)
    return await client.post(
        f"/{tab}",
        form={"csrf_token": token},
        headers={"Referer": "http://localhost/"},
    )


def tabs(html: str) -> list[str]:
    """The tabs on a page, the active one starred: ["All*", "Followed"]."""
    return [f"{label}{'*' if active else ''}" for _, active, label in TAB.findall(html)]


def set_cookie(response: Response) -> str:
    (header,) = [
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith("show_followed=")
    ]
    return header


def attributes(header: str) -> dict[str, str]:
    """A Set-Cookie header's attributes, names lower-cased."""
    pairs = [part.strip().partition("=") for part in header.split(";")[1:]]
    return {name.lower(): value for name, _, value in pairs}


# The tabs.


async def test_a_signed_in_user_gets_the_tabs_all_first(
    client: QuartClient, people: People
) -> None:
    await log_in(client)
    html = await page_text(client, "/")
    assert tabs(html) == ["All*", "Followed"]
    assert 'aria-current="page">All</button>' in html
    assert bodies(html) == ["post 11", "post 10", "post 9", "post 8"]


async def test_the_followed_tab_lists_the_followed_and_ones_own_posts(
    client: QuartClient, people: People
) -> None:
    await log_in(client)
    response = await choose(client, "followed")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    html = await page_text(client, "/")
    assert tabs(html) == ["All", "Followed*"]
    # ada wrote 0, 3, 6, 9 and bob 1, 4, 7, 10; cy's are left out.
    assert bodies(html) == ["post 10", "post 9", "post 7", "post 6"]
    second = await page_text(client, "/?page=2")
    assert bodies(second) == ["post 4", "post 3", "post 1", "post 0"]
    assert tabs(second) == ["All", "Followed*"]
    assert bodies(await page_text(client, "/?page=3")) == []


async def test_the_all_tab_goes_back_to_everyones_posts(
    client: QuartClient, people: People
) -> None:
    await log_in(client)
    await choose(client, "followed")
    response = await choose(client, "all")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert set_cookie(response).startswith("show_followed=;")
    html = await page_text(client, "/")
    assert tabs(html) == ["All*", "Followed"]
    assert bodies(html) == ["post 11", "post 10", "post 9", "post 8"]


async def test_a_user_who_follows_nobody_sees_their_own_posts(
    client: QuartClient, people: People
) -> None:
    await log_in(client, "cy@example.com")
    await choose(client, "followed")
    html = await page_text(client, "/")
    assert bodies(html) == ["post 11", "post 8", "post 5", "post 2"]


# The cookie.


@pytest.mark.parametrize(("tab", "value"), [("followed", "1"), ("all", "")])
async def test_the_choice_is_kept_30_days_out_of_scripts_reach(
    client: QuartClient, people: People, tab: str, value: str
) -> None:
    await log_in(client)
    response = await choose(client, tab)
    header = set_cookie(response)
    assert header.startswith(f"show_followed={value};")
    cookie = attributes(header)
    assert cookie["max-age"] == str(THIRTY_DAYS)
    expires = parsedate_to_datetime(cookie["expires"])
    lifetime = expires - datetime.now(UTC)
    assert timedelta(days=29) < lifetime <= timedelta(days=30)
    assert "httponly" in cookie
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert "secure" not in cookie  # the testing config serves plain HTTP


async def test_the_cookie_is_secure_when_the_session_cookie_is(
    app_settings: dict[str, object],
) -> None:
    async with started_app({**app_settings, "SESSION_COOKIE_SECURE": True}) as app:
        await make_people(app)
        client = client_of(app)
        await log_in(client)
        response = await choose(client, "followed")
    assert "secure" in attributes(set_cookie(response))


# Refusals.


async def test_the_tabs_change_state_only_on_post(
    client: QuartClient, people: People
) -> None:
    await log_in(client)
    for path in ("/all", "/followed"):
        response = await client.get(path)
        assert response.status_code == 405
        assert "show_followed" not in response.headers.get("Set-Cookie", "")


async def test_a_tab_without_a_csrf_token_is_refused(
    client: QuartClient, people: People
) -> None:
    await log_in(client)
    response = await client.post("/followed")
    assert response.status_code == 400
    assert "security token" in await response.get_data(as_text=True)
    assert "show_followed" not in response.headers.get("Set-Cookie", "")
    assert tabs(await page_text(client, "/")) == ["All*", "Followed"]


async def test_a_visitor_is_sent_to_log_in_to_choose_a_tab(
    client: QuartClient, people: People
) -> None:
    response = await choose(client, "followed")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/"
    assert "show_followed" not in response.headers.get("Set-Cookie", "")


async def test_a_visitor_sees_all_posts_and_the_name_form_whatever_the_cookie(
    client: QuartClient, people: People
) -> None:
    client.set_cookie("localhost", "show_followed", "1")
    html = await page_text(client, "/")
    assert tabs(html) == []
    assert "What is your name?" in html
    assert bodies(html) == ["post 11", "post 10", "post 9", "post 8"]


async def test_the_cookie_outlives_a_sign_out(
    client: QuartClient, people: People
) -> None:
    await log_in(client)
    await choose(client, "followed")
    token = await get_csrf_token(client)
    await client.post("/auth/logout", form={"csrf_token": token})
    assert "Hello, Stranger!" in await page_text(client, "/")
    await log_in(client)
    assert tabs(await page_text(client, "/")) == ["All", "Followed*"]


# Queries.


@pytest.mark.parametrize("per_page", [2, 40])
@pytest.mark.parametrize(
    ("tab", "signed_in", "queries"),
    [
        ("all", True, 2),  # the account, then the posts with their total
        ("followed", True, 2),
        ("followed", False, 1),  # the cookie is ignored: everyone's posts
    ],
)
async def test_the_home_page_runs_the_same_queries_on_either_tab(
    app_settings: dict[str, object],
    per_page: int,
    tab: str,
    signed_in: bool,
    queries: int,
) -> None:
    async with started_app({**app_settings, "QUARTY_POSTS_PER_PAGE": per_page}) as app:
        await make_people(app)
        client = client_of(app)
        await log_in(client)
        await choose(client, tab)
        if not signed_in:
            token = await get_csrf_token(client)
            await client.post("/auth/logout", form={"csrf_token": token})
        with counted(app_database(app)) as statements:
            response = await client.get("/")
    assert response.status_code == 200
    assert statements.count == queries, statements.sql
    listed = 8 if tab == "followed" and signed_in else 12
    html = await response.get_data(as_text=True)
    assert len(bodies(html)) == min(per_page, listed)


async def test_a_follow_made_later_shows_on_the_followed_tab(
    app: Quart, client: QuartClient, session: AsyncSession, people: People
) -> None:
    await log_in(client)
    await choose(client, "followed")
    assert "post 11" not in await page_text(client, "/")  # cy's
    await follows.follow(session, follower=people.ada, followed_id=people.cy.id)
    assert bodies(await page_text(client, "/"))[0] == "post 11"


@pytest.mark.parametrize("tab", ["all", "followed"])
async def test_choosing_a_tab_runs_only_the_accounts_query(
    app: Quart, client: QuartClient, people: People, tab: str
) -> None:
    await log_in(client)
    token = await get_csrf_token(client)
    with counted(app_database(app)) as statements:
        response = await client.post(f"/{tab}", form={"csrf_token": token})
    assert response.status_code == 302
    assert statements.count == 1, statements.sql
