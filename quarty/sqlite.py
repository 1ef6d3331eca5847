"""SQLite through aiosqlite, tuned for a server: fewer thread hops, WAL, a warm pool.

aiosqlite runs each connection's calls in a thread of its own, and every call
is a round trip: queue it, wake the thread, wake the event loop with the
result. SQLAlchemy's adapter makes four per query (open a cursor, execute,
fetch, close), which was over half the cost of an API read. `OneHopCursor`
does the four in the connection's thread in one call; quarty.sqlite_writes
runs a whole write transaction in one.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import immutabledict
from sqlalchemy.util.concurrency import await_

# Connections a SQLite engine keeps open, and no more (SQLAlchemy's default
# is 5 plus 10 overflow ones, closed again at check-in: each a new aiosqlite
# thread, a file open and the PRAGMAs, thrown away, with requests queued
# behind the churn). With one trip per query a connection is busy only for the
# query itself, and more threads only contend for the GIL: against 15 + 10,
# 5 + 0 served a page of users with p99 888 ms instead of 2.2 s at 1,000
# connections, and one user with 654 ms instead of 1.9 s.
POOL_SIZE = 5

# How long a statement waits for another connection's write lock, in seconds.
BUSY_TIMEOUT = 30.0

# Each connection's page cache, in KiB (SQLite's default is 2 MiB). The pool
# holds 5 connections per worker; the OS page cache keeps the file warm anyway.
CACHE_KIB = 512

_Outcome = tuple[Any, Sequence[Any], int, int | None]


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
