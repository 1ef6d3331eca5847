"""Roles: the defaults every deployment has, and looking them up."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.models import ADMINISTRATOR_ROLE, DEFAULT_ROLE, DEFAULT_ROLES, Role, User
from quarty.services.auth import AccountError, UnknownRoleError, normalize_email

DEFAULT_ROLE_NAMES = tuple(DEFAULT_ROLES)


class RoleNotFoundError(UnknownRoleError):
    """No role has the name asked for; `known` holds the names there are."""

    def __init__(self, role_name: str, known: Sequence[str]) -> None:
        super().__init__(role_name)
        self.known = tuple(known)


class NoSuchAccountError(AccountError):
    def __init__(self, email: str) -> None:
        super().__init__(f"No account has the email {email!r}.")


class RoleChange(NamedTuple):
    """What set_role did: whose role, the role before (if any) and after."""

    email: str
    old_role: str | None
    new_role: str

    @property
    def changed(self) -> bool:
        return self.old_role != self.new_role


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


def _role_named(candidates: Sequence[Role], name: str) -> Role | None:
    # The exact name first; else the one role that matches ignoring case.
    wanted = name.strip()
    exact = [role for role in candidates if role.name == wanted]
    alike = [role for role in candidates if role.name.casefold() == wanted.casefold()]
    matches = exact or alike
    return matches[0] if len(matches) == 1 else None


async def set_role(session: AsyncSession, *, email: str, role_name: str) -> RoleChange:
    """Give the account with this email the named role (any case). Commits.

    Raises RoleNotFoundError or NoSuchAccountError. The new permissions apply
    from the account's next request: they are read per request, not kept in
    its sign-in cookie.
    """
    all_roles = await list_roles(session)
    role = _role_named(all_roles, role_name)
    if role is None:
        known = [each.name for each in all_roles]
        raise RoleNotFoundError(role_name.strip(), known)
    role_id, new_role = role.id, role.name
    email = normalize_email(email)
    async with writing(session):
        row = (
            await session.execute(
                select(User.id, Role.name)
                .outerjoin(User.role)
                .where(User.email == email)
            )
        ).first()
        if row is None:
            raise NoSuchAccountError(email)
        user_id, old_role = row
        if old_role != new_role:
            await session.execute(
                update(User).where(User.id == user_id).values(role_id=role_id)
            )
    return RoleChange(email=email, old_role=old_role, new_role=new_role)
