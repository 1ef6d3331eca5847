"""Follows in the API: follow and unfollow by PUT and DELETE, the lists both ways,
and the counts and links the user JSON gains."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database
from quarty.models import Follow, Permission, Role, User
from quarty.services import auth
from quarty.services import roles as roles_service
from tests.accounts import create_account
from tests.queries import counted
from tests.test_api import local_path
from tests.test_api_posts import add_posts, page_number
from tests.test_api_profiles import basic, call, make_account, token_for

API = "/api/v1"
WRITER_ROLE = "Writer"  # may write, may not follow
# Seed follows are dated from here, a minute apart.
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def follow_path(user_id: int) -> str:
    return f"{API}/users/{user_id}/follow"


async def change(
    client: QuartClient, method: str, user_id: int, headers: dict[str, str]
) -> None:
    """PUT or DELETE a follow, which must answer 204 with no body."""
    response = await client.open(follow_path(user_id), method=method, headers=headers)
    assert response.status_code == 204, await response.get_data(as_text=True)
    assert await response.get_data() == b""


async def names(client: QuartClient, path: str) -> list[str]:
    """The usernames on the first page of a followers or following list."""
    page = await call(client, "GET", path)
    key = "followers" if path.endswith("/followers") else "following"
    return [item["username"] for item in page[key]]


async def counts(client: QuartClient, user_id: int) -> tuple[int, int, int]:
    """A user's post, followers and following counts, as their JSON gives them."""
    user = await call(client, "GET", f"{API}/users/{user_id}")
    return user["post_count"], user["followers_count"], user["following_count"]


async def add_follows(
    session: AsyncSession, pairs: list[tuple[int, int]]
) -> list[datetime]:
    """Follows (follower, followed), each a minute after the one before; their times."""
    times = [LONG_AGO + timedelta(minutes=index) for index in range(len(pairs))]
    session.add_all(
        Follow(follower_id=follower, followed_id=followed, timestamp=when)
        for (follower, followed), when in zip(pairs, times, strict=True)
    )
    await session.commit()
    return times


@pytest.fixture
async def roles(session: AsyncSession) -> None:
    """The default roles, and one that may write but not follow."""
    await roles_service.insert_default_roles(session)
    session.add(Role(name=WRITER_ROLE, permissions=Permission.WRITE))
    await session.commit()


@pytest.fixture
async def people(app: Quart, roles: None) -> list[auth.Account]:
    """ada, bob, cy, dee and eve: accounts with the User role."""
    return [
        await make_account(app, email=f"{name}@example.com", username=name)
        for name in ("ada", "bob", "cy", "dee", "eve")
    ]


@pytest.fixture
async def ada_headers(client: QuartClient, people: list[auth.Account]) -> Any:
    return await token_for(client, people[0].email)


# --- following and unfollowing --------------------------------------------------


async def test_following_shows_in_both_lists_and_both_counts(
    client: QuartClient, people: list[auth.Account], ada_headers: dict[str, str]
) -> None:
    ada, bob, *_ = people
    await change(client, "PUT", bob.id, ada_headers)

    followers = await call(client, "GET", f"{API}/users/{bob.id}/followers")
    assert followers["count"] == 1
    [item] = followers["followers"]
    assert set(item) == {"user_url", "username", "timestamp"}
    assert item["username"] == "ada"
    assert item["user_url"] == f"http://localhost{API}/users/{ada.id}"
    assert datetime.fromisoformat(item["timestamp"]).utcoffset() == timedelta(0)
    assert await names(client, f"{API}/users/{ada.id}/following") == ["bob"]
    assert await counts(client, bob.id) == (0, 1, 0)
    assert await counts(client, ada.id) == (0, 0, 1)
    # Following is one way: bob does not follow ada back.
    assert await names(client, f"{API}/users/{ada.id}/followers") == []


