"""What the commands share: work in a session on the app's database, failing,
and printing a table."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import NoReturn, TypeVar

import click
from quart import Quart
from sqlalchemy.exc import SQLAlchemyError
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


def run_in_session(app: Quart, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """in_session from a command: a database it cannot use fails with one line."""
    try:
        return asyncio.run(in_session(app, work))
    except (SQLAlchemyError, OSError) as exc:
        # The driver's own message, short: SQLAlchemy's adds the statement.
        cause = getattr(exc, "orig", None) or exc
        fail(
            f"cannot use the database ({cause.__class__.__name__}: {cause}); "
            "has `quart --app quarty deploy` run?"
        )


def table(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells in left-aligned columns two spaces apart, the first a header."""
    widths = [max(len(cell) for cell in column) for column in zip(*rows, strict=True)]
    return "\n".join("  ".join(map(str.ljust, row, widths)).rstrip() for row in rows)
