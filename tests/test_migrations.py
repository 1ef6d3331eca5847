"""Alembic: upgrade, downgrade, and no difference between models and migrations."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from quarty.db import make_engine, migrations
from quarty.models import Base
from tests.helpers import run_console_script

ROOT = Path(__file__).resolve().parent.parent


def _run(coroutine: Any) -> Any:
    # Alembic runs its own event loop, so these tests are sync and drive ours here.
    return asyncio.run(coroutine)


async def _inspect(url: str, function: Any) -> Any:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(function)
    finally:
        await engine.dispose()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def test_upgrade_makes_the_models_schema_exactly(database_url: str) -> None:
    migrations.upgrade(database_url)
    tables = _run(_inspect(database_url, _tables))
    assert set(Base.metadata.tables) <= tables
    assert _run(_inspect(database_url, _diff)) == []


def test_downgrade_to_base_removes_every_table(database_url: str) -> None:
    migrations.upgrade(database_url)
    migrations.downgrade(database_url, "base")
    assert _run(_inspect(database_url, _tables)) <= {"alembic_version"}
    migrations.upgrade(database_url)  # and back up again cleanly
    assert _run(_inspect(database_url, _diff)) == []


def _alembic(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_console_script(database_url, "alembic", *args)


def test_alembic_command_line_upgrade_check_downgrade(database_url: str) -> None:
    upgrade = _alembic(database_url, "upgrade", "head")
    assert upgrade.returncode == 0, upgrade.stderr
    check = _alembic(database_url, "check")
    assert check.returncode == 0, check.stderr + check.stdout
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    downgrade = _alembic(database_url, "downgrade", "base")
    assert downgrade.returncode == 0, downgrade.stderr
    assert _run(_inspect(database_url, _tables)) <= {"alembic_version"}