async def test_following_twice_is_204_both_times_and_one_follow(
    client: QuartClient, people: list[auth.Account], ada_headers: dict[str, str]
) -> None:
    bob = people[1]
    await change(client, "PUT", bob.id, ada_headers)
    first = await call(client, "GET", f"{API}/users/{bob.id}/followers")
    await change(client, "PUT", bob.id, ada_headers)
    # Nothing changed, not even the time of the follow.
    assert await call(client, "GET", f"{API}/users/{bob.id}/followers") == first
    assert first["count"] == 1


async def test_unfollowing_twice_is_204_both_times(
    client: QuartClient, people: list[auth.Account], ada_headers: dict[str, str]
) -> None:
    ada, bob, *_ = people
    await change(client, "PUT", bob.id, ada_headers)
    await change(client, "DELETE", bob.id, ada_headers)
    assert await counts(client, bob.id) == (0, 0, 0)
    await change(client, "DELETE", bob.id, ada_headers)
    assert await names(client, f"{API}/users/{ada.id}/following") == []


async def test_basic_credentials_follow_too(
    client: QuartClient, people: list[auth.Account]
) -> None:
    ada, bob, *_ = people
    await change(client, "PUT", bob.id, basic(ada.email))
    assert await names(client, f"{API}/users/{bob.id}/followers") == ["ada"]
    await change(client, "DELETE", bob.id, basic(ada.email))
    assert await names(client, f"{API}/users/{bob.id}/followers") == []


async def test_following_oneself_is_a_409(
    client: QuartClient, people: list[auth.Account], ada_headers: dict[str, str]
) -> None:
    ada = people[0]
    error = await call(client, "PUT", follow_path(ada.id), ada_headers, status=409)
    assert error == {
        "error": "conflict",
        "message": "You cannot follow yourself.",
    }
    assert await counts(client, ada.id) == (0, 0, 0)
    # Not following oneself is already so.
    await change(client, "DELETE", ada.id, ada_headers)


async def test_a_user_without_an_account_cannot_be_followed(
    client: QuartClient,
    session: AsyncSession,
    people: list[auth.Account],
    ada_headers: dict[str, str],
) -> None:
    susan = User(username="susan")
    session.add(susan)
    await session.commit()

    error = await call(client, "PUT", follow_path(susan.id), ada_headers, status=409)

    assert error == {
        "error": "conflict",
        "message": "susan cannot be followed: they have no account.",
    }
    assert await counts(client, susan.id) == (0, 0, 0)
    await change(client, "DELETE", susan.id, ada_headers)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_an_unknown_user_is_a_404(
    client: QuartClient, ada_headers: dict[str, str], method: str
) -> None:
    error = await call(client, method, follow_path(4242), ada_headers, status=404)
    assert error == {"error": "not found", "message": "There is no user with id 4242."}


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_a_role_without_follow_is_a_403(
    app: Quart, client: QuartClient, people: list[auth.Account], method: str
) -> None:
    ada, bob, *_ = people
    await change(client, "PUT", bob.id, basic(ada.email))
    await make_account(
        app, email="writer@example.com", username="writer", role=WRITER_ROLE
    )
    headers = await token_for(client, "writer@example.com")

    error = await call(client, method, follow_path(bob.id), headers, status=403)

    assert error == {"error": "forbidden", "message": "Insufficient permissions"}
    assert await names(client, f"{API}/users/{bob.id}/followers") == ["ada"]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_an_unconfirmed_account_is_a_403(
    app: Quart, client: QuartClient, people: list[auth.Account], method: str
) -> None:
    bob = people[1]
    await create_account(app, email="new@example.com", username="new", confirmed=False)
    error = await call(
        client, method, follow_path(bob.id), basic("new@example.com"), status=403
    )
    assert error == {"error": "forbidden", "message": "Unconfirmed account."}


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_no_credentials_are_a_401(
    client: QuartClient, people: list[auth.Account], method: str
) -> None:
    response = await client.open(follow_path(people[1].id), method=method)
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert "Basic" in response.headers["WWW-Authenticate"]


# --- the lists ------------------------------------------------------------------


