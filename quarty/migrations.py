"""Running Alembic from quarty's own code (the deploy command, tests)."""

from __future__ import annotations

from alembic.config import Config as AlembicConfig

from alembic import command
from quarty.paths import resource_dir


def alembic_config(database_url: str) -> AlembicConfig:
    """An Alembic config for quarty's migrations against this database."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resource_dir("alembic")))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database up; sync, since Alembic runs its own event loop."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Migrate the database down; sync, like upgrade()."""
    command.downgrade(alembic_config(database_url), revision)
