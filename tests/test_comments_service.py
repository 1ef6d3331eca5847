"""The comments service, and the followed feed and comment counts of posts."""

from __future__ import annotations

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.models import Permission
from quarty.services import comments, follows, posts
from quarty.services.auth import Account
from quarty.services.posts import NotAllowedError
from quarty.services.roles import insert_default_roles
from tests.accounts import create_account


@pytest.fixture
async def people(app: Quart, session: AsyncSession) -> list[Account]:
    await insert_default_roles(session)
    await session.commit()
    return [
        await create_account(app, email=f"{name}@example.com", username=name)
        for name in ("ada", "bob", "cy")
    ]


async def write(session: AsyncSession, author: Account, body: str) -> int:
    return (await posts.create_post(session, author=author, body=body)).id


async def comment(
    session: AsyncSession, author: Account, post_id: int, body: str
) -> comments.CommentView:
    published = await comments.create_comment(
        session, author=author, post_id=post_id, body=body
    )
    assert published is not None
    return published.comment


async def test_a_comment_keeps_only_the_small_allow_list(
    session: AsyncSession, people: list[Account]
) -> None:
    ada, bob, _cy = people
    post_id = await write(session, ada, "a post")
    published = await comments.create_comment(
        session,
        author=bob,
        post_id=post_id,
        body="# Title\n\n*fine* <script>alert(1)</script> https://example.com",
    )
    assert published is not None
    html = published.comment.body_html
    assert "<em>fine</em>" in html
    assert "<h1>" not in html and "<p>" not in html and "script" not in html
    assert 'href="https://example.com"' in html
    assert published.comment.author_username == "bob"
    assert published.post_comment_count == 1


async def test_a_post_lists_its_comments_oldest_first_and_counts_them(
    session: AsyncSession, people: list[Account]
) -> None:
    ada, bob, cy = people
    post_id = await write(session, ada, "a post")
    other_id = await write(session, ada, "another")
    for index, author in enumerate([bob, cy, ada, bob, cy]):
        await comment(session, author, post_id, f"comment {index}")
    await comment(session, bob, other_id, "elsewhere")

    first = await comments.list_post_comments(
        session, post_id=post_id, page=1, per_page=3
    )
    second = await comments.list_post_comments(
        session, post_id=post_id, page=2, per_page=3
    )
    assert [c.body for c in [*first.items, *second.items]] == [
        f"comment {index}" for index in range(5)
    ]
    assert (first.total, first.pages) == (5, 2)
    listed = await posts.list_posts(session, page=1, per_page=10)
    assert {p.body: p.comment_count for p in listed.items} == {
        "a post": 5,
        "another": 1,
    }
    moderation = await comments.list_comments(session, page=1, per_page=10)
    assert [c.body for c in moderation.items][:2] == ["elsewhere", "comment 4"]


async def test_a_comment_on_no_post_is_none_and_bad_bodies_are_refused(
    session: AsyncSession, people: list[Account]
) -> None:
    ada, _bob, _cy = people
    assert (
        await comments.create_comment(session, author=ada, post_id=999, body="hi")
        is None
    )
    post_id = await write(session, ada, "a post")
    for body, message in [
        ("  \r\n ", "The comment is empty."),
        ("x" * 2001, "A comment has at most 2,000 characters; this one has 2,001."),
    ]:
        with pytest.raises(comments.InvalidCommentError, match=message):
            await comments.create_comment(
                session, author=ada, post_id=post_id, body=body
            )


async def test_only_a_role_with_comment_comments_and_with_moderate_moderates(
    session: AsyncSession, people: list[Account]
) -> None:
    ada, bob, _cy = people
    post_id = await write(session, ada, "a post")
    mute = bob._replace(permissions=Permission.FOLLOW)
    with pytest.raises(NotAllowedError):
        await comments.create_comment(session, author=mute, post_id=post_id, body="x")
    written = await comment(session, bob, post_id, "rude")
    with pytest.raises(NotAllowedError):
        await comments.set_disabled(
            session, moderator=ada, comment_id=written.id, disabled=True
        )
    moderator = ada._replace(permissions=ada.permissions | Permission.MODERATE)
    assert await comments.set_disabled(
        session, moderator=moderator, comment_id=written.id, disabled=True
    )
    hidden = await comments.get_comment(session, written.id)
    assert hidden is not None and hidden.disabled
    assert await comments.set_disabled(
        session, moderator=moderator, comment_id=written.id, disabled=False
    )
    shown = await comments.get_comment(session, written.id)
    assert shown is not None and not shown.disabled
    assert not await comments.set_disabled(
        session, moderator=moderator, comment_id=999, disabled=True
    )


async def test_the_followed_feed_has_whom_one_follows_and_oneself_only(
    session: AsyncSession, people: list[Account]
) -> None:
    ada, bob, cy = people
    for author in (ada, bob, cy):
        await write(session, author, f"by {author.username}")
    await follows.follow(session, follower=ada, followed_id=bob.id)

    feed = await posts.list_posts(session, page=1, per_page=10, followed_by=ada.id)
    assert [p.body for p in feed.items] == ["by bob", "by ada"]
    assert feed.total == 2
    alone = await posts.list_posts(session, page=1, per_page=10, followed_by=cy.id)
    assert [p.body for p in alone.items] == ["by cy"]
    past_the_end = await posts.list_posts(
        session, page=5, per_page=10, followed_by=ada.id
    )
    assert (past_the_end.items, past_the_end.total) == ([], 2)
