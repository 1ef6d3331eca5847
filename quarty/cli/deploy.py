"""`quart --app quarty deploy`: migrate to head and insert the default roles."""

from __future__ import annotations

import asyncio

import click
from quart import Quart
from sqlalchemy.exc import SQLAlchemyError

from quarty.cli.running import fail, in_session
from quarty.db import migrations
from quarty.services import roles


def init_app(app: Quart) -> None:
    """Add the `deploy` command to the app's CLI."""

    @app.cli.command("deploy")
    def deploy() -> None:
        """Migrate the database to head and insert the default roles (idempotent)."""
        try:
            added = asyncio.run(_deploy(app))
        except (SQLAlchemyError, OSError) as exc:
            fail(f"cannot reach the database: {exc.__class__.__name__}: {exc}")
        click.echo(f"Database at head; roles added: {', '.join(added) or 'none'}.")


async def _deploy(app: Quart) -> list[str]:
    await migrations.migrate(app.config["SQLALCHEMY_DATABASE_URI"])
    return await in_session(app, roles.insert_default_roles)
