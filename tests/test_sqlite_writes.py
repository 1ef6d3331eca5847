"""SQLite write transactions: they take the write lock up front and queue for it."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database, writing
from quarty.models import User

pytestmark = pytest.mark.sqlite_only


def database_file(database: Database) -> str:
    path = database.engine.url.database
    assert path is not None
    return path


async def usernames(database: Database) -> list[str]:
    async with database.sessionmaker() as session:
        names = await session.scalars(select(User.username).order_by(User.username))
        return list(names)


async def test_a_write_after_a_read_succeeds_though_another_connection_wrote(
    database: Database, session: AsyncSession
) -> None:
    # The read opens a transaction whose snapshot the other writer makes stale:
    # upgraded in place, it would fail at once with "database is locked".
    assert await session.scalar(select(func.count()).select_from(User)) == 0
    async with database.sessionmaker() as other, writing(other):
        other.add(User(username="first"))

    async with writing(session):
        session.add(User(username="second"))
    assert await usernames(database) == ["first", "second"]


async def test_a_writer_waits_for_a_lock_held_elsewhere_then_commits(
    database: Database, session: AsyncSession
) -> None:
    holder = sqlite3.connect(
        database_file(database), isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    holder.execute(
        "INSERT INTO users (username, member_since, last_seen, avatar_hash)"
        " VALUES ('holder', '2026-01-01', '2026-01-01', 'x')"
    )

    async def write() -> None:
        async with writing(session):
            session.add(User(username="waiter"))

    writer = asyncio.create_task(write())
    try:
        # Time for the writer to meet the held lock (it waits up to the busy
        # timeout); SQLite shows no sign of a waiter to wait on instead.
        await asyncio.sleep(0.2)
        await asyncio.to_thread(holder.commit)
        await writer
    finally:
        holder.close()
    assert await usernames(database) == ["holder", "waiter"]


async def test_concurrent_writers_take_turns_and_all_commit(
    database: Database,
) -> None:
    async def add(index: int) -> None:
        async with database.sessionmaker() as own, writing(own):
            # Read, then write, in one transaction: the lock is held throughout,
            # so each writer counts the rows of all those before it.
            count = await own.scalar(select(func.count()).select_from(User))
            own.add(User(username=f"writer{index} saw {count}"))

    await asyncio.gather(*(add(index) for index in range(12)))
    seen = sorted(int(name.rsplit(" ", 1)[1]) for name in await usernames(database))
    assert seen == list(range(12))


async def test_a_failed_write_releases_the_lock(database: Database) -> None:
    async def fail() -> Any:
        async with database.sessionmaker() as own, writing(own):
            own.add(User(username="ghost"))
            await own.flush()
            raise LookupError("changed my mind")

    with pytest.raises(LookupError):
        await fail()
    holder = sqlite3.connect(database_file(database), timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")  # would raise "database is locked"
        holder.rollback()
    finally:
        holder.close()
    assert await usernames(database) == []
