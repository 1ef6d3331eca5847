"""Async functions that query and change the user/role store."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Insert, Select, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from quarty.models import Role, User

DEFAULT_ROLE_NAMES = ("User", "Moderator", "Administrator")


async def get_user_by_username(session: AsyncSession, *, username: str) -> User | None:
    """The user with this username, its role loaded, or None."""
    result = await session.execute(
        select(User).options(joinedload(User.role)).where(User.username == username)
    )
    return result.scalar_one_or_none()


async def get_or_create_user(
    session: AsyncSession, *, username: str
) -> tuple[User, bool]:
    """Return the user and whether it was created; does not commit.

    A known name is only read: no write transaction, so no write lock. The
    insert skips a conflicting row instead of failing, so clients racing to
    add the same name all get the one row and none gets an error.
    """
    known = await get_user_by_username(session, username=username)
    if known is not None:
        return known, False
    insert_user = _insert_ignoring_conflicts(session, User).values(username=username)
    created_id = (
        await session.execute(insert_user.returning(User.id))
    ).scalar_one_or_none()
    user = await get_user_by_username(session, username=username)
    if user is None:  # pragma: no cover - the row was deleted in between
        raise LookupError(f"user {username!r} vanished during creation")
    return user, created_id is not None


def _insert_ignoring_conflicts(
    session: AsyncSession, model: type[User | Role]
) -> Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing()
    raise NotImplementedError(f"no conflict-skipping insert for {dialect}")


async def insert_default_roles(session: AsyncSession) -> list[str]:
    """Add the default roles that are missing; return the names added. Commits."""
    existing = set((await session.scalars(select(Role.name))).all())
    added = [name for name in DEFAULT_ROLE_NAMES if name not in existing]
    if added:
        await session.execute(
            _insert_ignoring_conflicts(session, Role), [{"name": n} for n in added]
        )
        await session.commit()
    return added


def _user_count(role_id: int | None) -> Select[int]:
    """The count of all users, or of the users with this role."""
    query = select(func.count()).select_from(User)
    return query if role_id is None else query.where(User.role_id == role_id)


async def count_users(session: AsyncSession, *, role_id: int | None = None) -> int:
    """How many users there are, or how many have this role."""
    return (await session.execute(_user_count(role_id))).scalar_one()


async def list_users_counted(
    session: AsyncSession,
    *,
    offset: int,
    limit: int,
    role_id: int | None = None,
) -> tuple[Sequence[User], int]:
    """A page of users ordered by id (roles loaded) and the total, in one query.

    The count rides along each row as an uncorrelated scalar subquery, which
    the database works out once; only a page past the end (no rows to carry
    it) asks for the count on its own.
    """
    query = (
        select(User, _user_count(role_id).scalar_subquery())
        .options(joinedload(User.role))
        .order_by(User.id)
    )
    if role_id is not None:
        query = query.where(User.role_id == role_id)
    rows = (await session.execute(query.offset(offset).limit(limit))).all()
    if not rows:
        return [], await count_users(session, role_id=role_id)
    return [user for user, _count in rows], rows[0][1]


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    """The user with this id, role loaded, or None."""
    result = await session.execute(
        select(User).options(joinedload(User.role)).where(User.id == user_id)
    )
    return result.scalar_one_or_none()


async def list_roles(session: AsyncSession) -> Sequence[Role]:
    """All roles ordered by id."""
    return (await session.scalars(select(Role).order_by(Role.id))).all()


async def get_role(session: AsyncSession, role_id: int) -> Role | None:
    """The role with this id, or None."""
    return await session.get(Role, role_id)
