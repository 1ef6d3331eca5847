"""SQLite for a server: WAL, a busy timeout, and write transactions that lock up front.

SQLite lets one writer at a time hold its write lock. A transaction that starts
with a read and then writes (a deferred BEGIN) may find the lock taken when it
upgrades, and in WAL mode it then fails at once with "database is locked"
instead of waiting. So a write transaction (quarty.db.writing) begins with
BEGIN IMMEDIATE, emitted from the engine's `begin` event as in SQLAlchemy's
documented recipe: it waits up to the busy timeout for the lock and then holds
it, and concurrent writers queue instead of failing.

Unlike the recipe, the driver keeps its own transaction handling for the rest:
a read runs outside a transaction, as SQLite and pysqlite do by default, and a
write outside `writing()` still gets the driver's implicit BEGIN before its
first INSERT, UPDATE or DELETE. A BEGIN for every read cost three trips to
aiosqlite's thread per request (in-process, an API user read took 2,262 µs of
CPU with it and 2,004 without).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine

# The execution option that marks a connection's next transaction as a write.
WRITE_OPTION = "quarty_write"

# How long a statement waits for another connection's write lock, in seconds.
BUSY_TIMEOUT = 30.0

# Connections a SQLite engine keeps open. Each is a thread in aiosqlite; more
# than a few only contend for the GIL and the one write lock.
POOL_SIZE = 5

# Each connection's page cache, in KiB (SQLite's default is 2 MiB): five per
# worker, and the OS page cache keeps the file warm anyway.
CACHE_KIB = 512


def engine_options() -> dict[str, Any]:
    """create_async_engine's arguments for a SQLite database."""
    return {
        "connect_args": {"timeout": BUSY_TIMEOUT},
        "pool_size": POOL_SIZE,
        "max_overflow": 0,  # requests wait for a pooled connection instead
        # A session ends its own transaction (closing rolls back what was not
        # committed), so the pool's second rollback on check-in is a wasted
        # trip to the driver's thread per request.
        "pool_reset_on_return": None,
    }


def configure(engine: AsyncEngine) -> None:
    """Tune a new SQLite engine: each connection's settings and its write BEGIN."""
    # aiosqlite logs each call with its arguments at DEBUG: statements with
    # their parameters, which carry password hashes. Never below INFO.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    event.listen(engine.sync_engine, "connect", _on_connect)
    event.listen(engine.sync_engine, "begin", _on_begin)


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL: readers never wait for the writer, and the writer not for readers.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    finally:
        cursor.close()


def _on_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(WRITE_OPTION):
        # The driver sees the open transaction and adds no BEGIN of its own.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
