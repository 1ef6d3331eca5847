"""The feeds read through their indexes, on SQLite and PostgreSQL alike.

Each feed query is captured as the app runs it, then handed back to the
database with EXPLAIN: the plan must name the index, not sort the table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from quart import Quart
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database, writing
from quarty.models import Post
from quarty.services import posts
from quarty.services.roles import insert_default_roles
from tests.accounts import create_account
from tests.queries import captured, plan_of

AUTHORS = 20
POSTS = 2000


@pytest.fixture
async def author_ids(app: Quart, session: AsyncSession) -> list[int]:
    await insert_default_roles(session)
    await session.commit()
    ids = [
        (await create_account(app, email=f"a{n}@example.com", username=f"a{n}")).id
        for n in range(AUTHORS)
    ]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    async with writing(session):
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
    # Fresh statistics, as a deployment's autovacuum or ANALYZE would keep them.
    async with writing(session):
        await session.execute(text("ANALYZE"))
    return ids


async def test_the_home_feed_reads_the_timestamp_index(
    database: Database, session: AsyncSession, author_ids: list[int]
) -> None:
    with captured(database) as statements:
        page = await posts.list_posts(session, page=3, per_page=20)
    assert len(page.items) == 20
    [(statement, parameters)] = statements
    plan = await plan_of(session, statement, parameters)
    assert "ix_posts_timestamp" in plan, plan


async def test_a_profile_feed_reads_the_author_and_timestamp_index(
    database: Database, session: AsyncSession, author_ids: list[int]
) -> None:
    with captured(database) as statements:
        page = await posts.list_posts(
            session, page=2, per_page=20, author_id=author_ids[3]
        )
    assert len(page.items) == 20
    [(statement, parameters)] = statements
    plan = await plan_of(session, statement, parameters)
    assert "ix_posts_author_id_timestamp" in plan, plan
