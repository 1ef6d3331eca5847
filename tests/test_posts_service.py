"""The posts service: bodies checked and rendered once, pages read newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from quart import Quart
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.models import POST_BODY_MAX_LENGTH, Permission, Post, User
from quarty.services import posts
from quarty.services.auth import Account
from quarty.services.roles import insert_default_roles
from quarty.text.markdown import markdown_to_html
from tests.accounts import create_account


@pytest.fixture
async def author(app: Quart, session: AsyncSession) -> Account:
    await insert_default_roles(session)
    await session.commit()
    return await create_account(app)


async def test_a_new_post_is_stored_with_its_html_and_author(
    session: AsyncSession, author: Account
) -> None:
    before = datetime.now(UTC)
    post = await posts.create_post(
        session, author=author, body="Hi **all** <script>x()</script>"
    )
    assert post.body == "Hi **all** <script>x()</script>"
    assert post.body_html == "<p>Hi <strong>all</strong> </p>\n"
    assert (post.author_id, post.author_username) == (author.id, "ada")
    assert before <= post.timestamp <= datetime.now(UTC)
    assert await posts.get_post(session, post.id) == post


async def test_an_edit_replaces_body_and_html_and_keeps_the_time(
    session: AsyncSession, author: Account
) -> None:
    post = await posts.create_post(session, author=author, body="first")
    edited = await posts.update_post(
        session, editor=author, post_id=post.id, body="*second*"
    )
    assert edited is not None
    assert (edited.body, edited.body_html) == ("*second*", "<p><em>second</em></p>\n")
    assert edited.timestamp == post.timestamp
    assert (
        await posts.update_post(session, editor=author, post_id=post.id + 1, body="x")
        is None
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "The post is empty."),
        (" \n\t ", "The post is empty."),
        ("a" * (POST_BODY_MAX_LENGTH + 1), "at most 20,000 characters"),
        ("nul \x00 here", "NUL"),
        ("lone \ud800 surrogate", "not valid Unicode"),
    ],
)
async def test_bodies_that_cannot_be_posts_are_refused_and_nothing_is_written(
    session: AsyncSession, author: Account, body: str, message: str
) -> None:
    with pytest.raises(posts.InvalidPostError, match=message):
        await posts.create_post(session, author=author, body=body)
    post = await posts.create_post(session, author=author, body="kept")
    with pytest.raises(posts.InvalidPostError, match=message):
        await posts.update_post(session, editor=author, post_id=post.id, body=body)
    assert (await posts.get_post(session, post.id)) == post
    assert (await session.execute(select(Post.id))).scalars().all() == [post.id]


async def test_the_longest_body_is_accepted_and_line_ends_are_unified(
    session: AsyncSession, author: Account
) -> None:
    longest = await posts.create_post(
        session, author=author, body="a" * POST_BODY_MAX_LENGTH
    )
    assert len(longest.body) == POST_BODY_MAX_LENGTH
    # A browser's textarea sends CRLF; two of them count as two characters.
    crlf = await posts.create_post(session, author=author, body="one\r\ntwo")
    assert crlf.body == "one\ntwo"


async def _add_posts(session: AsyncSession, author_id: int, count: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    async with writing(session):
        await session.execute(
            insert(Post),
            [
                {
                    "author_id": author_id,
                    "body": f"post {index}",
                    "body_html": markdown_to_html(f"post {index}"),
                    "timestamp": start + timedelta(minutes=index),
                }
                for index in range(count)
            ],
        )


async def test_pages_run_newest_first_and_past_the_end_is_empty(
    session: AsyncSession, author: Account
) -> None:
    await _add_posts(session, author.id, 45)
    first = await posts.list_posts(session, page=1, per_page=20)
    third = await posts.list_posts(session, page=3, per_page=20)
    past = await posts.list_posts(session, page=4, per_page=20)
    assert [post.body for post in first.items][:2] == ["post 44", "post 43"]
    assert [post.body for post in third.items] == [
        f"post {i}" for i in range(4, -1, -1)
    ]
    assert (first.total, third.total, past.total) == (45, 45, 45)
    assert past.items == []
    assert first.items[0].timestamp.tzinfo is not None


async def test_posts_written_in_the_same_instant_keep_a_stable_order(
    session: AsyncSession, author: Account
) -> None:
    moment = datetime(2026, 6, 1, tzinfo=UTC)
    async with writing(session):
        await session.execute(
            insert(Post),
            [
                {
                    "author_id": author.id,
                    "body": str(n),
                    "body_html": "",
                    "timestamp": moment,
                }
                for n in range(5)
            ],
        )
    pages = [await posts.list_posts(session, page=n, per_page=2) for n in (1, 2, 3)]
    assert [post.body for page in pages for post in page.items] == list("43210")


async def test_an_authors_page_has_only_their_posts(
    app: Quart, session: AsyncSession, author: Account
) -> None:
    other = await create_account(app, email="bo@example.com", username="bo")
    await _add_posts(session, author.id, 3)
    await posts.create_post(session, author=other, body="by bo")
    page = await posts.list_posts(session, page=1, per_page=20, author_id=other.id)
    assert [(post.body, post.author_username) for post in page.items] == [
        ("by bo", "bo")
    ]
    assert page.total == 1
    everyone = await posts.list_posts(session, page=1, per_page=20)
    assert everyone.total == 4


async def test_deleting_an_author_deletes_their_posts_only(
    app: Quart, session: AsyncSession, author: Account
) -> None:
    other = await create_account(app, email="bo@example.com", username="bo")
    await _add_posts(session, author.id, 3)
    kept = await posts.create_post(session, author=other, body="by bo")
    async with writing(session):
        await session.execute(delete(User).where(User.id == author.id))
    remaining = await posts.list_posts(session, page=1, per_page=20)
    assert [post.id for post in remaining.items] == [kept.id]


async def test_the_service_refuses_who_may_not_write_or_edit(
    app: Quart, session: AsyncSession, author: Account
) -> None:
    post = await posts.create_post(session, author=author, body="mine")
    reader = author._replace(permissions=Permission.FOLLOW | Permission.COMMENT)
    with pytest.raises(posts.NotAllowedError):
        await posts.create_post(session, author=reader, body="not allowed")
    other = await create_account(app, email="bo@example.com", username="bo")
    with pytest.raises(posts.NotAllowedError):
        await posts.update_post(session, editor=other, post_id=post.id, body="hijack")
    # An administrator may; the author may even without WRITE, as in the book.
    admin = other._replace(permissions=Permission(31))
    assert await posts.update_post(session, editor=admin, post_id=post.id, body="a")
    assert await posts.update_post(session, editor=reader, post_id=post.id, body="b")
    stored = await posts.list_posts(session, page=1, per_page=20)
    assert [p.body for p in stored.items] == ["b"]


def test_only_the_author_or_an_administrator_may_edit() -> None:
    def account(user_id: int, permissions: int) -> Account:
        return Account(
            user_id,
            "u",
            "u@example.com",
            True,
            0,
            1,
            "User",
            permissions,
            datetime.now(UTC),
        )

    post = posts.PostView(1, "b", "", datetime.now(UTC), 7, "author", "h", 0)
    assert posts.may_edit(account(7, Permission.WRITE), post)
    assert not posts.may_edit(account(8, Permission.WRITE | Permission.MODERATE), post)
    assert posts.may_edit(account(8, Permission(31)), post)
