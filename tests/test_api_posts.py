"""Posts in the API: write, read, edit, page through them, and a user's own."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database
from quarty.models import POST_BODY_MAX_LENGTH, Permission, Post, Role
from quarty.services import auth
from quarty.services import roles as roles_service
from tests.accounts import create_account
from tests.queries import counted
from tests.test_api import local_path
from tests.test_api_profiles import basic, call, make_account, token_for

API = "/api/v1"
POSTS = f"{API}/posts"
# Seed posts are dated from here: before any post a test writes.
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
READER_ROLE = "Reader"


def page_number(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["page"][0])


async def add_posts(
    session: AsyncSession, author_ids: list[int], minutes: list[int]
) -> list[int]:
    """Posts by these authors, written these many minutes after LONG_AGO; their ids."""
    posts = [
        Post(
            author_id=author_id,
            body=f"post {index}",
            body_html=f"<p>post {index}</p>",
            timestamp=LONG_AGO + timedelta(minutes=minute),
        )
        for index, (author_id, minute) in enumerate(
            zip(author_ids, minutes, strict=True)
        )
    ]
    session.add_all(posts)
    await session.commit()
    return [post.id for post in posts]


async def write(client: QuartClient, headers: dict[str, str], body: str) -> Any:
    """Write a post, which must be a 201; its JSON."""
    return await call(
        client, "POST", POSTS, headers, json_body={"body": body}, status=201
    )


@pytest.fixture
async def roles(session: AsyncSession) -> None:
    """The default roles, and one that may follow and comment but not write."""
    await roles_service.insert_default_roles(session)
    session.add(
        Role(name=READER_ROLE, permissions=Permission.FOLLOW | Permission.COMMENT)
    )
    await session.commit()


@pytest.fixture
async def ada(app: Quart, roles: None) -> auth.Account:
    return await make_account(app, email="ada@example.com", username="ada")


@pytest.fixture
async def bob(app: Quart, roles: None) -> auth.Account:
    return await make_account(app, email="bob@example.com", username="bob")


@pytest.fixture
async def ada_headers(client: QuartClient, ada: auth.Account) -> dict[str, str]:
    return await token_for(client, ada.email)


# --- writing ------------------------------------------------------------------


async def test_a_new_post_is_201_with_its_location_and_absolute_links(
    client: QuartClient, ada: auth.Account, ada_headers: dict[str, str]
) -> None:
    response = await client.post(
        POSTS, headers=ada_headers, json={"body": "Hello, *world*!"}
    )
    assert response.status_code == 201
    post = await response.get_json()

    assert set(post) == {
        "id",
        "url",
        "body",
        "body_html",
        "timestamp",
        "author_url",
        "comment_count",
        "comments_url",
    }
    assert post["body"] == "Hello, *world*!"
    assert post["body_html"] == "<p>Hello, <em>world</em>!</p>\n"
    assert post["url"] == f"http://localhost{POSTS}/{post['id']}"
    assert post["author_url"] == f"http://localhost{API}/users/{ada.id}"
    assert response.headers["Location"] == post["url"]
    written = datetime.fromisoformat(post["timestamp"])
    assert written.utcoffset() == timedelta(0)
    # The Location and the author's link lead to the post and its writer.
    assert await call(client, "GET", local_path(response.headers["Location"])) == post
    author = await call(client, "GET", local_path(post["author_url"]))
    assert author["username"] == "ada"


async def test_basic_credentials_write_a_post_too(
    client: QuartClient, ada: auth.Account
) -> None:
    post = await write(client, basic(ada.email), "By password.")
    assert post["author_url"].endswith(f"/users/{ada.id}")


async def test_the_html_is_markdown_made_safe(
    client: QuartClient, ada_headers: dict[str, str]
) -> None:
    body = (
        "# Title\n\n"
        "<script>alert('owned')</script>\n\n"
        '**bold** <img src=x onerror="alert(1)"> and '
        "[a link](https://example.com/page) near https://example.org"
    )
    post = await write(client, ada_headers, body)
    html = post["body_html"]

    assert post["body"] == body  # the Markdown is kept as written
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    for unsafe in ("<script", "alert", "<img", "onerror"):
        assert unsafe not in html
    links = re.findall(r"<a [^>]*>", html)
    assert len(links) == 2
    for link in links:
        assert 'rel="nofollow noopener"' in link
    assert 'href="https://example.com/page"' in links[0]
    assert 'href="https://example.org"' in links[1]


async def test_a_body_of_the_longest_length_is_kept_whole(
    client: QuartClient, ada_headers: dict[str, str]
) -> None:
    body = "x" * POST_BODY_MAX_LENGTH
    post = await write(client, ada_headers, body)
    shown = await call(client, "GET", local_path(post["url"]))
    assert shown["body"] == body


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ({}, "body: Field required"),
        ({"body": ""}, "body: The post is empty."),
        ({"body": " \n\t\u3000"}, "body: The post is empty."),
        (
            {"body": "x" * (POST_BODY_MAX_LENGTH + 1)},
            f"body: String should have at most {POST_BODY_MAX_LENGTH} characters",
        ),
        ({"body": 42}, "body: Input should be a valid string"),
        ({"body": None}, "body: Input should be a valid string"),
        ({"body": ["a list"]}, "body: Input should be a valid string"),
        ({"body": "a\x00b"}, "body: A post cannot contain NUL characters."),
        ({"body": "ok", "title": "no"}, "title: Extra inputs are not permitted"),
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_a_body_that_cannot_be_a_post_is_a_400_naming_the_field(
    client: QuartClient,
    ada_headers: dict[str, str],
    sent: dict[str, Any],
    message: str,
    method: str,
) -> None:
    # Unlike the book's PUT, an edit to an empty body is refused too.
    kept = await write(client, ada_headers, "Keep me")
    path = POSTS if method == "POST" else local_path(kept["url"])

    error = await call(client, method, path, ada_headers, json_body=sent, status=400)

    assert error == {
        "error": "bad request",
        "message": f"Invalid request body: {message}",
    }
    # Nothing was written, nothing changed.
    assert (await call(client, "GET", POSTS))["posts"] == [kept]


async def test_a_lone_surrogate_is_a_400(
    client: QuartClient, ada_headers: dict[str, str]
) -> None:
    # Valid JSON, yet no Unicode text: the escape names half a character.
    response = await client.post(
        POSTS,
        headers={**ada_headers, "Content-Type": "application/json"},
        data='{"body": "half \\ud800 a character"}',
    )
    assert response.status_code == 400
    assert (await response.get_json())["message"].startswith(
        "Invalid request body: body: "
    )
    assert (await call(client, "GET", POSTS))["count"] == 0


async def test_a_body_that_is_not_json_is_a_415(
    client: QuartClient, ada_headers: dict[str, str]
) -> None:
    response = await client.post(POSTS, headers=ada_headers, form={"body": "hi"})
    assert response.status_code == 415
    assert (await call(client, "GET", POSTS))["count"] == 0


async def test_writing_needs_credentials(
    client: QuartClient, ada: auth.Account
) -> None:
    response = await client.post(POSTS, json={"body": "Anonymous?"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Basic realm="quarty", Bearer realm="quarty"'
    )
    assert set(await response.get_json()) == {"error", "message"}
    assert (await call(client, "GET", POSTS))["count"] == 0


async def test_a_role_without_write_may_not_post(
    app: Quart, client: QuartClient, roles: None
) -> None:
    await make_account(
        app, email="reader@example.com", username="reader", role=READER_ROLE
    )
    headers = await token_for(client, "reader@example.com")
    error = await call(
        client, "POST", POSTS, headers, json_body={"body": "Let me in"}, status=403
    )
    assert error == {"error": "forbidden", "message": "Insufficient permissions"}
    assert (await call(client, "GET", POSTS))["count"] == 0


async def test_an_unconfirmed_account_may_not_post(
    app: Quart, client: QuartClient, roles: None
) -> None:
    await create_account(app, email="new@example.com", username="new", confirmed=False)
    error = await call(
        client,
        "POST",
        POSTS,
        basic("new@example.com"),
        json_body={"body": "Too soon"},
        status=403,
    )
    assert error == {"error": "forbidden", "message": "Unconfirmed account."}
    assert (await call(client, "GET", POSTS))["count"] == 0


# --- reading ------------------------------------------------------------------


async def test_an_unknown_post_is_a_json_404(client: QuartClient) -> None:
    error = await call(client, "GET", f"{POSTS}/4242", status=404)
    assert error == {"error": "not found", "message": "There is no post with id 4242."}


async def test_posts_come_newest_first_a_page_at_a_time(
    client: QuartClient, session: AsyncSession, ada: auth.Account, bob: auth.Account
) -> None:
    # Written out of id order, so the order shown is the time's, not the id's.
    minutes = [(index * 7) % 25 for index in range(25)]
    ids = await add_posts(session, [ada.id, bob.id] * 12 + [ada.id], minutes)
    newest_first = [ids[i] for i in sorted(range(25), key=lambda i: -minutes[i])]

    first = await call(client, "GET", f"{POSTS}?per_page=10")
    assert first["count"] == 25
    assert first["prev"] is None
    assert local_path(first["next"]) == f"{POSTS}?page=2&per_page=10"

    seen = [post["id"] for post in first["posts"]]
    next_url = first["next"]
    while next_url is not None:
        page = await call(client, "GET", local_path(next_url))
        seen += [post["id"] for post in page["posts"]]
        next_url = page["next"]
    assert seen == newest_first

    last = await call(client, "GET", f"{POSTS}?page=3&per_page=10")
    assert len(last["posts"]) == 5
    assert last["next"] is None
    assert page_number(last["prev"]) == 2
    back = await call(client, "GET", local_path(last["prev"]))
    assert [post["id"] for post in back["posts"]] == newest_first[10:20]


async def test_a_page_past_the_end_is_empty_with_a_way_back(
    client: QuartClient, session: AsyncSession, ada: auth.Account
) -> None:
    await add_posts(session, [ada.id] * 3, [0, 1, 2])
    page = await call(client, "GET", f"{POSTS}?page=9&per_page=2")
    assert page["posts"] == []
    assert page["next"] is None
    assert page["count"] == 3
    assert page_number(page["prev"]) == 8


async def test_no_posts_is_an_empty_page(client: QuartClient) -> None:
    page = await call(client, "GET", POSTS)
    assert page == {"posts": [], "prev": None, "next": None, "count": 0}


async def test_twenty_posts_a_page_unless_asked(
    client: QuartClient, session: AsyncSession, ada: auth.Account
) -> None:
    await add_posts(session, [ada.id] * 21, list(range(21)))
    page = await call(client, "GET", POSTS)
    assert len(page["posts"]) == 20
    assert local_path(page["next"]) == f"{POSTS}?page=2&per_page=20"


@pytest.mark.parametrize("query", ["page=0", "per_page=101", "per_page=x"])
async def test_bad_page_parameters_are_a_400(client: QuartClient, query: str) -> None:
    error = await call(client, "GET", f"{POSTS}?{query}", status=400)
    assert error["message"].startswith("Invalid query parameter: ")


async def test_bad_credentials_on_a_read_are_a_401(
    client: QuartClient, ada: auth.Account
) -> None:
    response = await client.get(POSTS, headers=basic(ada.email, "wrong"))
    assert response.status_code == 401


# --- a user's posts -------------------------------------------------------------


async def test_a_users_posts_are_theirs_only_newest_first(
    client: QuartClient, session: AsyncSession, ada: auth.Account, bob: auth.Account
) -> None:
    ids = await add_posts(
        session, [ada.id, bob.id, ada.id, bob.id, ada.id], [5, 4, 1, 3, 9]
    )
    path = f"{API}/users/{ada.id}/posts"

    first = await call(client, "GET", f"{path}?per_page=2")
    assert [post["id"] for post in first["posts"]] == [ids[4], ids[0]]
    assert first["count"] == 3
    assert local_path(first["next"]) == f"{path}?page=2&per_page=2"
    second = await call(client, "GET", local_path(first["next"]))
    assert [post["id"] for post in second["posts"]] == [ids[2]]
    assert second["next"] is None
    assert local_path(second["prev"]) == f"{path}?page=1&per_page=2"
    for post in first["posts"] + second["posts"]:
        assert post["author_url"] == f"http://localhost{API}/users/{ada.id}"


async def test_a_user_without_posts_has_an_empty_page(
    client: QuartClient, ada: auth.Account
) -> None:
    page = await call(client, "GET", f"{API}/users/{ada.id}/posts")
    assert page == {"posts": [], "prev": None, "next": None, "count": 0}


async def test_a_users_page_past_the_end_is_empty(
    client: QuartClient, session: AsyncSession, ada: auth.Account
) -> None:
    await add_posts(session, [ada.id], [0])
    page = await call(client, "GET", f"{API}/users/{ada.id}/posts?page=2")
    assert (page["posts"], page["next"], page["count"]) == ([], None, 1)


@pytest.mark.parametrize("page", [1, 2])
async def test_the_posts_of_an_unknown_user_are_a_404(
    client: QuartClient, page: int
) -> None:
    error = await call(client, "GET", f"{API}/users/4242/posts?page={page}", status=404)
    assert error == {"error": "not found", "message": "There is no user with id 4242."}


# --- editing ------------------------------------------------------------------


async def test_the_author_edits_a_post_which_keeps_its_time(
    client: QuartClient, ada_headers: dict[str, str]
) -> None:
    post = await write(client, ada_headers, "First *draft*")
    path = local_path(post["url"])

    edited = await call(
        client, "PUT", path, ada_headers, json_body={"body": "Final **word**"}
    )

    assert edited["body"] == "Final **word**"
    assert edited["body_html"] == "<p>Final <strong>word</strong></p>\n"
    assert {key: edited[key] for key in ("id", "url", "timestamp", "author_url")} == {
        key: post[key] for key in ("id", "url", "timestamp", "author_url")
    }
    assert await call(client, "GET", path) == edited


async def test_an_administrator_edits_anyones_post(
    app: Quart, client: QuartClient, ada_headers: dict[str, str]
) -> None:
    post = await write(client, ada_headers, "Something rude")
    await make_account(
        app, email="root@example.com", username="root", role="Administrator"
    )
    admin = await token_for(client, "root@example.com")

    edited = await call(
        client, "PUT", local_path(post["url"]), admin, json_body={"body": "[removed]"}
    )

    assert edited["body"] == "[removed]"
    assert edited["author_url"] == post["author_url"]  # still ada's


@pytest.mark.parametrize("role", ["User", "Moderator"])
async def test_no_one_else_edits_a_post(
    app: Quart, client: QuartClient, ada_headers: dict[str, str], role: str
) -> None:
    post = await write(client, ada_headers, "Mine")
    await make_account(app, email="eve@example.com", username="eve", role=role)
    eve = await token_for(client, "eve@example.com")

    error = await call(
        client,
        "PUT",
        local_path(post["url"]),
        eve,
        json_body={"body": "Yours now"},
        status=403,
    )

    assert error == {"error": "forbidden", "message": "Insufficient permissions"}
    assert await call(client, "GET", local_path(post["url"])) == post


async def test_an_author_who_lost_write_may_not_edit(
    client: QuartClient,
    session: AsyncSession,
    ada: auth.Account,
    ada_headers: dict[str, str],
) -> None:
    post = await write(client, ada_headers, "Before")
    await roles_service.set_role(session, email=ada.email, role_name=READER_ROLE)

    error = await call(
        client,
        "PUT",
        local_path(post["url"]),
        ada_headers,
        json_body={"body": "After"},
        status=403,
    )
    assert error["message"] == "Insufficient permissions"
    assert (await call(client, "GET", local_path(post["url"])))["body"] == "Before"


async def test_editing_an_unknown_post_is_a_404(
    client: QuartClient, ada_headers: dict[str, str]
) -> None:
    error = await call(
        client,
        "PUT",
        f"{POSTS}/4242",
        ada_headers,
        json_body={"body": "Anyone?"},
        status=404,
    )
    assert error["message"] == "There is no post with id 4242."


async def test_editing_needs_credentials(
    client: QuartClient, ada_headers: dict[str, str]
) -> None:
    post = await write(client, ada_headers, "Mine")
    response = await client.put(local_path(post["url"]), json={"body": "Nobody's"})
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    assert await call(client, "GET", local_path(post["url"])) == post


# --- queries ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (POSTS, 20),
        (f"{POSTS}?per_page=100", 60),
        (f"{API}/users/{{ada}}/posts", 20),
        (f"{API}/users/{{ada}}/posts?per_page=100", 30),
        (f"{POSTS}/{{post}}", None),
    ],
)
@pytest.mark.parametrize("with_token", [False, True])
async def test_a_read_is_one_query_and_a_token_one_more(
    client: QuartClient,
    database: Database,
    session: AsyncSession,
    ada: auth.Account,
    bob: auth.Account,
    path: str,
    shown: int | None,
    with_token: bool,
) -> None:
    ids = await add_posts(session, [ada.id, bob.id] * 30, list(range(60)))
    headers = await token_for(client, bob.email) if with_token else {}

    with counted(database) as statements:
        response = await client.get(
            path.format(ada=ada.id, post=ids[0]), headers=headers
        )

    assert response.status_code == 200
    body = await response.get_json()
    if shown is None:
        assert body["id"] == ids[0]
    else:
        assert len(body["posts"]) == shown
    # However many posts a page shows: no query per post or per author.
    assert statements.count == 1 + with_token, statements.sql
