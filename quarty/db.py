"""Declarative base, the per-app engine and session factory, the request session."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from quart import Quart, current_app, g
from sqlalchemy import Connection, MetaData
from sqlalchemy.ext.asyncio import (
    AsyncAttrs,
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from quarty import sqlite, sqlite_writes

EXTENSION_KEY = "quarty.db"
# Where a session made by Database.sessionmaker finds its database's writers lock.
WRITERS_KEY = "quarty.writers"

T = TypeVar("T")

# Named constraints make Alembic emit the same names on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Database:
    """The engine and session factory that one app owns."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.engine: AsyncEngine = make_engine(url, echo=echo)
        # This process's writers take turns here (see write_and_commit).
        self.writers = asyncio.Lock()
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False, info={WRITERS_KEY: self.writers}
        )

    async def dispose(self) -> None:
        await self.engine.dispose()


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine; SQLite ones are tuned by quarty.sqlite, with a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"timeout": sqlite.BUSY_TIMEOUT},
            pool_pre_ping=False,
            pool_size=sqlite.POOL_SIZE,
            max_overflow=0,  # requests wait for a pooled connection instead
        )
        sqlite.configure(engine)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True)


async def settle_driver_threads(wait_seconds: float = 2.0) -> None:
    """Let aiosqlite's worker threads finish while this event loop still runs.

    A failed aiosqlite connect stops its thread through the running loop; if the
    loop closes first (a CLI command exiting on the error), the thread dies with
    a traceback on stderr. Await this before leaving the loop on such an error.
    """
    workers = [
        thread
        for thread in threading.enumerate()
        if thread is not threading.current_thread()
        and "_connection_worker_thread" in thread.name
    ]
    for thread in workers:
        await asyncio.to_thread(thread.join, wait_seconds)


def init_app(app: Quart) -> None:
    """Give the app its Database, a session per request, and disposal at shutdown."""
    database = Database(
        app.config["SQLALCHEMY_DATABASE_URI"], echo=app.config["SQLALCHEMY_ECHO"]
    )
    app.extensions[EXTENSION_KEY] = database

    @app.teardown_appcontext
    async def _close_request_session(_exc: BaseException | None) -> None:
        session: AsyncSession | None = g.pop("db_session", None)
        if session is not None:
            # Closing rolls back whatever the request did not commit.
            await run_to_completion(session.close())

    @app.after_serving
    async def _dispose_engine() -> None:
        await database.dispose()


async def run_to_completion(work: Coroutine[Any, Any, T]) -> T:
    """Await work that must finish even if the awaiting task is cancelled meanwhile.

    A client that hangs up makes Quart cancel its request. Database work cut
    short there leaves its aiosqlite connection thread holding the transaction,
    and on SQLite that transaction's write lock stops every other writer for
    good. The work runs in a task of its own; a cancellation is re-raised once
    it has finished (as SQLAlchemy's own `async with session` does for close).
    """
    task = asyncio.ensure_future(work)
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError as error:
            if task.done():
                raise
            cancelled = error
        else:
            break
    if cancelled is not None:
        raise cancelled
    return result


def get_database() -> Database:
    """The current app's Database."""
    database: Database = current_app.extensions[EXTENSION_KEY]
    return database


async def write_and_commit(session: AsyncSession, work: Callable[[Connection], T]) -> T:
    """Run `work`'s statements in the session's transaction and commit it.

    `work` is synchronous: it gets a Connection and must not await. On SQLite
    it runs in one trip to the driver's thread, holding the database's write
    lock only as long as the statements take (quarty.sqlite_writes);
    elsewhere it runs through AsyncConnection.run_sync.
    """
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        # A session from another factory gets a lock of its own: no queue.
        writers = session.info.get(WRITERS_KEY) or asyncio.Lock()
        result = await sqlite_writes.run_in_one_trip(connection, work, writers=writers)
    else:
        result = await connection.run_sync(work)
    # On SQLite the work committed already; this ends the session's side.
    await session.commit()
    return result


def connect() -> AsyncConnection:
    """A pooled connection of the current app, for reads that need no ORM session.

    Use it as `async with connect() as connection:`; it goes back to the pool
    at the end of the block.
    """
    return get_database().engine.connect()


def get_session() -> AsyncSession:
    """The session of the current request or app context, made on first use."""
    session: AsyncSession | None = g.get("db_session")
    if session is None:
        session = get_database().sessionmaker()
        g.db_session = session
    return session
