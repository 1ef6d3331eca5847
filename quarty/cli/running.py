"""What the commands share: work in a session on the app's database, and failing."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import click
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import get_database

T = TypeVar("T")


async def in_session(app: Quart, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in a session on the app's database; dispose of the engine after.

    A command runs outside any request and ends its event loop when done, so
    the pooled connections are closed here rather than at the app's shutdown.
    """
    async with app.app_context():
        database = get_database()
        try:
            async with database.sessionmaker() as session:
                return await work(session)
        finally:
            await database.dispose()


def fail(message: str) -> NoReturn:
    """Say what went wrong on stderr and exit 1, with no traceback."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)