async def test_followers_page_newest_first_both_ways(
    client: QuartClient, session: AsyncSession, people: list[auth.Account]
) -> None:
    ada, bob, cy, dee, eve = people
    # bob, cy, dee and eve follow ada, in that order.
    await add_follows(
        session, [(bob.id, ada.id), (cy.id, ada.id), (dee.id, ada.id), (eve.id, ada.id)]
    )
    path = f"{API}/users/{ada.id}/followers"

    first = await call(client, "GET", f"{path}?per_page=3")
    assert first["count"] == 4
    assert first["prev"] is None
    assert local_path(first["next"]) == f"{path}?page=2&per_page=3"
    second = await call(client, "GET", local_path(first["next"]))
    assert second["next"] is None
    assert local_path(second["prev"]) == f"{path}?page=1&per_page=3"

    shown = [item["username"] for item in first["followers"] + second["followers"]]
    assert shown == ["eve", "dee", "cy", "bob"]


async def test_following_pages_list_whom_the_user_follows(
    client: QuartClient, session: AsyncSession, people: list[auth.Account]
) -> None:
    ada, bob, cy, dee, eve = people
    times = await add_follows(
        session, [(ada.id, bob.id), (ada.id, cy.id), (eve.id, ada.id), (ada.id, dee.id)]
    )
    path = f"{API}/users/{ada.id}/following"

    page = await call(client, "GET", f"{path}?per_page=2")

    assert page["count"] == 3
    assert [item["username"] for item in page["following"]] == ["dee", "cy"]
    assert [
        datetime.fromisoformat(item["timestamp"]) for item in page["following"]
    ] == [
        times[3],
        times[1],
    ]
    assert page["following"][0]["user_url"] == f"http://localhost{API}/users/{dee.id}"
    last = await call(client, "GET", local_path(page["next"]))
    assert [item["username"] for item in last["following"]] == ["bob"]


@pytest.mark.parametrize("which", ["followers", "following"])
async def test_a_page_past_the_end_is_empty_with_a_way_back(
    client: QuartClient, session: AsyncSession, people: list[auth.Account], which: str
) -> None:
    ada, bob, *_ = people
    await add_follows(session, [(ada.id, bob.id), (bob.id, ada.id)])
    page = await call(client, "GET", f"{API}/users/{ada.id}/{which}?page=5")
    assert (page[which], page["next"], page["count"]) == ([], None, 1)
    assert page_number(page["prev"]) == 4


@pytest.mark.parametrize("which", ["followers", "following"])
async def test_nobody_is_an_empty_page(
    client: QuartClient, people: list[auth.Account], which: str
) -> None:
    page = await call(client, "GET", f"{API}/users/{people[0].id}/{which}")
    assert page == {which: [], "prev": None, "next": None, "count": 0}


@pytest.mark.parametrize("which", ["followers", "following"])
@pytest.mark.parametrize("page", [1, 3])
async def test_the_lists_of_an_unknown_user_are_a_404(
    client: QuartClient, which: str, page: int
) -> None:
    path = f"{API}/users/4242/{which}?page={page}"
    error = await call(client, "GET", path, status=404)
    assert error == {"error": "not found", "message": "There is no user with id 4242."}


@pytest.mark.parametrize("query", ["page=0", "per_page=101", "page=x"])
async def test_bad_page_parameters_are_a_400(
    client: QuartClient, people: list[auth.Account], query: str
) -> None:
    path = f"{API}/users/{people[0].id}/followers?{query}"
    error = await call(client, "GET", path, status=400)
    assert error["message"].startswith("Invalid query parameter: ")


# --- the user JSON --------------------------------------------------------------


async def test_the_user_json_counts_and_links_posts_and_follows(
    client: QuartClient, session: AsyncSession, people: list[auth.Account]
) -> None:
    ada, bob, cy, *_ = people
    await add_posts(session, [ada.id, ada.id, bob.id], [0, 1, 2])
    await add_follows(session, [(bob.id, ada.id), (cy.id, ada.id), (ada.id, cy.id)])

    user = await call(client, "GET", f"{API}/users/{ada.id}")

    assert (user["post_count"], user["followers_count"], user["following_count"]) == (
        2,
        2,
        1,
    )
    posts = await call(client, "GET", local_path(user["posts_url"]))
    assert posts["count"] == 2
    followers = await call(client, "GET", local_path(user["followers_url"]))
    assert followers["count"] == 2
    following = await call(client, "GET", local_path(user["following_url"]))
    assert [item["username"] for item in following["following"]] == ["cy"]


