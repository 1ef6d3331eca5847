"""The per-app engine and session factory, the request's session, write transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager, nullcontext
from typing import Any, TypeVar

from quart import Quart, current_app, g
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from quarty.db import sqlite

EXTENSION_KEY = "quarty.db"
# Where a session from Database.sessionmaker finds its process's writers' queue.
WRITERS_KEY = "quarty.writers"

T = TypeVar("T")


class Database:
    """The engine and session factory that one app owns."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.engine: AsyncEngine = make_engine(url, echo=echo)
        # On SQLite this process's writers take turns here before they meet the
        # other processes' at SQLite's lock (see writing()).
        writers = asyncio.Lock() if self.engine.dialect.name == "sqlite" else None
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False, info={WRITERS_KEY: writers}
        )

    async def dispose(self) -> None:
        await self.engine.dispose()


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine; SQLite ones get WAL, a busy timeout and locking writes.

    Statements are logged and raised without their parameters, which carry
    password hashes and token digests.
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, echo=echo, hide_parameters=True, **sqlite.engine_options()
        )
        sqlite.configure(engine)
        return engine
    return create_async_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True)


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


def get_database() -> Database:
    """The current app's Database."""
    database: Database = current_app.extensions[EXTENSION_KEY]
    return database


def get_session() -> AsyncSession:
    """The session of the current request or app context, made on first use."""
    session: AsyncSession | None = g.get("db_session")
    if session is None:
        session = get_database().sessionmaker()
        g.db_session = session
    return session


@asynccontextmanager
async def writing(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """One write transaction on the session, committed once when the block ends.

    Use the ORM inside (`session.add`, `flush`); an exception rolls it all back.
    A transaction the session had open for reads is ended first, so that on
    SQLite the write begins with BEGIN IMMEDIATE (quarty.db.sqlite): it waits
    for the write lock up front instead of failing to upgrade a read to a
    write. PostgreSQL ignores the option; the transaction is the same there.

    On SQLite the writers of one process also queue for an asyncio lock first:
    the transaction holds SQLite's lock across awaits, and writers waiting in
    SQLite's busy handler sleep up to 100 ms a time while others take it.
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("changes made outside `writing()` would commit with it")
    if session.in_transaction():
        await session.commit()  # only reads happened: nothing is written
    writers: asyncio.Lock | None = session.info.get(WRITERS_KEY)
    async with writers or nullcontext():
        await session.connection(execution_options={sqlite.WRITE_OPTION: True})
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def run_to_completion(work: Coroutine[Any, Any, T]) -> T:
    """Await work that must finish even if the awaiting task is cancelled meanwhile.

    A client that hangs up makes Quart cancel its request. A write cut short
    there would leave its connection holding SQLite's write lock until the
    connection is cleaned up, and an accepted change half done. The work runs
    in a task of its own; a cancellation is re-raised once it has finished (as
    SQLAlchemy's own `async with session` does for close).
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
