"""REST API v1: users and roles as JSON, pages with links, creation by name."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from quart.testing import QuartClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.api.converters import whole_numbers_up_to
from quarty.models import Role, User
from quarty.services import accounts
from quarty.services import roles as roles_service
from tests.helpers import submit_name

API = "/api/v1"


def local_path(url: str) -> str:
    """The path and query of an absolute URL the test app made."""
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", "localhost"), url
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def get_json(client: QuartClient, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status_code == status, await response.get_data(as_text=True)
    assert response.content_type == "application/json"
    return await response.get_json()


async def add_roles(session: AsyncSession) -> dict[str, Role]:
    await roles_service.insert_default_roles(session)
    roles = (await session.scalars(select(Role))).all()
    return {role.name: role for role in roles}


async def add_users(
    session: AsyncSession, names: list[str], role: Role | None = None
) -> list[User]:
    users = [User(username=name, role_id=role.id if role else None) for name in names]
    session.add_all(users)
    await session.commit()
    return users


# --- users -----------------------------------------------------------------


async def test_empty_store_lists_no_users(client: QuartClient) -> None:
    body = await get_json(client, f"{API}/users")
    assert body == {"users": [], "prev": None, "next": None, "count": 0}


async def test_user_shows_its_role_with_absolute_links(
    client: QuartClient, session: AsyncSession
) -> None:
    roles = await add_roles(session)
    [user] = await add_users(session, ["susan"], roles["Moderator"])

    body = await get_json(client, f"{API}/users/{user.id}")

    assert body == {
        "id": user.id,
        "url": f"http://localhost{API}/users/{user.id}",
        "username": "susan",
        "role": "Moderator",
        "role_url": f"http://localhost{API}/roles/{roles['Moderator'].id}",
        "name": None,
        "location": None,
        "about_me": None,
        "member_since": body["member_since"],
        "last_seen": body["last_seen"],
        "avatar_url": f"http://localhost/avatar/{user.avatar_hash}?s=80",
        "posts_url": f"http://localhost{API}/users/{user.id}/posts",
        "post_count": 0,
        "followers_url": f"http://localhost{API}/users/{user.id}/followers",
        "followers_count": 0,
        "following_url": f"http://localhost{API}/users/{user.id}/following",
        "following_count": 0,
        "timeline_url": f"http://localhost{API}/users/{user.id}/timeline",
    }
    # The links lead to the same user and to its role.
    assert await get_json(client, local_path(body["url"])) == body
    role = await get_json(client, local_path(body["role_url"]))
    assert role["name"] == "Moderator"


async def test_user_without_role_has_null_role(
    client: QuartClient, session: AsyncSession
) -> None:
    [user] = await add_users(session, ["nobody"])
    body = await get_json(client, f"{API}/users/{user.id}")
    assert body["role"] is None
    assert body["role_url"] is None


async def test_unknown_user_is_a_json_404(client: QuartClient) -> None:
    body = await get_json(client, f"{API}/users/12345", status=404)
    assert body == {"error": "not found", "message": "There is no user with id 12345."}


@pytest.mark.parametrize(
    "user_id", ["0", "-1", "abc", "01", "2147483648", "2999999999", "9" * 30]
)
@pytest.mark.parametrize("method", ["GET", "PATCH"])
async def test_impossible_user_id_is_a_json_404(
    client: QuartClient, user_id: str, method: str
) -> None:
    # Not a 405 for PATCH though GET takes the path, nor a 401: no such user.
    response = await client.open(
        f"{API}/users/{user_id}", method=method, json={"name": "x"}
    )
    assert response.status_code == 404
    assert (await response.get_json())["error"] == "not found"


@pytest.mark.parametrize("limit", [1, 9, 10, 42, 100, 305, 2**31 - 1])
def test_the_id_pattern_matches_exactly_one_to_the_limit(limit: int) -> None:
    pattern = re.compile(whole_numbers_up_to(limit) + r"\Z")
    near = {*range(0, 1000), *range(limit - 1000, limit + 1000), 10 * limit}
    for number in near:
        assert bool(pattern.match(str(number))) == (1 <= number <= limit), number
    assert pattern.match("0" + str(limit)) is None  # no leading zeros


async def test_pagination_links_walk_the_whole_list_both_ways(
    client: QuartClient, session: AsyncSession
) -> None:
    names = [f"user{number:02d}" for number in range(45)]
    await add_users(session, names)

    pages = []
    url: str | None = f"{API}/users?per_page=20"
    while url is not None:
        page = await get_json(client, url)
        pages.append(page)
        url = local_path(page["next"]) if page["next"] else None

    assert [len(page["users"]) for page in pages] == [20, 20, 5]
    assert {page["count"] for page in pages} == {45}
    seen = [user["username"] for page in pages for user in page["users"]]
    assert seen == names  # each once, in id order
    ids = [user["id"] for page in pages for user in page["users"]]
    assert ids == sorted(ids)
    assert pages[0]["prev"] is None

    # And back again from the last page through the prev links.
    back = []
    url = local_path(pages[-1]["prev"])
    while url is not None:
        page = await get_json(client, url)
        back.append(page)
        url = local_path(page["prev"]) if page["prev"] else None
    assert back == pages[-2::-1]


async def test_page_links_are_absolute_and_keep_per_page(
    client: QuartClient, session: AsyncSession
) -> None:
    await add_users(session, ["a", "b", "c", "d", "e"])
    page = await get_json(client, f"{API}/users?page=2&per_page=2")
    assert [user["username"] for user in page["users"]] == ["c", "d"]
    for link, number in ((page["prev"], "1"), (page["next"], "3")):
        parts = urlsplit(link)
        assert parts.scheme == "http" and parts.netloc == "localhost"
        assert parts.path == f"{API}/users"
        assert parse_qs(parts.query) == {"page": [number], "per_page": ["2"]}


async def test_per_page_defaults_to_twenty_and_allows_one_hundred(
    client: QuartClient, session: AsyncSession
) -> None:
    await add_users(session, [f"n{number}" for number in range(101)])
    assert len((await get_json(client, f"{API}/users"))["users"]) == 20
    full = await get_json(client, f"{API}/users?per_page=100")
    assert len(full["users"]) == 100
    assert full["next"] is not None


async def test_page_past_the_end_is_empty_with_a_way_back(
    client: QuartClient, session: AsyncSession
) -> None:
    await add_users(session, ["only"])
    page = await get_json(client, f"{API}/users?page=7")
    assert page["users"] == []
    assert page["next"] is None
    assert page["count"] == 1
    assert parse_qs(urlsplit(page["prev"]).query)["page"] == ["6"]


async def test_last_possible_page_is_served(client: QuartClient) -> None:
    page = await get_json(client, f"{API}/users?page=2147483647&per_page=100")
    assert page["users"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=-3", "page"),
        ("page=two", "page"),
        ("page=", "page"),
        ("page=1.5", "page"),
        ("page=2147483648", "page"),
        ("page=1&page=2", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=lots", "per_page"),
    ],
)
async def test_bad_page_parameters_are_a_400_naming_the_field(
    client: QuartClient, query: str, field: str
) -> None:
    for path in (f"{API}/users", f"{API}/roles/1/users"):
        body = await get_json(client, f"{path}?{query}", status=400)
        assert body["error"] == "bad request"
        assert body["message"].startswith(f"Invalid query parameter: {field}:")


async def test_unknown_query_parameters_are_ignored(client: QuartClient) -> None:
    body = await get_json(client, f"{API}/users?sort=name&page=1")
    assert body["count"] == 0


# --- creating users ----------------------------------------------------------


async def test_post_creates_a_user_with_201_and_location(
    client: QuartClient, session: AsyncSession
) -> None:
    response = await client.post(f"{API}/users", json={"username": "  grace  "})

    assert response.status_code == 201
    body = await response.get_json()
    assert body["username"] == "grace"  # trimmed, as the name form does
    assert body["role"] is None
    assert response.headers["Location"] == body["url"]
    assert body["url"] == f"http://localhost{API}/users/{body['id']}"
    assert await get_json(client, local_path(response.headers["Location"])) == body
    stored = await accounts.get_user_by_username(session, username="grace")
    assert stored is not None and stored.id == body["id"]


async def test_post_of_a_known_name_is_a_409(
    client: QuartClient, session: AsyncSession
) -> None:
    first = await client.post(f"{API}/users", json={"username": "ada"})
    assert first.status_code == 201
    again = await client.post(f"{API}/users", json={"username": " ada "})

    assert again.status_code == 409
    assert await again.get_json() == {
        "error": "conflict",
        "message": "A user named 'ada' already exists.",
    }
    assert await accounts.count_users(session) == 1


async def test_a_name_from_the_form_is_a_conflict_for_the_api(
    client: QuartClient,
) -> None:
    await submit_name(client, "linus")
    response = await client.post(f"{API}/users", json={"username": "linus"})
    assert response.status_code == 409


async def test_a_name_of_exactly_64_characters_is_accepted(
    client: QuartClient,
) -> None:
    name = "x" * 64
    response = await client.post(f"{API}/users", json={"username": f" {name}\t"})
    assert response.status_code == 201
    assert (await response.get_json())["username"] == name


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({}, "username: Field required"),
        ({"username": ""}, "username: must not be blank"),
        ({"username": " \t\n "}, "username: must not be blank"),
        ({"username": "y" * 65}, "username: must be at most 64 characters"),
        ({"username": 42}, "username: Input should be a valid string"),
        ({"username": None}, "username: Input should be a valid string"),
        ({"username": "nul\x00byte"}, "username: must not contain NUL"),
        ({"username": "\ud800"}, "username: must be valid Unicode text"),
        ([], "body: Input should be a valid dictionary"),
        ("susan", "body: Input should be a valid dictionary"),
    ],
)
async def test_invalid_new_user_is_a_400_naming_the_problem(
    client: QuartClient, session: AsyncSession, payload: Any, expected: str
) -> None:
    # Sent as ASCII JSON, so a lone surrogate travels as its \u escape.
    response = await client.post(
        f"{API}/users",
        data=json.dumps(payload),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    body = await response.get_json()
    assert body["error"] == "bad request"
    assert body["message"].startswith(f"Invalid request body: {expected}")
    assert await accounts.count_users(session) == 0


# --- roles -----------------------------------------------------------------


async def test_roles_are_listed_in_id_order_with_links(
    client: QuartClient, session: AsyncSession
) -> None:
    roles = await add_roles(session)
    body = await get_json(client, f"{API}/roles")
    assert [role["name"] for role in body["roles"]] == list(
        roles_service.DEFAULT_ROLE_NAMES
    )
    user_role = body["roles"][0]
    role_id = roles["User"].id
    assert user_role == {
        "id": role_id,
        "url": f"http://localhost{API}/roles/{role_id}",
        "name": "User",
        "users_url": f"http://localhost{API}/roles/{role_id}/users",
    }
    assert await get_json(client, local_path(user_role["url"])) == user_role


async def test_no_roles_is_an_empty_list(client: QuartClient) -> None:
    assert await get_json(client, f"{API}/roles") == {"roles": []}


async def test_unknown_role_is_a_json_404(client: QuartClient) -> None:
    body = await get_json(client, f"{API}/roles/77", status=404)
    assert body == {"error": "not found", "message": "There is no role with id 77."}
    body = await get_json(client, f"{API}/roles/77/users", status=404)
    assert body["message"] == "There is no role with id 77."


async def test_role_users_page_through_only_that_roles_users(
    client: QuartClient, session: AsyncSession
) -> None:
    roles = await add_roles(session)
    moderators = [f"mod{number}" for number in range(5)]
    await add_users(session, ["plain1", "plain2"], roles["User"])
    await add_users(session, moderators, roles["Moderator"])
    await add_users(session, ["loner"])

    role = await get_json(client, f"{API}/roles/{roles['Moderator'].id}")
    seen: list[str] = []
    url: str | None = local_path(role["users_url"]) + "?per_page=2"
    pages = 0
    while url is not None:
        page = await get_json(client, url)
        pages += 1
        assert page["count"] == 5
        assert {user["role"] for user in page["users"]} == {"Moderator"}
        seen += [user["username"] for user in page["users"]]
        url = local_path(page["next"]) if page["next"] else None
        assert page["next"] is None or "/roles/" in page["next"]
    assert seen == moderators
    assert pages == 3


async def test_role_without_users_has_an_empty_page(
    client: QuartClient, session: AsyncSession
) -> None:
    roles = await add_roles(session)
    await add_users(session, ["someone"], roles["User"])
    page = await get_json(client, f"{API}/roles/{roles['Administrator'].id}/users")
    assert page == {"users": [], "prev": None, "next": None, "count": 0}


async def test_racing_posts_of_one_name_create_it_once(
    client: QuartClient, session: AsyncSession
) -> None:
    responses = await asyncio.gather(
        *(client.post(f"{API}/users", json={"username": "racer"}) for _ in range(8))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 7
    assert await accounts.count_users(session) == 1
