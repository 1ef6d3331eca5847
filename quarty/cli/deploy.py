"""`quart --app quarty deploy`: migrate to head and insert the default roles."""

from __future__ import annotations

import asyncio
import sys

import click
from quart import Quart
from sqlalchemy.exc import SQLAlchemyError

from quarty.db import Database, migrations
from quarty.services import roles


def init_app(app: Quart) -> None:
    """Add the `deploy` command to the app's CLI."""

    @app.cli.command("deploy")
    def deploy() -> None:
        """Migrate the database to head and insert the default roles (idempotent)."""
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        try:
            added = asyncio.run(_deploy(url))
        except (SQLAlchemyError, OSError) as exc:
            click.echo(
                f"Error: cannot reach the database: {exc.__class__.__name__}: {exc}",
                err=True,
            )
            sys.exit(1)
        click.echo(f"Database at head; roles added: {', '.join(added) or 'none'}.")


async def _deploy(url: str) -> list[str]:
    await migrations.migrate(url)
    database = Database(url)
    try:
        async with database.sessionmaker() as session:
            return await roles.insert_default_roles(session)
    finally:
        await database.dispose()
