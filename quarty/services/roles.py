"""Roles: the defaults every deployment has, and looking them up."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.models import Role

DEFAULT_ROLE_NAMES = ("User", "Moderator", "Administrator")


async def insert_default_roles(session: AsyncSession) -> list[str]:
    """Add the default roles that are missing; return the names added. Commits."""
    async with writing(session):
        existing = set((await session.scalars(select(Role.name))).all())
        added = [name for name in DEFAULT_ROLE_NAMES if name not in existing]
        session.add_all(Role(name=name) for name in added)
    return added


async def list_roles(session: AsyncSession) -> Sequence[Role]:
    """All roles ordered by id."""
    return (await session.scalars(select(Role).order_by(Role.id))).all()


async def get_role(session: AsyncSession, role_id: int) -> Role | None:
    """The role with this id, or None."""
    return await session.get(Role, role_id)
