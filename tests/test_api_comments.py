"""Comments in the API: write one, read a post's and everyone's, hide a disabled
one's body from all but moderators; posts count their comments; the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database
from quarty.models import COMMENT_BODY_MAX_LENGTH, Comment, Follow, Permission, Role
from quarty.services import auth
from quarty.services import comments as comments_service
from quarty.services import roles as roles_service
from tests.accounts import create_account
from tests.queries import counted
from tests.test_api import local_path
from tests.test_api_posts import add_posts, page_number
from tests.test_api_profiles import basic, call, make_account, token_for

API = "/api/v1"
COMMENTS = f"{API}/comments"
WRITER_ROLE = "Writer"  # may write posts, may not comment
# Seed comments are dated from here, a minute apart, after the seed posts.
LONG_AGO = datetime(2021, 1, 1, tzinfo=UTC)
COMMENT_FIELDS = {
    "id",
    "url",
    "post_url",
    "body",
    "body_html",
    "timestamp",
    "author_url",
    "disabled",
}


def comments_of(post_id: int) -> str:
    return f"{API}/posts/{post_id}/comments"


async def add_comments(
    session: AsyncSession,
    pairs: list[tuple[int, int]],
    *,
    disabled: frozenset[int] = frozenset(),
) -> list[int]:
    """Comments (author, post), each a minute after the one before, the ones at
    the `disabled` indexes disabled; their ids."""
    rows = [
        Comment(
            author_id=author_id,
            post_id=post_id,
            body=f"comment *{index}*",
            body_html=f"comment <em>{index}</em>",
            timestamp=LONG_AGO + timedelta(minutes=index),
            disabled=index in disabled,
        )
        for index, (author_id, post_id) in enumerate(pairs)
    ]
    session.add_all(rows)
    await session.commit()
    return [row.id for row in rows]


async def comment_on(
    client: QuartClient, post_id: int, headers: dict[str, str], body: str
) -> Any:
    """Comment on a post, which must be a 201; its JSON."""
    return await call(
        client,
        "POST",
        comments_of(post_id),
        headers,
        json_body={"body": body},
        status=201,
    )


def ids(page: dict[str, Any]) -> list[int]:
    return [comment["id"] for comment in page["comments"]]


@pytest.fixture
async def roles(session: AsyncSession) -> None:
    """The default roles, and one that may write posts but not comment."""
    await roles_service.insert_default_roles(session)
    session.add(Role(name=WRITER_ROLE, permissions=Permission.WRITE))
    await session.commit()


@pytest.fixture
async def people(app: Quart, roles: None) -> list[auth.Account]:
    """ada, bob and cy, with the User role."""
    return [
        await make_account(app, email=f"{name}@example.com", username=name)
        for name in ("ada", "bob", "cy")
    ]


@pytest.fixture
async def posts(session: AsyncSession, people: list[auth.Account]) -> list[int]:
    """Two posts by ada and one by bob; their ids, oldest first."""
    ada, bob, _cy = people
    return await add_posts(session, [ada.id, ada.id, bob.id], [0, 1, 2])


@pytest.fixture
async def bob_headers(client: QuartClient, people: list[auth.Account]) -> Any:
    return await token_for(client, people[1].email)


# --- writing --------------------------------------------------------------------


async def test_a_new_comment_is_201_with_its_location_and_absolute_links(
    client: QuartClient,
    people: list[auth.Account],
    posts: list[int],
    bob_headers: dict[str, str],
) -> None:
    bob = people[1]
    response = await client.post(
        comments_of(posts[0]), headers=bob_headers, json={"body": "Well *said*."}
    )
    assert response.status_code == 201
    comment = await response.get_json()

    assert set(comment) == COMMENT_FIELDS
    assert comment["body"] == "Well *said*."
    assert comment["body_html"] == "Well <em>said</em>.\n"
    assert comment["disabled"] is False
    assert comment["url"] == f"http://localhost{COMMENTS}/{comment['id']}"
    assert response.headers["Location"] == comment["url"]
    assert comment["post_url"] == f"http://localhost{API}/posts/{posts[0]}"
    assert comment["author_url"] == f"http://localhost{API}/users/{bob.id}"
    assert datetime.fromisoformat(comment["timestamp"]).utcoffset() == timedelta(0)
    # Each link leads where it says.
    assert await call(client, "GET", local_path(comment["url"])) == comment
    post = await call(client, "GET", local_path(comment["post_url"]))
    assert post["comment_count"] == 1
    listed = await call(client, "GET", local_path(post["comments_url"]))
    assert listed["comments"] == [comment]
    author = await call(client, "GET", local_path(comment["author_url"]))
    assert author["username"] == "bob"


async def test_a_comment_keeps_only_inline_markup(
    client: QuartClient, posts: list[int], bob_headers: dict[str, str]
) -> None:
    body = "# Big\n\n**bold** [link](https://example.com)\n\n<script>alert(1)</script>"
    comment = await comment_on(client, posts[0], bob_headers, body)
    html = comment["body_html"]
    assert comment["body"] == body
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.com"' in html
    for dropped in ("<h1", "<p>", "<script", "alert"):
        assert dropped not in html


async def test_basic_credentials_comment_too(
    client: QuartClient, people: list[auth.Account], posts: list[int]
) -> None:
    comment = await comment_on(client, posts[2], basic(people[0].email), "Thanks!")
    assert comment["author_url"].endswith(f"/users/{people[0].id}")


async def test_a_comment_on_an_unknown_post_is_a_404(
    client: QuartClient, posts: list[int], bob_headers: dict[str, str]
) -> None:
    error = await call(
        client,
        "POST",
        comments_of(4242),
        bob_headers,
        json_body={"body": "Hello?"},
        status=404,
    )
    assert error == {"error": "not found", "message": "There is no post with id 4242."}
    assert (await call(client, "GET", COMMENTS))["count"] == 0


async def test_a_role_without_comment_may_not_comment(
    app: Quart, client: QuartClient, posts: list[int]
) -> None:
    await make_account(
        app, email="writer@example.com", username="writer", role=WRITER_ROLE
    )
    headers = await token_for(client, "writer@example.com")
    error = await call(
        client,
        "POST",
        comments_of(posts[0]),
        headers,
        json_body={"body": "Let me in"},
        status=403,
    )
    assert error == {"error": "forbidden", "message": "Insufficient permissions"}
    assert (await call(client, "GET", COMMENTS))["count"] == 0


async def test_an_unconfirmed_account_may_not_comment(
    app: Quart, client: QuartClient, posts: list[int]
) -> None:
    await create_account(app, email="new@example.com", username="new", confirmed=False)
    error = await call(
        client,
        "POST",
        comments_of(posts[0]),
        basic("new@example.com"),
        json_body={"body": "Too soon"},
        status=403,
    )
    assert error == {"error": "forbidden", "message": "Unconfirmed account."}


async def test_no_credentials_are_a_401(client: QuartClient, posts: list[int]) -> None:
    response = await client.post(comments_of(posts[0]), json={"body": "Anonymous"})
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"body": ""}, "body: The comment is empty."),
        ({"body": " \n\t "}, "body: The comment is empty."),
        (
            {"body": "x" * (COMMENT_BODY_MAX_LENGTH + 1)},
            "body: String should have at most 2000 characters",
        ),
        ({"body": "a\x00b"}, "body: A comment cannot contain NUL characters."),
        ({"body": 7}, "body: Input should be a valid string"),
        ({}, "body: Field required"),
        ({"body": "ok", "post_id": 1}, "post_id: Extra inputs are not permitted"),
    ],
)
async def test_a_bad_body_is_a_400_naming_the_field(
    client: QuartClient,
    posts: list[int],
    bob_headers: dict[str, str],
    body: dict[str, Any],
    message: str,
) -> None:
    error = await call(
        client, "POST", comments_of(posts[0]), bob_headers, json_body=body, status=400
    )
    assert error == {
        "error": "bad request",
        "message": f"Invalid request body: {message}",
    }
    assert (await call(client, "GET", COMMENTS))["count"] == 0


async def test_the_longest_comment_is_kept_whole(
    client: QuartClient, posts: list[int], bob_headers: dict[str, str]
) -> None:
    body = "x" * COMMENT_BODY_MAX_LENGTH
    comment = await comment_on(client, posts[0], bob_headers, body)
    assert (await call(client, "GET", local_path(comment["url"])))["body"] == body


async def test_a_body_that_is_not_json_is_a_415(
    client: QuartClient, posts: list[int], bob_headers: dict[str, str]
) -> None:
    response = await client.post(
        comments_of(posts[0]), headers=bob_headers, data="body=hi"
    )
    assert response.status_code == 415


# --- reading --------------------------------------------------------------------


async def test_a_posts_comments_are_its_own_oldest_first_both_ways(
    client: QuartClient,
    session: AsyncSession,
    people: list[auth.Account],
    posts: list[int],
) -> None:
    ada, bob, cy = people
    first, second, _third = posts
    made = await add_comments(
        session,
        [(bob.id, first), (cy.id, second), (ada.id, first), (cy.id, first)],
    )
    path = comments_of(first)

    page_one = await call(client, "GET", f"{path}?per_page=2")
    assert ids(page_one) == [made[0], made[2]]
    assert page_one["count"] == 3
    assert page_one["prev"] is None
    assert local_path(page_one["next"]) == f"{path}?page=2&per_page=2"
    page_two = await call(client, "GET", local_path(page_one["next"]))
    assert ids(page_two) == [made[3]]
    assert page_two["next"] is None
    assert local_path(page_two["prev"]) == f"{path}?page=1&per_page=2"
    for comment in page_one["comments"] + page_two["comments"]:
        assert comment["post_url"] == f"http://localhost{API}/posts/{first}"


async def test_every_comment_newest_first(
    client: QuartClient,
    session: AsyncSession,
    people: list[auth.Account],
    posts: list[int],
) -> None:
    ada, bob, cy = people
    made = await add_comments(
        session, [(bob.id, posts[0]), (cy.id, posts[2]), (ada.id, posts[1])]
    )
    page = await call(client, "GET", f"{COMMENTS}?per_page=2")
    assert ids(page) == [made[2], made[1]]
    assert page["count"] == 3
    rest = await call(client, "GET", local_path(page["next"]))
    assert ids(rest) == [made[0]]


async def test_a_page_past_the_end_is_empty_with_a_way_back(
    client: QuartClient,
    session: AsyncSession,
    people: list[auth.Account],
    posts: list[int],
) -> None:
    await add_comments(session, [(people[1].id, posts[0])])
    for path in (comments_of(posts[0]), COMMENTS):
        page = await call(client, "GET", f"{path}?page=4")
        assert (page["comments"], page["next"], page["count"]) == ([], None, 1)
        assert page_number(page["prev"]) == 3


async def test_no_comments_are_an_empty_page(
    client: QuartClient, posts: list[int]
) -> None:
    empty: dict[str, Any] = {"comments": [], "prev": None, "next": None, "count": 0}
    assert await call(client, "GET", comments_of(posts[0])) == empty
    assert await call(client, "GET", COMMENTS) == empty


@pytest.mark.parametrize("page", [1, 3])
async def test_the_comments_of_an_unknown_post_are_a_404(
    client: QuartClient, page: int
) -> None:
    path = f"{comments_of(4242)}?page={page}"
    error = await call(client, "GET", path, status=404)
    assert error == {"error": "not found", "message": "There is no post with id 4242."}


async def test_an_unknown_comment_is_a_404(client: QuartClient) -> None:
    error = await call(client, "GET", f"{COMMENTS}/4242", status=404)
    assert error == {
        "error": "not found",
        "message": "There is no comment with id 4242.",
    }


@pytest.mark.parametrize("query", ["page=0", "per_page=101", "per_page=x"])
async def test_bad_page_parameters_are_a_400(
    client: QuartClient, posts: list[int], query: str
) -> None:
    for path in (comments_of(posts[0]), COMMENTS):
        error = await call(client, "GET", f"{path}?{query}", status=400)
        assert error["message"].startswith("Invalid query parameter: ")


# --- disabled comments ----------------------------------------------------------


@pytest.fixture
async def disabled_comment(
    app: Quart, session: AsyncSession, people: list[auth.Account], posts: list[int]
) -> int:
    """A comment by bob on ada's first post, disabled by a moderator."""
    [comment_id] = await add_comments(session, [(people[1].id, posts[0])])
    moderator = await make_account(
        app, email="mod@example.com", username="mod", role="Moderator"
    )
    assert await comments_service.set_disabled(
        session, moderator=moderator, comment_id=comment_id, disabled=True
    )
    return comment_id


