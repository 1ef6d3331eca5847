"""The comments on a permalink: the list a page at a time, the comment form,
the landing on the last page, disabled comments, refusals, and query counts."""

from __future__ import annotations

import re

import pytest
from quart import Quart, Response
from quart.testing import QuartClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.models import COMMENT_BODY_MAX_LENGTH, Comment
from tests.accounts import log_in, page_text, submit
from tests.comments import (
    NOTICE,
    People,
    add_comments,
    add_post,
    make_people,
    shown_comments,
)
from tests.helpers import app_database, client_of, get_csrf_token, started_app
from tests.queries import counted

PER_PAGE = 3
FORM_LABEL = "Enter your comment"


@pytest.fixture
def app_settings(app_settings: dict[str, object]) -> dict[str, object]:
    """Three comments a page, so that a few make several pages."""
    return {**app_settings, "QUARTY_COMMENTS_PER_PAGE": PER_PAGE}


@pytest.fixture
async def people(app: Quart) -> People:
    return await make_people(app)


async def stored_comments(session: AsyncSession) -> list[Comment]:
    session.expire_all()
    return list(await session.scalars(select(Comment).order_by(Comment.id)))


def textarea(html: str) -> str:
    match = re.search(
        r'<textarea[^>]*name="body"[^>]*>\r?\n(.*?)</textarea>', html, re.S
    )
    assert match, "no comment form"
    return match.group(1)


def without_fragment(url: str) -> str:
    """A URL as a browser requests it (the test client would send the #…)."""
    return url.split("#", 1)[0]


async def comment_on(client: QuartClient, post_id: int, body: str) -> Response:
    """Send the comment form of a permalink as a browser would."""
    return await submit(client, f"/post/{post_id}", body=body)


# The list.


