"""last_seen: written after the page, at most once per QUARTY_LAST_SEEN_INTERVAL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database, writing
from quarty.mail.outbox import as_utc
from quarty.models import User
from quarty.services.profiles import touch_last_seen
from tests.accounts import create_account, log_in
from tests.helpers import session_on
from tests.queries import Statements, counted

AN_HOUR = timedelta(hours=1)


async def _settle(app: Quart) -> None:
    """Wait for the app's background tasks: the writes handed off by requests."""
    await asyncio.gather(*app.background_tasks)


def _last_seen_writes(statements: Statements) -> int:
    return sum(
        sql.lstrip().upper().startswith("UPDATE USERS SET LAST_SEEN")
        for sql in statements.sql
    )


async def _writes_while_getting(
    app: Quart, client: QuartClient, database: Database, paths: list[str]
) -> int:
    """GET the pages one after another; how many last_seen writes they caused."""
    with counted(database) as statements:
        for path in paths:
            assert (await client.get(path)).status_code == 200
        await _settle(app)
    return _last_seen_writes(statements)


async def _set_last_seen(session: AsyncSession, user_id: int, when: datetime) -> None:
    async with writing(session):
        await session.execute(
            update(User).where(User.id == user_id).values(last_seen=when)
        )


async def _last_seen(session: AsyncSession, user_id: int) -> datetime:
    query = select(User.last_seen).where(User.id == user_id)
    return as_utc((await session.execute(query)).scalar_one())


async def test_a_fresh_last_seen_is_not_written(
    app: Quart, client: QuartClient, database: Database
) -> None:
    await create_account(app)
    await log_in(client)
    assert await _writes_while_getting(app, client, database, ["/"] * 20) == 0


async def test_a_stale_last_seen_is_written_once_per_interval(
    app: Quart, client: QuartClient, database: Database, session: AsyncSession
) -> None:
    account = await create_account(app)
    await log_in(client)
    await _set_last_seen(session, account.id, datetime.now(UTC) - AN_HOUR)
    before = datetime.now(UTC)
    pages = ["/", "/user/ada", "/edit-profile", "/auth/change-password"] * 5
    assert await _writes_while_getting(app, client, database, pages) == 1
    first = await _last_seen(session, account.id)
    assert first >= before

    # Once the interval has passed, the next request writes it again.
    await _set_last_seen(session, account.id, first - AN_HOUR)
    assert await _writes_while_getting(app, client, database, ["/"]) == 1
    assert await _last_seen(session, account.id) >= first


async def test_concurrent_requests_write_once(
    app: Quart, client: QuartClient, database: Database, session: AsyncSession
) -> None:
    account = await create_account(app)
    await log_in(client)
    await _set_last_seen(session, account.id, datetime.now(UTC) - AN_HOUR)
    with counted(database) as statements:
        responses = await asyncio.gather(*(client.get("/") for _ in range(10)))
        await _settle(app)
    assert [r.status_code for r in responses] == [200] * 10
    assert _last_seen_writes(statements) == 1, statements.sql


async def test_a_visitor_writes_nothing(
    app: Quart, client: QuartClient, database: Database
) -> None:
    assert await _writes_while_getting(app, client, database, ["/"] * 5) == 0


async def test_the_page_does_not_wait_for_the_write(
    app: Quart, client: QuartClient, session: AsyncSession, database_url: str
) -> None:
    account = await create_account(app)
    await log_in(client)
    stale = datetime.now(UTC) - AN_HOUR
    await _set_last_seen(session, account.id, stale)
    # Another process holds the user's row (on SQLite, the database's write
    # lock) until the page is served.
    async with session_on(database_url) as blocker:
        await blocker.execute(
            update(User).where(User.id == account.id).values(name="busy")
        )
        response = await asyncio.wait_for(client.get("/"), timeout=10)
        assert response.status_code == 200
        await blocker.rollback()
    await _settle(app)
    assert await _last_seen(session, account.id) > stale


async def test_processes_that_find_it_stale_at_once_write_once(
    app: Quart, session: AsyncSession, database_url: str
) -> None:
    account = await create_account(app)
    await _set_last_seen(session, account.id, datetime.now(UTC) - AN_HOUR)
    async with session_on(database_url) as other:
        interval = timedelta(minutes=5)
        assert await touch_last_seen(session, user_id=account.id, stale_after=interval)
        assert not await touch_last_seen(
            other, user_id=account.id, stale_after=interval
        )
