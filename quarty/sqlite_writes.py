"""SQLite write transactions in one trip to the driver's thread, writers in line.

A write transaction holds SQLite's one write lock from its first write to its
commit, across every worker process. `run_in_one_trip` runs a transaction's
statements and its commit inside the connection's aiosqlite thread, so the
lock is held only as long as SQLite takes; writers queue per process, and the
one a process lets through waits for the lock in short steps.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, exc
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import PoolProxiedConnection, StaticPool

from quarty.sqlite import BUSY_TIMEOUT

# The pauses between a writer's tries to take the write lock.
FIRST_PAUSE = 0.0005
LONGEST_PAUSE = 0.002

T = TypeVar("T")

_SYNC_ENGINE_KEY = "quarty.sync_engine"


async def run_in_one_trip(
    connection: AsyncConnection,
    work: Callable[[Connection], T],
    *,
    writers: asyncio.Lock,
) -> T:
    """Run `work` and commit, in one trip to the connection's thread.

    A write transaction holds SQLite's one write lock from its first write to
    its commit. Run statement by statement, every step waits for its turn on
    a busy event loop with the lock held (7 ms at the median, 65 ms at p99 in
    the new-name benchmark), and every other writer, in any process, waits
    too. Here `work` runs its statements with a synchronous SQLAlchemy
    Connection over the same sqlite3 connection, inside the driver's thread,
    and commits there; an error rolls back. `work` must not await anything.
    """
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if driver is None:  # pragma: no cover - a checked-out connection has one
        raise RuntimeError("the connection has no driver connection")
    # Writers take turns on `writers` (one lock per engine, Database.writers),
    # first come first served: SQLite's busy handler is no queue. A writer that
    # found the lock taken slept ever longer (up to 100 ms a time) while
    # newcomers took it as it freed, so under steady writes some waited seconds
    # (p99 1.7 s with 1 ms transactions). In line here, only one writer per
    # process meets the other processes' at SQLite's lock.
    async with writers:
        return await driver._execute(_run_and_commit, raw, work)  # type: ignore[no-any-return]


def _run_and_commit(raw: PoolProxiedConnection, work: Callable[[Connection], T]) -> T:
    # Runs in the connection's own thread.
    sqlite3_connection: sqlite3.Connection = raw.driver_connection._conn  # type: ignore[union-attr]
    engine = _sync_engine(raw)
    _begin_immediate(sqlite3_connection)
    try:
        with engine.connect() as connection:
            result = work(connection)
            connection.commit()
            return result
    except BaseException:
        # Whatever failed, the write lock is not left held.
        sqlite3_connection.rollback()
        raise


def _begin_immediate(connection: sqlite3.Connection) -> None:
    """Begin a transaction that holds the write lock, waiting for it in short steps.

    SQLite's busy handler sleeps up to 100 ms between tries, and the other
    worker's writers, in line one after another, kept taking the lock in the
    meantime. Here the one writer a process lets through (`writers`)
    tries every 2 ms at most; nothing is held while it waits.
    """
    connection.execute("PRAGMA busy_timeout = 0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT
        pause = FIRST_PAUSE
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() >= deadline:
                    # As SQLAlchemy raises it for any other statement.
                    begin = "BEGIN IMMEDIATE"
                    raise exc.OperationalError(begin, None, error) from error
            time.sleep(pause)  # the driver's thread, not the event loop
            pause = min(pause * 2, LONGEST_PAUSE)
    finally:
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")


def _is_busy(error: sqlite3.OperationalError) -> bool:
    # The primary result code, whatever the extended one.
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


def _sync_engine(raw: PoolProxiedConnection) -> Engine:
    """A synchronous engine over this pooled connection's sqlite3 connection.

    It lives as long as the pooled connection (in its `info`), never opens or
    closes a connection of its own, and leaves the transaction to `work`.
    """
    engine: Engine | None = raw.info.get(_SYNC_ENGINE_KEY)
    if engine is None:
        sqlite3_connection = raw.driver_connection._conn  # type: ignore[union-attr]
        engine = create_engine(
            "sqlite://",
            creator=lambda: sqlite3_connection,
            poolclass=StaticPool,
            pool_reset_on_return=None,
        )
        raw.info[_SYNC_ENGINE_KEY] = engine
    return engine