async def shown_everywhere(
    client: QuartClient, comment_id: int, post_id: int, headers: dict[str, str]
) -> list[Any]:
    """The comment as its own URL, its post's list and every comment show it."""
    one = await call(client, "GET", f"{COMMENTS}/{comment_id}", headers)
    [in_post] = (await call(client, "GET", comments_of(post_id), headers))["comments"]
    [in_all] = (await call(client, "GET", COMMENTS, headers))["comments"]
    return [one, in_post, in_all]


@pytest.mark.parametrize("caller", [None, "ada@example.com", "bob@example.com"])
async def test_a_disabled_comments_body_is_hidden_from_non_moderators(
    client: QuartClient, posts: list[int], disabled_comment: int, caller: str | None
) -> None:
    # Its author (bob) and the post's (ada) see no more than a visitor.
    headers = {} if caller is None else await token_for(client, caller)
    for comment in await shown_everywhere(client, disabled_comment, posts[0], headers):
        assert comment["disabled"] is True
        assert comment["body"] is None
        assert comment["body_html"] is None
        assert comment["url"].endswith(f"/comments/{disabled_comment}")


@pytest.mark.parametrize("role", ["Moderator", "Administrator"])
async def test_moderators_read_a_disabled_comments_body(
    app: Quart,
    client: QuartClient,
    posts: list[int],
    disabled_comment: int,
    role: str,
) -> None:
    await make_account(app, email="staff@example.com", username="staff", role=role)
    headers = await token_for(client, "staff@example.com")
    for comment in await shown_everywhere(client, disabled_comment, posts[0], headers):
        assert comment["disabled"] is True
        assert comment["body"] == "comment *0*"
        assert comment["body_html"] == "comment <em>0</em>"


