"""Alembic: upgrade, downgrade, and no difference between models and migrations."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from quarty.db import make_engine, migrations
from quarty.models import Base, avatar_hash_of
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


def _users(connection: Connection) -> list[tuple[Any, ...]]:
    rows = connection.execute(
        text(
            "SELECT id, username, role_id, email, password_hash, confirmed,"
            " session_version FROM users ORDER BY id"
        )
    )
    return [tuple(row) for row in rows]


async def _insert_names(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO roles (name) VALUES ('User')"))
            await connection.execute(
                text(
                    "INSERT INTO users (username, role_id)"
                    " VALUES ('ada', 1), ('bob', NULL)"
                )
            )
    finally:
        await engine.dispose()


def test_the_accounts_revision_keeps_every_user_as_a_name_only_user(
    database_url: str,
) -> None:
    migrations.upgrade(database_url, "0002")
    _run(_insert_names(database_url))
    migrations.upgrade(database_url, "0003")
    assert _run(_inspect(database_url, _users)) == [
        (1, "ada", 1, None, None, False, 0),
        (2, "bob", None, None, None, False, 0),
    ]
    migrations.downgrade(database_url, "0002")
    migrations.upgrade(database_url, "0003")
    assert [row[:2] for row in _run(_inspect(database_url, _users))] == [
        (1, "ada"),
        (2, "bob"),
    ]


def _roles_and_users(connection: Connection) -> tuple[list[Any], list[Any]]:
    roles = connection.execute(
        text('SELECT id, name, permissions, "default" FROM roles ORDER BY id')
    )
    users = connection.execute(
        text(
            "SELECT username, role_id, avatar_hash, member_since IS NOT NULL"
            " FROM users ORDER BY id"
        )
    )
    return [tuple(row) for row in roles], [tuple(row) for row in users]


def test_the_roles_revision_repairs_the_roles_and_moves_users_onto_them(
    database_url: str,
) -> None:
    migrations.upgrade(database_url, "0002")
    _run(_insert_names(database_url))  # role 1 "User", ada in it, bob in none
    migrations.upgrade(database_url)
    roles, users = _run(_inspect(database_url, _roles_and_users))
    assert roles == [
        (1, "User", 7, True),
        (2, "Moderator", 15, False),
        (3, "Administrator", 31, False),
    ]
    ada, bob = users
    assert (ada[:2], bob[:2]) == (("ada", 1), ("bob", 1))
    assert ada[2] == avatar_hash_of(None, "ada")
    assert ada[2] != bob[2]
    assert ada[3] and bob[3]
    migrations.downgrade(database_url, "0003")
    migrations.upgrade(database_url)
    assert _run(_inspect(database_url, _diff)) == []
