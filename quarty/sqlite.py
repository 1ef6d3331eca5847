"""SQLite through aiosqlite, tuned for a server: fewer thread hops, WAL, a warm pool.

aiosqlite runs each connection's calls in a thread of its own, and every call
is a round trip: queue it, wake the thread, wake the event loop with the
result. SQLAlchemy's adapter makes four per query (open a cursor, execute,
fetch, close), which was over half the cost of an API read. `OneHopCursor`
does the four in the connection's thread in one call.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection, StaticPool
from sqlalchemy.util import immutabledict
from sqlalchemy.util.concurrency import await_

# Connections a SQLite engine keeps open (SQLAlchemy's default is 5, plus 10
# overflow ones closed again at check-in). Under load each overflow connection
# meant a new aiosqlite thread, a file open and the PRAGMAs, only to be thrown
# away, and requests queued behind the churn; an idle connection costs little.
POOL_SIZE = 15

# How long a statement waits for another connection's write lock, in seconds,
# and the pauses between a one-trip writer's tries (_begin_immediate).
BUSY_TIMEOUT = 30.0
FIRST_PAUSE = 0.0005
LONGEST_PAUSE = 0.002

# Each connection's page cache, in KiB (SQLite's default is 2 MiB). The pool
# holds 15 connections per worker; the OS page cache keeps the file warm anyway.
CACHE_KIB = 512

_Outcome = tuple[Any, Sequence[Any], int, int | None]

T = TypeVar("T")

_SYNC_ENGINE_KEY = "quarty.sync_engine"

_WRITERS_QUEUES: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor that executes and fetches in one trip to aiosqlite's thread.

    SQLAlchemy's own cursor keeps an aiosqlite cursor open between calls; this
    one runs a plain sqlite3 cursor to completion in the thread and keeps what
    SQLAlchemy reads afterwards: the rows, description, rowcount, lastrowid.
    """

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        # The base class's close() and soft close see "already closed".
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = immutabledict({"description": None})
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    async def _async_soft_close(self) -> None:
        """Nothing to close: the sqlite3 cursor was closed in the thread."""

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._run(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._run(operation, seq_of_parameters, many=True)

    def _run(self, operation: str, parameters: Any, *, many: bool) -> None:
        driver = self._connection
        try:
            outcome: _Outcome = await_(
                driver._execute(_execute_in_thread, driver, operation, parameters, many)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)


def _execute_in_thread(
    driver: Any, operation: str, parameters: Any, many: bool
) -> _Outcome:
    # Runs in the connection's own thread, where aiosqlite runs everything.
    connection: sqlite3.Connection = driver._conn
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else ()
        # rowcount is final only once RETURNING rows are all fetched.
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


async def run_in_one_trip(
    connection: AsyncConnection, work: Callable[[Connection], T]
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
    async with _writers_queue(connection.engine):
        return await driver._execute(_run_and_commit, raw, work)  # type: ignore[no-any-return]


def _writers_queue(engine: AsyncEngine) -> asyncio.Lock:
    """The engine's writers take turns here, first come first served.

    SQLite's busy handler is no queue: a writer that found the lock taken
    sleeps ever longer (up to 100 ms a time) while newcomers take the lock as
    it frees, so under steady writes some waited seconds (p99 1.7 s with 1 ms
    transactions). In line here, only one writer per process meets the other
    process's at SQLite's lock.
    """
    queue = _WRITERS_QUEUES.get(engine.sync_engine)
    if queue is None:
        queue = _WRITERS_QUEUES[engine.sync_engine] = asyncio.Lock()
    return queue


def _run_and_commit(raw: PoolProxiedConnection, work: Callable[[Connection], T]) -> T:
    # Runs in the connection's own thread.
    engine = _sync_engine(raw)
    _begin_immediate(raw.driver_connection._conn)  # type: ignore[union-attr]
    with engine.connect() as connection:
        try:
            result = work(connection)
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
        return result


def _begin_immediate(connection: sqlite3.Connection) -> None:
    """Begin a transaction that holds the write lock, waiting for it in short steps.

    SQLite's busy handler sleeps up to 100 ms between tries, and the other
    worker's writers, in line one after another, kept taking the lock in the
    meantime. Here the one writer a process lets through (`_writers_queue`)
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


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection, with OneHopCursor for its cursors."""

    __slots__ = ()
    _cursor_cls = OneHopCursor


def configure(engine: AsyncEngine) -> None:
    """Tune a new SQLite engine: each connection's PRAGMAs and cursors, and its ends."""
    event.listen(engine.sync_engine, "connect", _on_connect)
    _skip_idle_transaction_ends(engine)


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer commits; NORMAL is safe under WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cursor.close()
    if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        # Same slots, only the cursor class differs.
        dbapi_connection.__class__ = OneHopConnection


def _skip_idle_transaction_ends(engine: AsyncEngine) -> None:
    """Commit or roll back a SQLite connection only when it is in a transaction.

    Python's sqlite3 does nothing for either outside a transaction (a plain
    SELECT does not open one), but through aiosqlite each still costs a round
    trip to the connection's thread: every request that only reads ended with
    such a rollback when its session closed, and a known name's form POST with
    such a commit. SQLite itself says whether a transaction is open.
    """
    dialect = engine.sync_engine.dialect
    rollback, commit = dialect.do_rollback, dialect.do_commit

    def do_rollback(dbapi_connection: Any) -> None:
        if _in_transaction(dbapi_connection):
            rollback(dbapi_connection)

    def do_commit(dbapi_connection: Any) -> None:
        if _in_transaction(dbapi_connection):
            commit(dbapi_connection)

    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    dialect.do_commit = do_commit  # type: ignore[method-assign]


def _in_transaction(dbapi_connection: Any) -> bool:
    try:
        return bool(dbapi_connection.driver_connection.in_transaction)
    except ValueError:  # aiosqlite's connection is closed: nothing to end
        return False
