"""Running Alembic from quarty's own code (the deploy command, tests)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from quarty.db import make_engine
from quarty.paths import resource_path

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

# Alembic (and Mako under it) is imported by the functions that use it: a server
# worker, which imports this module through the CLI commands, never migrates and
# saves the ~9 MiB.


def alembic_config(database_url: str) -> AlembicConfig:
    """An Alembic config for quarty's migrations against this database."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resource_path("alembic")))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


async def migrate(
    database_url: str, revision: str = "head", *, down: bool = False
) -> None:
    """Upgrade (or downgrade, with down=True) to a revision on quarty's own engine.

    Alembic gets an open connection, so it does not start an event loop of its
    own and a connection failure surfaces here, in the caller's loop.
    """
    from alembic import command

    cfg = alembic_config(database_url)

    def run(connection: Connection) -> None:
        cfg.attributes["connection"] = connection
        if down:
            command.downgrade(cfg, revision)
        else:
            command.upgrade(cfg, revision)

    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database up, from sync code."""
    asyncio.run(migrate(database_url, revision))


def downgrade(database_url: str, revision: str = "base") -> None:
    """Migrate the database down to a revision, from sync code."""
    asyncio.run(migrate(database_url, revision, down=True))
