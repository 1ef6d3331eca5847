"""Roles: the defaults every deployment has, and looking them up."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.models import ADMINISTRATOR_ROLE, DEFAULT_ROLE, DEFAULT_ROLES, Role, User

DEFAULT_ROLE_NAMES = tuple(DEFAULT_ROLES)


async def insert_default_roles(session: AsyncSession) -> list[str]:
    """Add the default roles that are missing and repair the others.

    Returns the names added or repaired. Rows already there keep their ids.
    Commits.
    """
    async with writing(session):
        existing = {role.name: role for role in await session.scalars(select(Role))}
        changed = []
        for name, permissions in DEFAULT_ROLES.items():
            role = existing.get(name)
            if role is None:
                role = Role(name=name)
                session.add(role)
            elif (role.permissions, role.default) == (
                permissions,
                name == DEFAULT_ROLE,
            ):
                continue
            role.permissions = int(permissions)
            role.default = name == DEFAULT_ROLE
            changed.append(name)
    return changed


async def promote_administrator(session: AsyncSession, email: str | None) -> bool:
    """Give the account with this email the Administrator role; whether it changed.

    Unlike the book, QUARTY_ADMIN set after its account registered still makes
    that account an administrator, at the next deploy.
    """
    if not email:
        return False
    admin_role = select(Role.id).where(Role.name == ADMINISTRATOR_ROLE)
    async with writing(session):
        result = await session.execute(
            update(User)
            .where(
                User.email == email.strip().lower(),
                User.role_id.is_distinct_from(admin_role.scalar_subquery()),
            )
            .values(role_id=admin_role.scalar_subquery())
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def list_roles(session: AsyncSession) -> Sequence[Role]:
    """All roles ordered by id."""
    return (await session.scalars(select(Role).order_by(Role.id))).all()


async def count_users_per_role(session: AsyncSession) -> list[tuple[str, int]]:
    """Each role's name and how many users hold it, ordered by role id."""
    query = (
        select(Role.name, func.count(User.id))
        .outerjoin(User, User.role_id == Role.id)
        .group_by(Role.id, Role.name)
        .order_by(Role.id)
    )
    return [(name, count) for name, count in (await session.execute(query)).all()]


async def get_role(session: AsyncSession, role_id: int) -> Role | None:
    """The role with this id, or None."""
    return await session.get(Role, role_id)
