"""`quart --app quarty deploy`: migrate to head and insert the default roles."""

from __future__ import annotations

import asyncio

import click
from quart import Quart
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.cli.running import fail, in_session
from quarty.db import migrations
from quarty.services import roles
from quarty.services.roles import DEFAULT_ROLE_NAMES


def init_app(app: Quart) -> None:
    """Add the `deploy` command to the app's CLI."""

    @app.cli.command("deploy")
    def deploy() -> None:
        """Migrate the database to head and insert the default roles (idempotent)."""
        try:
            changed, promoted = asyncio.run(_deploy(app))
        except (SQLAlchemyError, OSError) as exc:
            fail(f"cannot reach the database: {exc.__class__.__name__}: {exc}")
        click.echo(
            f"Database at head; roles {', '.join(DEFAULT_ROLE_NAMES)} in place "
            f"(added or repaired now: {', '.join(changed) or 'none'})."
        )
        if promoted:
            click.echo(f"{app.config['QUARTY_ADMIN']} is now an Administrator.")


async def _deploy(app: Quart) -> tuple[list[str], bool]:
    await migrations.migrate(app.config["SQLALCHEMY_DATABASE_URI"])
    added = await in_session(app, roles.insert_default_roles)
    admin = app.config["QUARTY_ADMIN"]

    async def promote(session: AsyncSession) -> bool:
        return await roles.promote_administrator(session, admin)

    return added, await in_session(app, promote)
