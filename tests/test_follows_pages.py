"""The follow pages: Follow and Unfollow as POST forms from the profile, the
profile's counts and "Follows you", and the lists of followers and followed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest
from quart import Quart, Response
from quart.testing import QuartClient
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.models import Follow, Permission, Role, User
from quarty.services import roles
from tests.accounts import create_account, log_in, page_text
from tests.helpers import (
    app_database,
    client_of,
    get_csrf_token,
    started_app,
    submit_name,
)
from tests.queries import Statements, counted

FOLLOW_BUTTON = re.compile(
    r'<form method="post" action="/follow/(\w+)" novalidate>\s*'
    r'<input id="csrf_token" name="csrf_token" type="hidden" value="[^"]+">\s*'
    r'<input class="btn btn-primary" id="submit" name="submit" type="submit"'
    r' value="Follow">'
)
UNFOLLOW_BUTTON = re.compile(
    r'<form method="post" action="/unfollow/(\w+)" novalidate>[^<]*<input[^>]*'
    r'name="csrf_token"[^>]*>\s*<input[^>]*value="Unfollow">'
)
FOLLOWS_YOU = '<span class="badge bg-secondary">Follows you</span>'
ROW = re.compile(r'<tr class="follow">\s*<td>\s*<a href="/user/(\w+)">')
START = datetime(2026, 1, 1, tzinfo=UTC)


class People(NamedTuple):
    ada: int
    bob: int
    cy: int


@pytest.fixture
async def people(app: Quart, session: AsyncSession) -> People:
    """ada, bob and cy, Users, who follow nobody yet."""
    await roles.insert_default_roles(session)
    ada, bob, cy = [
        await create_account(app, email=f"{name}@example.com", username=name)
        for name in ("ada", "bob", "cy")
    ]
    return People(ada.id, bob.id, cy.id)


async def add_follows(session: AsyncSession, pairs: list[tuple[int, int]]) -> None:
    """(follower, followed) pairs, a minute apart in this order: the last is newest."""
    async with writing(session):
        await session.execute(
            insert(Follow),
            [
                {
                    "follower_id": follower,
                    "followed_id": followed,
                    "timestamp": START + timedelta(minutes=index),
                }
                for index, (follower, followed) in enumerate(pairs)
            ],
        )


async def add_accounts(session: AsyncSession, count: int) -> list[int]:
    """Accounts fan00, fan01, … made straight in the store; their ids in order."""
    async with writing(session):
        result = await session.execute(
            insert(User).returning(User.id),
            [
                {
                    "username": f"fan{index:02}",
                    "email": f"fan{index:02}@example.com",
                    "password_hash": "not a real hash",
                    "avatar_hash": f"{index:064x}",
                }
                for index in range(count)
            ],
        )
        ids = list(result.scalars())
    return sorted(ids)


async def stored_follows(session: AsyncSession) -> set[tuple[int, int]]:
    session.expire_all()
    rows = await session.execute(select(Follow.follower_id, Follow.followed_id))
    return {(row[0], row[1]) for row in rows}


async def press(
    client: QuartClient, action: str, username: str, *, token: str | None = None
) -> Response:
    """POST /follow/<username> or /unfollow/<username> as the profile's button
    does, from the profile, with the token of the page (or the one given)."""
    if token is None:
        token = await get_csrf_token(client, f"/user/{username}")
    return await client.post(
        f"/{action}/{username}",
        form={"csrf_token": token},
        headers={"Referer": f"http://localhost/user/{username}"},
    )


async def landing(client: QuartClient, response: Response) -> str:
    """The page a redirect leads to, with its flashes."""
    assert response.status_code == 302
    return await page_text(client, response.headers["Location"])


async def writer_without_follow(session: AsyncSession, email: str) -> None:
    """Give the account a role that may write and comment but not follow."""
    session.add(Role(name="Writer", permissions=Permission.COMMENT | Permission.WRITE))
    await session.commit()
    await roles.set_role(session, email=email, role_name="Writer")


# Follow and Unfollow.


async def test_follow_and_unfollow_flash_the_books_messages_and_return_to_the_profile(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await log_in(client)
    profile = await page_text(client, "/user/bob")
    assert FOLLOW_BUTTON.findall(profile) == ["bob"]
    assert not UNFOLLOW_BUTTON.search(profile)

    response = await press(client, "follow", "bob")
    assert response.headers["Location"] == "/user/bob"
    profile = await landing(client, response)
    assert "You are now following bob." in profile
    assert UNFOLLOW_BUTTON.findall(profile) == ["bob"]
    assert not FOLLOW_BUTTON.search(profile)
    assert await stored_follows(session) == {(people.ada, people.bob)}

    response = await press(client, "unfollow", "bob")
    assert response.headers["Location"] == "/user/bob"
    profile = await landing(client, response)
    assert "You are not following bob anymore." in profile
    assert FOLLOW_BUTTON.findall(profile) == ["bob"]
    assert await stored_follows(session) == set()


async def test_a_repeated_follow_or_unfollow_changes_nothing_and_says_so(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await log_in(client)
    await press(client, "follow", "bob")
    again = await landing(client, await press(client, "follow", "bob"))
    assert "You are already following this user." in again
    assert await stored_follows(session) == {(people.ada, people.bob)}
    await press(client, "unfollow", "bob")
    again = await landing(client, await press(client, "unfollow", "bob"))
    assert "You are not following this user." in again
    assert await stored_follows(session) == set()


async def test_nobody_can_follow_themself(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await log_in(client)
    own = await page_text(client, "/user/ada")
    assert not FOLLOW_BUTTON.search(own)
    assert not UNFOLLOW_BUTTON.search(own)
    response = await press(client, "follow", "ada")
    assert response.headers["Location"] == "/user/ada"
    assert "You cannot follow yourself." in await landing(client, response)
    assert await stored_follows(session) == set()


@pytest.mark.parametrize("action", ["follow", "unfollow"])
async def test_an_unknown_or_name_only_user_is_an_invalid_user(
    client: QuartClient, session: AsyncSession, people: People, action: str
) -> None:
    await submit_name(client, "Guest")  # a name-only user, who cannot log in
    await log_in(client)
    token = await get_csrf_token(client)
    for name in ("nobody", "Guest"):
        response = await press(client, action, name, token=token)
        assert response.headers["Location"] == "/"  # the book's answer
        assert "Invalid user." in await landing(client, response)
    assert await stored_follows(session) == set()


@pytest.mark.parametrize("action", ["follow", "unfollow"])
async def test_a_user_without_follow_is_refused(
    client: QuartClient, session: AsyncSession, people: People, action: str
) -> None:
    await add_follows(session, [(people.ada, people.bob)])
    await writer_without_follow(session, "ada@example.com")
    await log_in(client)
    profile = await page_text(client, "/user/bob")
    assert "Followers: " in profile
    assert not FOLLOW_BUTTON.search(profile)
    assert not UNFOLLOW_BUTTON.search(profile)
    response = await press(client, action, "bob")
    assert response.status_code == 403
    assert "Insufficient permissions" in await response.get_data(as_text=True)
    assert await stored_follows(session) == {(people.ada, people.bob)}


async def test_a_visitor_is_sent_to_log_in(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    profile = await page_text(client, "/user/bob")
    assert not FOLLOW_BUTTON.search(profile)
    response = await press(client, "follow", "bob", token=await get_csrf_token(client))
    assert response.status_code == 302
    # Back to the profile after logging in: the POST's own URL would be a 405.
    assert response.headers["Location"] == "/auth/login?next=/user/bob"
    assert await stored_follows(session) == set()
    assert await log_in(client, "cy@example.com", next_url="/user/bob") == "/user/bob"
    assert FOLLOW_BUTTON.search(await page_text(client, "/user/bob"))


async def test_a_visitor_from_another_site_is_sent_to_log_in_without_a_way_back(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    token = await get_csrf_token(client)
    response = await client.post(
        "/follow/bob",
        form={"csrf_token": token},
        headers={"Referer": "http://evil.example/user/bob"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert await stored_follows(session) == set()


@pytest.mark.parametrize("action", ["follow", "unfollow"])
@pytest.mark.parametrize("token", [None, "", "1##forged"])
async def test_a_post_without_a_valid_csrf_token_is_refused(
    client: QuartClient,
    session: AsyncSession,
    people: People,
    action: str,
    token: str | None,
) -> None:
    await add_follows(session, [(people.ada, people.cy)])
    await log_in(client)
    form = {} if token is None else {"csrf_token": token}
    for name in ("bob", "cy"):
        response = await client.post(f"/{action}/{name}", form=form)
        assert response.status_code == 400
        assert "security token" in await response.get_data(as_text=True)
    assert await stored_follows(session) == {(people.ada, people.cy)}


@pytest.mark.parametrize("action", ["follow", "unfollow"])
async def test_a_get_changes_nothing(
    client: QuartClient, session: AsyncSession, people: People, action: str
) -> None:
    await add_follows(session, [(people.ada, people.cy)])
    await log_in(client)
    for name in ("bob", "cy"):
        response = await client.get(f"/{action}/{name}")
        assert response.status_code == 405
    assert await stored_follows(session) == {(people.ada, people.cy)}


# The profile.


def counts(html: str) -> tuple[int, int]:
    """The profile's "Followers: N" and "Following: N", checking their links."""
    found = re.search(
        r'<a href="/followers/(\w+)">Followers: <span class="badge bg-primary">(\d+)'
        r'</span></a>\s*<a href="/followed_by/\1">Following: '
        r'<span class="badge bg-primary">(\d+)</span></a>',
        html,
    )
    assert found, "no follow counts"
    return int(found.group(2)), int(found.group(3))


