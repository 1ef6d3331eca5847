"""Async functions that query and change the user/role store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Connection, Insert, Select, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from quarty.models import Role, User

DEFAULT_ROLE_NAMES = ("User", "Moderator", "Administrator")


class UserSummary(NamedTuple):
    """A user as pages and the API show it: plain columns, no ORM instance."""

    id: int
    username: str
    role_id: int | None
    role_name: str | None


# The hot queries are built once, their values bound at execution: composing a
# select() costs more than SQLite takes to run it.
_users, _roles = User.__table__, Role.__table__
_SUMMARIES = select(
    _users.c.id,
    _users.c.username,
    _roles.c.id.label("role_id"),
    _roles.c.name.label("role_name"),
).select_from(_users.outerjoin(_roles))
_SUMMARY_BY_ID = _SUMMARIES.where(_users.c.id == bindparam("user_id"))
_SUMMARY_BY_USERNAME = _SUMMARIES.where(_users.c.username == bindparam("username"))


def _summaries_page(*, with_role: bool) -> Select[int, str, int, str, int]:
    # The count rides along each row as an uncorrelated scalar subquery, which
    # the database works out once.
    count = select(func.count()).select_from(_users)
    page = _SUMMARIES
    if with_role:
        count = count.where(_users.c.role_id == bindparam("role_id"))
        page = page.where(_users.c.role_id == bindparam("role_id"))
    return (
        page.add_columns(count.scalar_subquery().label("total"))
        .order_by(_users.c.id)
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )


_SUMMARIES_PAGE = _summaries_page(with_role=False)
_ROLE_SUMMARIES_PAGE = _summaries_page(with_role=True)


async def get_user_by_username(
    executor: AsyncSession | AsyncConnection, *, username: str
) -> UserSummary | None:
    """The user with this username, or None."""
    result = await executor.execute(_SUMMARY_BY_USERNAME, {"username": username})
    row = result.first()
    return None if row is None else UserSummary(*row)


def insert_user(connection: Connection, *, username: str) -> int | None:
    """Add a user unless the name is taken; the new row's id, or None. No commit.

    Synchronous, for db.write_and_commit. The insert skips a conflicting row
    instead of failing, so clients racing to add one name all succeed and
    exactly one of them creates it.
    """
    dialect = connection.dialect.name
    statement = _INSERT_USER.get(dialect)
    if statement is None:
        statement = _insert_user_statement(dialect)
    return connection.execute(statement, {"username": username}).scalar_one_or_none()


def _insert_ignoring_conflicts(dialect: str, model: type[User | Role]) -> Insert:
    if dialect == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing()
    raise NotImplementedError(f"no conflict-skipping insert for {dialect}")


def _insert_user_statement(dialect: str) -> Insert:
    return _insert_ignoring_conflicts(dialect, User).returning(User.id)


# Built once per dialect, the username bound at execution (inside SQLite's
# write lock, composing the statement took longer than running it).
_INSERT_USER = {name: _insert_user_statement(name) for name in ("sqlite", "postgresql")}


async def insert_default_roles(session: AsyncSession) -> list[str]:
    """Add the default roles that are missing; return the names added. Commits."""
    existing = set((await session.scalars(select(Role.name))).all())
    added = [name for name in DEFAULT_ROLE_NAMES if name not in existing]
    if added:
        await session.execute(
            _insert_ignoring_conflicts(session.get_bind().dialect.name, Role),
            [{"name": n} for n in added],
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


async def list_user_summaries(
    connection: AsyncConnection,
    *,
    offset: int,
    limit: int,
    role_id: int | None = None,
) -> tuple[list[UserSummary], int]:
    """A page of users ordered by id and the total, in one query.

    Only a page past the end (no rows to carry the total) counts on its own.
    """
    values: dict[str, int] = {"offset": offset, "limit": limit}
    query = _SUMMARIES_PAGE
    if role_id is not None:
        values["role_id"] = role_id
        query = _ROLE_SUMMARIES_PAGE
    rows = (await connection.execute(query, values)).all()
    if not rows:
        total = (await connection.execute(_user_count(role_id))).scalar_one()
        return [], total
    return [UserSummary(*row[:4]) for row in rows], rows[0].total


async def get_user_summary(
    connection: AsyncConnection, user_id: int
) -> UserSummary | None:
    """The user with this id, or None."""
    row = (await connection.execute(_SUMMARY_BY_ID, {"user_id": user_id})).first()
    return None if row is None else UserSummary(*row)


async def list_roles(session: AsyncSession) -> Sequence[Role]:
    """All roles ordered by id."""
    return (await session.scalars(select(Role).order_by(Role.id))).all()


async def get_role(session: AsyncSession, role_id: int) -> Role | None:
    """The role with this id, or None."""
    return await session.get(Role, role_id)
