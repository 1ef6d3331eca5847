"""`quart --app quarty roles list`, run as an operator runs it.

The app fixture makes the tables (without roles) on the database the command
is pointed at.
"""

from __future__ import annotations

from quart import Quart
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.models import Role, User
from quarty.services import roles
from tests.accounts import create_account
from tests.helpers import run_quart


async def test_list_shows_each_roles_default_users_and_permissions(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    await create_account(app, email="ada@example.com", username="ada")
    await create_account(app, email="bob@example.com", username="bob")
    await create_account(app, email="cy@example.com", username="cy")
    await roles.set_role(session, email="cy@example.com", role_name="Administrator")

    result = await run_quart(database_url, "roles", "list")
    assert result.returncode == 0, result.stderr
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["id", "role", "default", "users", "permissions"],
        ["1", "User", "yes", "2", "FOLLOW,COMMENT,WRITE"],
        ["2", "Moderator", "no", "0", "FOLLOW,COMMENT,WRITE,MODERATE"],
        ["3", "Administrator", "no", "1", "FOLLOW,COMMENT,WRITE,MODERATE,ADMIN"],
    ]


async def test_list_shows_a_hand_edited_roles_bits_as_they_are(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    async with writing(session):
        await session.execute(
            update(Role).where(Role.name == "Moderator").values(permissions=8 | 64)
        )
        await session.execute(update(Role).values(default=False))
        session.add(Role(name="Nobody", permissions=0))
    session.add(User(username="name.only", role_id=1))  # the name form's kind
    await session.commit()

    result = await run_quart(database_url, "roles", "list")
    assert result.returncode == 0, result.stderr
    assert [line.split() for line in result.stdout.splitlines()][1:] == [
        ["1", "User", "no", "1", "FOLLOW,COMMENT,WRITE"],
        ["2", "Moderator", "no", "0", "MODERATE,64"],
        ["3", "Administrator", "no", "0", "FOLLOW,COMMENT,WRITE,MODERATE,ADMIN"],
        ["4", "Nobody", "no", "0", "-"],
    ]


async def test_list_without_roles_says_to_deploy(app: Quart, database_url: str) -> None:
    result = await run_quart(database_url, "roles", "list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "No roles yet: run `quart --app quarty deploy` first."
    )