async def test_the_profile_counts_follows_and_says_who_follows_you(
    app: Quart, client: QuartClient, session: AsyncSession, people: People
) -> None:
    # bob follows ada; ada and cy follow bob; cy follows nobody else.
    await add_follows(
        session,
        [(people.bob, people.ada), (people.ada, people.bob), (people.cy, people.bob)],
    )
    visitor = await page_text(client, "/user/bob")
    assert counts(visitor) == (2, 1)
    assert FOLLOWS_YOU not in visitor

    await log_in(client)
    bob = await page_text(client, "/user/bob")
    assert counts(bob) == (2, 1)
    assert FOLLOWS_YOU in bob
    assert UNFOLLOW_BUTTON.findall(bob) == ["bob"]
    cy = await page_text(client, "/user/cy")
    assert counts(cy) == (0, 1)
    assert FOLLOWS_YOU not in cy  # cy follows bob only
    assert FOLLOW_BUTTON.findall(cy) == ["cy"]
    own = await page_text(client, "/user/ada")
    assert counts(own) == (1, 1)
    assert FOLLOWS_YOU not in own

    cys = client_of(app)
    await log_in(cys, "cy@example.com")
    bob = await page_text(cys, "/user/bob")
    assert FOLLOWS_YOU not in bob  # bob does not follow cy
    assert UNFOLLOW_BUTTON.findall(bob) == ["bob"]