async def test_a_disabled_comment_still_counts_on_its_post(
    client: QuartClient, posts: list[int], disabled_comment: int
) -> None:
    post = await call(client, "GET", f"{API}/posts/{posts[0]}")
    assert post["comment_count"] == 1


# --- posts count their comments -------------------------------------------------


async def test_every_post_on_a_page_counts_its_own_comments(
    client: QuartClient,
    session: AsyncSession,
    people: list[auth.Account],
    posts: list[int],
) -> None:
    ada, bob, cy = people
    await add_comments(
        session,
        [(bob.id, posts[0]), (cy.id, posts[0]), (ada.id, posts[2])],
        disabled=frozenset({1}),
    )
    page = await call(client, "GET", f"{API}/posts")
    counts = {post["id"]: post["comment_count"] for post in page["posts"]}
    assert counts == {posts[0]: 2, posts[1]: 0, posts[2]: 1}
    for post in page["posts"]:
        assert post["comments_url"] == f"http://localhost{comments_of(post['id'])}"


# --- the timeline ---------------------------------------------------------------


async def test_the_timeline_has_the_followed_users_posts_and_the_users_own(
    client: QuartClient,
    session: AsyncSession,
    people: list[auth.Account],
    posts: list[int],
) -> None:
    ada, bob, cy = people
    [by_cy] = await add_posts(session, [cy.id], [3])
    session.add_all(
        [
            Follow(follower_id=ada.id, followed_id=bob.id),
            Follow(follower_id=cy.id, followed_id=ada.id),  # not ada's concern
        ]
    )
    await session.commit()
    user = await call(client, "GET", f"{API}/users/{ada.id}")
    path = f"{API}/users/{ada.id}/timeline"
    assert user["timeline_url"] == f"http://localhost{path}"

    first = await call(client, "GET", f"{path}?per_page=2")
    assert [post["id"] for post in first["posts"]] == [posts[2], posts[1]]
    assert first["count"] == 3
    rest = await call(client, "GET", local_path(first["next"]))
    assert [post["id"] for post in rest["posts"]] == [posts[0]]
    assert local_path(rest["prev"]) == f"{path}?page=1&per_page=2"
    # cy's own timeline: cy's post and ada's, not bob's.
    theirs = await call(client, "GET", f"{API}/users/{cy.id}/timeline")
    assert [post["id"] for post in theirs["posts"]] == [by_cy, posts[1], posts[0]]