async def test_a_permalink_lists_its_comments_oldest_first_with_their_authors(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    post_id = await add_post(session, people.ada)
    await add_comments(session, post_id, [people.bob, people.ada], 3)
    html = await page_text(client, f"/post/{post_id}")
    assert '<section id="comments"' in html
    assert shown_comments(html) == ["comment 0", "comment 1", "comment 2"]
    assert f'href="/post/{post_id}#comments">3 Comments</a>' in html
    item = re.search(r'<li class="comment" id="comment-1">(.*?)</li>', html, re.S)
    assert item, "no first comment"
    first = item.group(1)
    assert '<div class="comment-author"><a href="/user/bob">bob</a></div>' in first
    assert re.search(r'<img class="rounded" src="/avatar/[0-9a-f]{64}\?s=40"', first)
    assert re.search(r'<div class="comment-date"><time [^>]*data-kind="fromNow"', first)


async def test_comments_come_a_page_at_a_time_linking_to_the_comments(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    post_id = await add_post(session, people.ada)
    await add_comments(session, post_id, [people.bob], 7)
    first = await page_text(client, f"/post/{post_id}")
    assert shown_comments(first) == ["comment 0", "comment 1", "comment 2"]
    assert f'href="/post/{post_id}?page=2#comments">2</a>' in first
    assert f'href="/post/{post_id}?page=3#comments">3</a>' in first
    last = await page_text(client, f"/post/{post_id}?page=3")
    assert shown_comments(last) == ["comment 6"]
    assert "the post" in last  # the post stays on top of every page
    past = await client.get(f"/post/{post_id}?page=9")
    assert past.status_code == 200
    assert shown_comments(await past.get_data(as_text=True)) == []


async def test_thirty_comments_a_page_by_default(
    app_settings: dict[str, object],
) -> None:
    settings = {
        k: v for k, v in app_settings.items() if k != "QUARTY_COMMENTS_PER_PAGE"
    }
    async with started_app(settings) as app:
        people = await make_people(app)
        async with app_database(app).sessionmaker() as session:
            post_id = await add_post(session, people.ada)
            await add_comments(session, post_id, [people.bob], 31)
        client = client_of(app)
        first = await page_text(client, f"/post/{post_id}")
        second = await page_text(client, f"/post/{post_id}?page=2")
    assert len(shown_comments(first)) == 30
    assert shown_comments(second) == ["comment 30"]


async def test_a_post_without_comments_shows_no_list_and_no_pages(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    post_id = await add_post(session, people.ada)
    html = await page_text(client, f"/post/{post_id}")
    assert '<section id="comments"' in html
    assert shown_comments(html) == []
    assert 'class="pagination"' not in html
    assert ">0 Comments</a>" in html


# The form.


async def test_only_a_user_who_may_comment_gets_the_form(
    app: Quart, session: AsyncSession, people: People
) -> None:
    post_id = await add_post(session, people.ada)
    visitor = client_of(app)
    assert FORM_LABEL not in await page_text(visitor, f"/post/{post_id}")
    reader = client_of(app)
    await log_in(reader, "reader@example.com")
    assert FORM_LABEL not in await page_text(reader, f"/post/{post_id}")
    commenter = client_of(app)
    await log_in(commenter, "bob@example.com")
    html = await page_text(commenter, f"/post/{post_id}")
    assert FORM_LABEL in html
    assert f'action="/post/{post_id}#comments"' in html


@pytest.mark.parametrize(("existing", "last_page"), [(0, 1), (5, 2), (6, 3), (8, 3)])
async def test_a_comment_is_published_and_lands_on_the_last_page(
    client: QuartClient,
    session: AsyncSession,
    people: People,
    existing: int,
    last_page: int,
) -> None:
    post_id = await add_post(session, people.ada)
    await add_comments(session, post_id, [people.ada], existing)
    await log_in(client, "bob@example.com")
    response = await comment_on(client, post_id, "Nice *post*!")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/post/{post_id}?page={last_page}#comments"
    )
    html = await page_text(client, without_fragment(response.headers["Location"]))
    assert "Your comment has been published." in html
    assert shown_comments(html)[-1] == "Nice post !"
    assert "Nice <em>post</em>!" in html
    assert (await stored_comments(session))[-1].author_id == people.bob


async def test_markup_outside_the_comment_allow_list_never_reaches_the_page(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    post_id = await add_post(session, people.ada)
    await log_in(client, "bob@example.com")
    body = (
        '# Title\n\n**bold** <script>window.__pwned = 1</script><b onclick="x()">b</b>'
    )
    response = await comment_on(client, post_id, body)
    html = await page_text(client, without_fragment(response.headers["Location"]))
    assert "<strong>bold</strong>" in html
    assert "<h1>Title" not in html
    assert "__pwned" not in html
    assert "onclick" not in html


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (" \r\n ", "This field is required."),
        ("b" * (COMMENT_BODY_MAX_LENGTH + 1), "A comment has at most 2,000 characters"),
        ("nul \x00 here", "A comment cannot contain NUL characters."),
    ],
)
async def test_a_bad_comment_shows_the_form_again_with_its_error_and_text(
    client: QuartClient,
    session: AsyncSession,
    people: People,
    body: str,
    message: str,
) -> None:
    post_id = await add_post(session, people.ada)
    await add_comments(session, post_id, [people.ada], 1)
    await log_in(client, "bob@example.com")
    response = await comment_on(client, post_id, body)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "is-invalid" in html
    assert textarea(html) == body
    assert shown_comments(html) == ["comment 0"]  # the page, as it was
    assert len(await stored_comments(session)) == 1


async def test_the_longest_comment_is_published(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    post_id = await add_post(session, people.ada)
    await log_in(client, "bob@example.com")
    response = await comment_on(client, post_id, "é" * COMMENT_BODY_MAX_LENGTH)
    assert response.status_code == 302
    (stored,) = await stored_comments(session)
    assert stored.body == "é" * COMMENT_BODY_MAX_LENGTH


# Refusals.


async def test_a_visitor_is_sent_to_log_in_to_comment(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    post_id = await add_post(session, people.ada)
    token = await get_csrf_token(client)
    response = await client.post(
        f"/post/{post_id}",
        form={"body": "anonymous", "csrf_token": token},
        headers={"Referer": f"http://localhost/post/{post_id}?page=2"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/auth/login?next=/post/{post_id}?page%3D2"
    assert await stored_comments(session) == []


async def test_a_user_who_may_not_comment_is_refused(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    post_id = await add_post(session, people.ada)
    await log_in(client, "reader@example.com")
    token = await get_csrf_token(client)
    response = await client.post(
        f"/post/{post_id}", form={"body": "let me in", "csrf_token": token}
    )
    assert response.status_code == 403
    assert "Insufficient permissions" in await response.get_data(as_text=True)
    assert await stored_comments(session) == []


async def test_a_comment_without_a_csrf_token_is_refused(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    post_id = await add_post(session, people.ada)
    await log_in(client, "bob@example.com")
    response = await client.post(f"/post/{post_id}", form={"body": "forged"})
    assert response.status_code == 400
    assert "security token" in await response.get_data(as_text=True)
    assert await stored_comments(session) == []


async def test_a_comment_on_an_unknown_post_is_not_found(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await log_in(client, "bob@example.com")
    token = await get_csrf_token(client)
    for body in ("on nothing", ""):  # valid or not, there is no such post
        response = await client.post(
            "/post/99", form={"body": body, "csrf_token": token}
        )
        assert response.status_code == 404
    assert await stored_comments(session) == []


# Disabled comments.


async def test_a_permalink_shows_a_disabled_comments_notice_even_to_moderators(
    app: Quart, session: AsyncSession, people: People
) -> None:
    post_id = await add_post(session, people.ada)
    await add_comments(session, post_id, [people.bob], 3, disabled=[1])
    path = f"/post/{post_id}"
    visitor = client_of(app)
    author = client_of(app)
    await log_in(author, "bob@example.com")
    moderator = client_of(app)
    await log_in(moderator, "mod@example.com")
    for client in (visitor, author, moderator):
        html = await page_text(client, path)
        assert shown_comments(html) == ["comment 0", NOTICE, "comment 2"]


# Queries.


@pytest.mark.parametrize("per_page", [3, 40])
@pytest.mark.parametrize(
    ("page", "signed_in", "queries"),
    [
        (1, False, 2),  # the post with its comment count, then its comments
        (2, False, 2),
        (99, False, 1),  # past the end: the post counted them, nothing to read
        (1, True, 3),  # the signed-in account first
        (2, True, 3),
        (99, True, 2),
    ],
)
async def test_a_permalink_runs_the_same_queries_for_any_page_size(
    app_settings: dict[str, object],
    per_page: int,
    page: int,
    signed_in: bool,
    queries: int,
) -> None:
    comments = 45
    settings = {**app_settings, "QUARTY_COMMENTS_PER_PAGE": per_page}
    async with started_app(settings) as app:
        people = await make_people(app)
        async with app_database(app).sessionmaker() as session:
            post_id = await add_post(session, people.ada)
            await add_comments(
                session, post_id, [people.ada, people.bob], comments, disabled=[2]
            )
        client = client_of(app)
        if signed_in:
            await log_in(client, "mod@example.com")
        with counted(app_database(app)) as statements:
            response = await client.get(f"/post/{post_id}?page={page}")
    assert response.status_code == 200
    assert statements.count == queries, statements.sql
    shown = max(0, min(per_page, comments - (page - 1) * per_page))
    assert len(shown_comments(await response.get_data(as_text=True))) == shown


async def test_a_comment_is_published_in_a_fixed_number_of_queries(
    app: Quart, session: AsyncSession, people: People
) -> None:
    post_id = await add_post(session, people.ada)
    await add_comments(session, post_id, [people.ada], 5)
    client = client_of(app)
    await log_in(client, "bob@example.com")
    token = await get_csrf_token(client, f"/post/{post_id}")
    with counted(app_database(app)) as statements:
        response = await client.post(
            f"/post/{post_id}", form={"body": "counted", "csrf_token": token}
        )
    assert response.status_code == 302
    # The account; then whether the post exists, the INSERT, the comment read
    # back and the post's new count, in one transaction.
    assert statements.count == 5, statements.sql
