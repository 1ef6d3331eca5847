"""The followed feed, a post's comments and the moderation list read through
their indexes, on SQLite and PostgreSQL alike (as tests/test_posts_indexes.py
does for the posts feeds): the plan names the index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from quart import Quart
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database, writing
from quarty.models import Comment, Follow, Post
from quarty.services import comments, posts
from quarty.services.roles import insert_default_roles
from tests.accounts import create_account
from tests.queries import captured, plan_of

AUTHORS = 20
POSTS = 500
COMMENTS = 4000  # 8 a post


@pytest.fixture
async def author_ids(app: Quart, session: AsyncSession) -> list[int]:
    """AUTHORS accounts, the first following every fifth, with POSTS posts and
    COMMENTS comments spread over them."""
    await insert_default_roles(session)
    await session.commit()
    ids = [
        (await create_account(app, email=f"a{n}@example.com", username=f"a{n}")).id
        for n in range(AUTHORS)
    ]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    async with writing(session):
        await session.execute(
            insert(Follow),
            [
                {"follower_id": ids[0], "followed_id": ids[n]}
                for n in range(5, AUTHORS, 5)
            ],
        )
        await session.execute(
            insert(Post),
            [
                {
                    "author_id": ids[n % AUTHORS],
                    "body": "x",
                    "body_html": "<p>x</p>",
                    "timestamp": start + timedelta(minutes=n),
                }
                for n in range(POSTS)
            ],
        )
        await session.execute(
            insert(Comment),
            [
                {
                    "author_id": ids[n % AUTHORS],
                    "post_id": n % POSTS + 1,
                    "body": "c",
                    "body_html": "c",
                    "timestamp": start + timedelta(minutes=n),
                }
                for n in range(COMMENTS)
            ],
        )
    async with writing(session):
        await session.execute(text("ANALYZE"))
    return ids


async def test_the_comments_of_a_post_read_their_index_in_order(
    database: Database, session: AsyncSession, author_ids: list[int]
) -> None:
    with captured(database) as statements:
        page = await comments.list_post_comments(
            session, post_id=7, page=1, per_page=30
        )
    assert len(page.items) == COMMENTS // POSTS
    [(statement, parameters)] = statements
    plan = await plan_of(session, statement, parameters)
    assert "ix_comments_post_id_timestamp" in plan, plan


async def test_the_moderation_list_reads_the_timestamp_index(
    database: Database, session: AsyncSession, author_ids: list[int]
) -> None:
    with captured(database) as statements:
        page = await comments.list_comments(session, page=3, per_page=30)
    assert len(page.items) == 30
    [(statement, parameters)] = statements
    plan = await plan_of(session, statement, parameters)
    assert "ix_comments_timestamp" in plan, plan


async def test_a_feed_counts_comments_through_the_post_index(
    database: Database, session: AsyncSession, author_ids: list[int]
) -> None:
    with captured(database) as statements:
        page = await posts.list_posts(session, page=1, per_page=20)
    assert [post.comment_count for post in page.items] == [8] * 20
    [(statement, parameters)] = statements
    plan = await plan_of(session, statement, parameters)
    assert "ix_comments_post_id_timestamp" in plan, plan


async def test_the_followed_feed_reads_posts_in_order(
    database: Database, session: AsyncSession, author_ids: list[int]
) -> None:
    with captured(database) as statements:
        page = await posts.list_posts(
            session, page=2, per_page=20, followed_by=author_ids[0]
        )
    # The first author and the three they follow: 4 of 20 authors' posts.
    assert page.total == POSTS * 4 // AUTHORS
    assert len(page.items) == 20
    assert {post.author_id for post in page.items} <= {
        author_ids[n] for n in (0, 5, 10, 15)
    }
    [(statement, parameters)] = statements
    plan = await plan_of(session, statement, parameters)
    assert "ix_posts_" in plan, plan
