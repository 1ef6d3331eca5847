"""`quart --app quarty …` commands: deploy and an await-capable shell."""

from __future__ import annotations

import asyncio
import sys

import click
from quart import Quart
from sqlalchemy.exc import SQLAlchemyError

from quarty import crud, migrations
from quarty.db import get_database
from quarty.shell import run_shell


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def init_app(app: Quart) -> None:
    """Add quarty's commands to the app's CLI."""

    @app.cli.command("deploy")
    def deploy() -> None:
        """Migrate the database to head and insert the default roles (idempotent)."""
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        try:
            migrations.upgrade(url)
            added = asyncio.run(_insert_roles(app))
        except (SQLAlchemyError, OSError) as exc:
            _fail(f"cannot reach the database: {exc.__class__.__name__}: {exc}")
            return
        click.echo(f"Database at head; roles added: {', '.join(added) or 'none'}.")

    @app.cli.command("shell")
    def shell() -> None:
        """An interactive prompt where `await` works, inside an app context."""
        run_shell(app)


async def _insert_roles(app: Quart) -> list[str]:
    async with app.app_context():
        database = get_database()
        try:
            async with database.sessionmaker() as session:
                return await crud.insert_default_roles(session)
        finally:
            await database.dispose()
