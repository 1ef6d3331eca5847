"""quarty.sqlite: one trip to the driver thread per statement, results intact."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

import quarty.sqlite_writes
from quarty import crud
from quarty.db import Base, make_engine
from quarty.models import Role, User
from quarty.sqlite import OneHopConnection
from quarty.sqlite_writes import run_in_one_trip

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        await connection.execute(insert(Role), [{"name": "User"}, {"name": "Admin"}])
    yield engine
    await engine.dispose()


async def test_connections_use_the_one_hop_cursor(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection, OneHopConnection)
        pragmas = {
            name: (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
            for name in ("journal_mode", "foreign_keys", "cache_size")
        }
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "cache_size": -512}


async def test_a_query_is_one_trip_to_the_driver_thread(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        trips: list[str] = []
        real_execute = driver._execute

        async def counting_execute(fn: Any, *args: Any, **kwargs: Any) -> Any:
            trips.append(fn.__name__)
            return await real_execute(fn, *args, **kwargs)

        monkeypatch.setattr(driver, "_execute", counting_execute)
        rows = (await connection.execute(select(Role.name).order_by(Role.id))).all()
    assert [name for (name,) in rows] == ["User", "Admin"]
    assert trips == ["_execute_in_thread"]


async def test_rowcount_lastrowid_returning_and_executemany(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        inserted = await connection.execute(insert(User).values(username="ada"))
        assert inserted.inserted_primary_key == (1,)  # from cursor.lastrowid
        await connection.execute(
            insert(User), [{"username": "bob"}, {"username": "cy"}]
        )
        changed = await connection.execute(
            update(User).where(User.id > 1).values(role_id=2)
        )
        assert changed.rowcount == 2
        returned = await connection.execute(
            update(User).where(User.id == 1).values(role_id=1).returning(User.username)
        )
        assert returned.all() == [("ada",)]
        assert returned.rowcount == 1
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(User.username, User.role_id).order_by(User.id)
            )
        ).all()
    assert [tuple(row) for row in rows] == [("ada", 1), ("bob", 2), ("cy", 2)]


async def test_errors_come_out_as_sqlalchemy_errors_and_roll_back(
    engine: AsyncEngine,
) -> None:
    with pytest.raises(IntegrityError, match="UNIQUE"):
        async with engine.begin() as connection:
            await connection.execute(insert(User).values(username="ada"))
            await connection.execute(insert(User).values(username="ada"))
    async with engine.connect() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM users"))).scalar()
    assert count == 0


async def test_concurrent_writers_take_turns_and_all_commit(
    engine: AsyncEngine,
) -> None:
    writers = asyncio.Lock()

    async def add(name: str) -> int | None:
        async with engine.connect() as connection:
            return await run_in_one_trip(
                connection, partial(crud.insert_user, username=name), writers=writers
            )

    names = [f"writer{n}" for n in range(20)] + ["writer0"] * 5
    created = await asyncio.gather(*(add(name) for name in names))
    assert sum(user_id is not None for user_id in created) == 20
    async with engine.connect() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM users"))).scalar()
    assert count == 20


async def test_a_one_trip_writer_waits_for_another_process_lock(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process's writer, as SQLite sees it: its own connection.
    other = sqlite3.connect(tmp_path / "driver.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def add(name: str) -> int | None:
        async with engine.connect() as connection:
            return await run_in_one_trip(
                connection,
                partial(crud.insert_user, username=name),
                writers=asyncio.Lock(),
            )

    waiting = asyncio.create_task(add("patient"))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # still waiting for the lock, in short steps
    other.execute("COMMIT")
    assert await asyncio.wait_for(waiting, timeout=5) is not None

    # Past the busy timeout the writer gives up with SQLite's own error.
    monkeypatch.setattr(quarty.sqlite_writes, "BUSY_TIMEOUT", 0.1)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            await add("impatient")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await add("impatient") is not None
