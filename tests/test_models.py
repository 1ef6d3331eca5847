"""The user/role models, their relationship, and no implicit lazy loading."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from quarty import crud
from quarty.db import write_and_commit
from quarty.models import Role, User


async def test_users_belong_to_a_role(session: AsyncSession) -> None:
    admin = Role(name="Admin")
    session.add_all([admin, User(username="john", role=admin), User(username="susan")])
    await session.commit()

    john = (
        await session.scalars(
            select(User).options(selectinload(User.role)).where(User.username == "john")
        )
    ).one()
    assert john.role is not None
    assert john.role.name == "Admin"
    members = (await session.scalars(admin.users.select())).all()
    assert [u.username for u in members] == ["john"]


async def test_reprs_follow_the_book(session: AsyncSession) -> None:
    assert repr(Role(name="Admin")) == "<Role 'Admin'>"
    assert repr(User(username="john")) == "<User 'john'>"


async def test_lazy_load_of_role_fails_loudly(session: AsyncSession) -> None:
    session.add(User(username="lazy", role=Role(name="Moderator")))
    await session.commit()
    session.expunge_all()
    user = (await session.scalars(select(User).where(User.username == "lazy"))).one()
    with pytest.raises(InvalidRequestError, match="lazy='raise'"):
        _ = user.role


async def test_username_is_unique(session: AsyncSession) -> None:
    session.add_all([User(username="twin"), User(username="twin")])
    with pytest.raises(IntegrityError):
        await session.commit()


async def test_insert_user_creates_a_name_once(session: AsyncSession) -> None:
    first = await write_and_commit(session, partial(crud.insert_user, username="ada"))
    again = await write_and_commit(session, partial(crud.insert_user, username="ada"))
    assert first is not None and again is None
    assert await crud.count_users(session) == 1


async def test_a_failed_write_rolls_back_all_of_it(session: AsyncSession) -> None:
    def insert_then_fail(connection: Connection) -> None:
        crud.insert_user(connection, username="ghost")
        connection.execute(insert(User).values(username=None))  # NOT NULL

    with pytest.raises(IntegrityError):
        await write_and_commit(session, insert_then_fail)
    await session.rollback()
    assert await crud.count_users(session) == 0
    # The connection is usable afterwards, and was left with no transaction.
    assert await write_and_commit(session, partial(crud.insert_user, username="ok"))


async def test_default_roles_are_inserted_once(session: AsyncSession) -> None:
    assert await crud.insert_default_roles(session) == [
        "User",
        "Moderator",
        "Administrator",
    ]
    assert await crud.insert_default_roles(session) == []
    names = (await session.scalars(select(Role.name).order_by(Role.id))).all()
    assert names == ["User", "Moderator", "Administrator"]