async def test_a_name_only_user_has_no_follow_button(
    client: QuartClient, people: People
) -> None:
    await submit_name(client, "Guest")
    await log_in(client)
    guest = await page_text(client, "/user/Guest")
    assert "Hello, Guest!" in guest
    assert "Followers:" not in guest
    assert not FOLLOW_BUTTON.search(guest)


# The lists.


async def test_the_lists_show_each_user_with_avatar_link_and_time_newest_first(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_follows(
        session,
        [(people.bob, people.ada), (people.cy, people.ada), (people.ada, people.bob)],
    )
    followers = await page_text(client, "/followers/ada")
    assert '<h1>Followers of <a href="/user/ada">ada</a></h1>' in followers
    assert "<title>Quarty - Followers of ada</title>" in followers
    assert ROW.findall(followers) == ["cy", "bob"]
    assert re.search(
        r'<a href="/user/cy">\s*<img class="rounded" src="/avatar/[0-9a-f]{64}\?s=32"',
        followers,
    )
    # The time of each follow, for the browser to show as a local date.
    since = START + timedelta(minutes=1)
    assert (
        f'<time class="quarty-moment" datetime="{since:%Y-%m-%dT%H:%M:%S}.000Z"'
        ' data-kind="format" data-format="L">'
    ) in followers
    assert 'class="pagination"' not in followers

    followed = await page_text(client, "/followed_by/ada")
    assert '<h1>Followed by <a href="/user/ada">ada</a></h1>' in followed
    assert ROW.findall(followed) == ["bob"]
    assert ROW.findall(await page_text(client, "/followed_by/cy")) == ["ada"]
    nobody = await page_text(client, "/followers/cy")
    assert ROW.findall(nobody) == []
    assert "Nobody yet." in nobody


@pytest.mark.parametrize("path", ["/followers/ada", "/followed_by/ada"])
async def test_the_lists_are_paged(app_settings: dict[str, object], path: str) -> None:
    settings = {**app_settings, "QUARTY_FOLLOWERS_PER_PAGE": 2}
    async with started_app(settings) as app:
        async with app_database(app).sessionmaker() as session:
            ada = (await create_account(app)).id
            fans = await add_accounts(session, 5)
            # Five follow ada, and ada follows five: fan04's follow is the newest.
            await add_follows(session, [(fan, ada) for fan in fans])
            await add_follows(session, [(ada, fan) for fan in fans])
        client = client_of(app)
        first = await page_text(client, path)
        assert ROW.findall(first) == ["fan04", "fan03"]
        assert f'href="{path}?page=3"' in first
        assert ROW.findall(await page_text(client, f"{path}?page=2")) == [
            "fan02",
            "fan01",
        ]
        assert ROW.findall(await page_text(client, f"{path}?page=3")) == ["fan00"]
        past = await page_text(client, f"{path}?page=9")
        assert ROW.findall(past) == []
        assert f'href="{path}?page=1"' in past  # a way back


@pytest.mark.parametrize("kind", ["followers", "followed_by"])
async def test_an_unknown_or_name_only_user_has_no_list(
    client: QuartClient, people: People, kind: str
) -> None:
    await submit_name(client, "Guest")
    assert (await client.get(f"/{kind}/nobody")).status_code == 404
    assert (await client.get(f"/{kind}/Guest")).status_code == 404
    assert (await client.get(f"/{kind}/ada")).status_code == 200


# How many queries.


async def _count(app: Quart, path: str, *, signed_in: bool) -> Statements:
    client = client_of(app)
    if signed_in:
        await log_in(client)
    with counted(app_database(app)) as statements:
        response = await client.get(path)
    assert response.status_code == 200
    return statements


@pytest.mark.parametrize("per_page", [2, 50])
@pytest.mark.parametrize(
    ("path", "signed_in", "queries"),
    [
        ("/user/bob", True, 3),  # the account, the profile with follows, the posts
        ("/user/bob", False, 2),
        ("/followers/bob", False, 2),  # the profile, the page with its total
        ("/followers/bob?page=99", False, 2),  # the profile counted them
        ("/followed_by/bob", False, 2),
        ("/followers/bob", True, 3),
        ("/followed_by/bob?page=99", True, 3),
    ],
)
async def test_the_pages_run_the_same_queries_for_any_page_size(
    app_settings: dict[str, object],
    per_page: int,
    path: str,
    signed_in: bool,
    queries: int,
) -> None:
    settings = {**app_settings, "QUARTY_FOLLOWERS_PER_PAGE": per_page}
    async with started_app(settings) as app:
        async with app_database(app).sessionmaker() as session:
            await roles.insert_default_roles(session)
            ada = (await create_account(app)).id
            bob = (
                await create_account(app, email="bob@example.com", username="bob")
            ).id
            fans = await add_accounts(session, 6)
            await add_follows(
                session,
                [(ada, bob), (bob, ada)]
                + [(fan, bob) for fan in fans]
                + [(bob, fan) for fan in fans],
            )
        statements = await _count(app, path, signed_in=signed_in)
    assert statements.count == queries, statements.sql


@pytest.mark.parametrize(
    ("action", "queries"),
    [
        # The account; the user by name; whether they have an account; the
        # INSERT (a repeat's INSERT fails on the key, in as many).
        ("follow", 4),
        # The account; the user by name; the DELETE.
        ("unfollow", 3),
    ],
)
async def test_follow_and_unfollow_run_a_fixed_number_of_queries(
    app: Quart, people: People, action: str, queries: int
) -> None:
    client = client_of(app)
    await log_in(client)
    token = await get_csrf_token(client, "/user/bob")
    with counted(app_database(app)) as statements:
        response = await client.post(f"/{action}/bob", form={"csrf_token": token})
    assert response.status_code == 302
    assert statements.count == queries, statements.sql
