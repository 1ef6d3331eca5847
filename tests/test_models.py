"""The user/role models, their relationship, and no implicit lazy loading."""

from __future__ import annotations

import pytest
from quart import Quart
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from quarty.db import writing
from quarty.models import Role, User
from quarty.services import accounts
from quarty.services import roles as roles_service


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


async def test_register_name_creates_a_name_once(
    app: Quart, session: AsyncSession
) -> None:
    async with app.app_context():
        first, created = await accounts.register_name(session, username="ada")
        again, created_again = await accounts.register_name(session, username="ada")
    assert created and not created_again
    assert again.id == first.id
    assert await accounts.count_users(session) == 1


async def test_a_failed_write_rolls_back_all_of_it(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError):
        async with writing(session):
            session.add(User(username="ghost"))
            await session.flush()
            session.add(User(username="ghost"))  # the same name again
            await session.flush()
    assert await accounts.count_users(session) == 0
    # The session is usable afterwards.
    async with writing(session):
        session.add(User(username="ok"))
    assert await accounts.count_users(session) == 1


async def test_default_roles_are_inserted_once(session: AsyncSession) -> None:
    assert await roles_service.insert_default_roles(session) == [
        "User",
        "Moderator",
        "Administrator",
    ]
    assert await roles_service.insert_default_roles(session) == []
    names = (await session.scalars(select(Role.name).order_by(Role.id))).all()
    assert names == ["User", "Moderator", "Administrator"]
