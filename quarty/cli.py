"""`quart --app quarty …` commands (the shell is in quarty.shell)."""

from __future__ import annotations

import asyncio
import sys

import click
from quart import Quart
from sqlalchemy.exc import SQLAlchemyError

from quarty import crud, migrations
from quarty.db import get_database, settle_driver_threads
from quarty.mail import cli as mail_cli


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def init_app(app: Quart) -> None:
    """Add quarty's commands to the app's CLI."""
    mail_cli.init_app(app)

    @app.cli.command("deploy")
    def deploy() -> None:
        """Migrate the database to head and insert the default roles (idempotent)."""
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        try:
            added = asyncio.run(_deploy(app, url))
        except (SQLAlchemyError, OSError) as exc:
            _fail(f"cannot reach the database: {exc.__class__.__name__}: {exc}")
            return
        click.echo(f"Database at head; roles added: {', '.join(added) or 'none'}.")


async def _deploy(app: Quart, url: str) -> list[str]:
    try:
        await migrations.migrate(url)
    except Exception:
        await settle_driver_threads()
        raise
    async with app.app_context():
        database = get_database()
        try:
            async with database.sessionmaker() as session:
                return await crud.insert_default_roles(session)
        finally:
            await database.dispose()