async def test_every_user_on_a_page_has_their_own_counts(
    client: QuartClient, session: AsyncSession, people: list[auth.Account]
) -> None:
    ada, bob, cy, _dee, eve = people
    await add_posts(session, [bob.id] * 3 + [eve.id], [0, 1, 2, 3])
    await add_follows(session, [(ada.id, bob.id), (cy.id, bob.id), (bob.id, eve.id)])

    page = await call(client, "GET", f"{API}/users")

    shown = {
        user["username"]: (
            user["post_count"],
            user["followers_count"],
            user["following_count"],
        )
        for user in page["users"]
    }
    assert shown == {
        "ada": (0, 0, 1),
        "bob": (3, 2, 1),
        "cy": (0, 0, 1),
        "dee": (0, 0, 0),
        "eve": (1, 1, 0),
    }


async def test_me_and_a_registered_name_have_the_counts_too(
    client: QuartClient, session: AsyncSession, people: list[auth.Account]
) -> None:
    ada, bob, *_ = people
    await add_follows(session, [(bob.id, ada.id)])
    me = await call(client, "GET", f"{API}/users/me", basic(ada.email))
    assert (me["post_count"], me["followers_count"], me["following_count"]) == (
        0,
        1,
        0,
    )
    created = await call(
        client, "POST", f"{API}/users", json_body={"username": "zed"}, status=201
    )
    assert (created["post_count"], created["followers_count"]) == (0, 0)
    assert created["followers_url"].endswith(f"/users/{created['id']}/followers")


# --- queries --------------------------------------------------------------------


@pytest.mark.parametrize("per_page", [1, 3])  # four follows each way
@pytest.mark.parametrize(
    ("query", "queries"),
    [
        ("page=1", 1),  # the follows, each with the total
        ("page=2", 1),
        ("page=99", 2),  # past the end: no row carries the total
    ],
)
@pytest.mark.parametrize("which", ["followers", "following"])
async def test_a_list_runs_the_same_queries_for_any_page_size(
    client: QuartClient,
    database: Database,
    session: AsyncSession,
    people: list[auth.Account],
    which: str,
    per_page: int,
    query: str,
    queries: int,
) -> None:
    ada, *others = people
    await add_follows(
        session,
        [(other.id, ada.id) for other in others]
        + [(ada.id, other.id) for other in others],
    )
    path = f"{API}/users/{ada.id}/{which}?{query}&per_page={per_page}"
    with counted(database) as statements:
        response = await client.get(path)
    assert response.status_code == 200
    assert statements.count == queries, statements.sql


@pytest.mark.parametrize("which", ["followers", "following"])
async def test_an_empty_list_asks_whether_the_user_exists(
    client: QuartClient, database: Database, people: list[auth.Account], which: str
) -> None:
    with counted(database) as statements:
        response = await client.get(f"{API}/users/{people[0].id}/{which}")
    assert response.status_code == 200
    assert statements.count == 2, statements.sql


@pytest.mark.parametrize(
    ("method", "following", "queries"),
    [
        ("PUT", False, 2),  # whether bob has an account, the insert
        ("PUT", True, 2),  # the same: the key refuses the insert
        ("DELETE", True, 1),  # the delete
        ("DELETE", False, 2),  # the delete, then whether bob exists
    ],
)
async def test_a_change_runs_a_fixed_number_of_queries(
    client: QuartClient,
    database: Database,
    people: list[auth.Account],
    ada_headers: dict[str, str],
    method: str,
    following: bool,
    queries: int,
) -> None:
    bob = people[1]
    if following:
        await change(client, "PUT", bob.id, ada_headers)
    with counted(database) as statements:
        await change(client, method, bob.id, ada_headers)
    # The token's account, then the change.
    assert statements.count == 1 + queries, statements.sql