async def test_a_user_who_follows_nobody_and_wrote_nothing_has_an_empty_timeline(
    client: QuartClient, people: list[auth.Account]
) -> None:
    page = await call(client, "GET", f"{API}/users/{people[2].id}/timeline")
    assert page == {"posts": [], "prev": None, "next": None, "count": 0}


@pytest.mark.parametrize("page", [1, 2])
async def test_the_timeline_of_an_unknown_user_is_a_404(
    client: QuartClient, page: int
) -> None:
    path = f"{API}/users/4242/timeline?page={page}"
    error = await call(client, "GET", path, status=404)
    assert error == {"error": "not found", "message": "There is no user with id 4242."}


# --- queries --------------------------------------------------------------------


@pytest.fixture
async def busy_store(
    session: AsyncSession, people: list[auth.Account], posts: list[int]
) -> tuple[int, int]:
    """Three more posts by ada (six in all, five hers), six comments on her
    first post, two of them disabled, and ada following bob: the first post's
    id and ada's."""
    ada, bob, cy = people
    await add_posts(session, [ada.id] * 3, [3, 4, 5])
    await add_comments(
        session,
        [(bob.id, posts[0]), (cy.id, posts[0]), (ada.id, posts[0])] * 2,
        disabled=frozenset({1, 4}),
    )
    session.add(Follow(follower_id=ada.id, followed_id=bob.id))
    await session.commit()
    return posts[0], ada.id


@pytest.mark.parametrize("per_page", [1, 4])
@pytest.mark.parametrize(
    ("query", "queries"),
    [
        ("page=1", 1),  # the rows, each with the total
        ("page=2", 1),
        ("page=99", 2),  # past the end: no row carries the total
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "/posts/{post}/comments",
        "/comments",
        "/users/{ada}/timeline",
        "/posts",
        "/users/{ada}/posts",
    ],
)
async def test_a_list_runs_the_same_queries_for_any_page_size(
    client: QuartClient,
    database: Database,
    busy_store: tuple[int, int],
    path: str,
    query: str,
    queries: int,
    per_page: int,
) -> None:
    post_id, ada_id = busy_store
    url = API + path.format(post=post_id, ada=ada_id) + f"?{query}&per_page={per_page}"
    with counted(database) as statements:
        response = await client.get(url)
    assert response.status_code == 200
    assert statements.count == queries, statements.sql


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/posts/{post}/comments", 2),  # no comments, so: is there such a post?
        ("/users/{cy}/timeline", 2),  # no posts, so: is there such a user?
        ("/comments/{comment}", 1),
        ("/posts/{post}", 1),
    ],
)
async def test_a_read_runs_a_fixed_number_of_queries(
    client: QuartClient,
    database: Database,
    session: AsyncSession,
    people: list[auth.Account],
    posts: list[int],
    path: str,
    queries: int,
) -> None:
    [comment_id] = await add_comments(session, [(people[0].id, posts[2])])
    url = API + path.format(post=posts[0], cy=people[2].id, comment=comment_id)
    with counted(database) as statements:
        response = await client.get(url)
    assert response.status_code == 200
    assert statements.count == queries, statements.sql


async def test_a_moderators_read_adds_only_the_token_query(
    app: Quart,
    client: QuartClient,
    database: Database,
    busy_store: tuple[int, int],
) -> None:
    await make_account(app, email="mod@example.com", username="mod", role="Moderator")
    headers = await token_for(client, "mod@example.com")
    with counted(database) as statements:
        page = await call(client, "GET", f"{COMMENTS}?per_page=6", headers)
    assert all(comment["body"] is not None for comment in page["comments"])
    assert statements.count == 2, statements.sql


async def test_a_comment_is_written_in_a_fixed_number_of_queries(
    client: QuartClient,
    database: Database,
    busy_store: tuple[int, int],
    bob_headers: dict[str, str],
) -> None:
    post_id, _ada_id = busy_store
    with counted(database) as statements:
        await comment_on(client, post_id, bob_headers, "One more.")
    # The token's account; then whether the post exists, the insert, the
    # comment read back and the post's new count, in one transaction.
    assert statements.count == 5, statements.sql
