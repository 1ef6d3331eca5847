"""People in the store: look them up, list them, and register them by name."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Label, Select, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from quarty.db import run_to_completion, writing
from quarty.mail import notify_sender, outbox, render_new_user_mail
from quarty.models import USERNAME_MAX_LENGTH, Follow, Post, Role, User


class UserSummary(NamedTuple):
    """A user as pages and the API show it: plain columns, no ORM instance.

    The email and `confirmed` are here for the few who may see them (the user
    themself, administrators); whoever shows the summary decides.
    """

    id: int
    username: str
    role_id: int | None
    role_name: str | None
    email: str | None
    confirmed: bool
    name: str | None
    location: str | None
    about_me: str | None
    member_since: datetime
    last_seen: datetime
    avatar_hash: str
    post_count: int
    followers_count: int
    following_count: int


def _per_user_count(column: InstrumentedAttribute[int], label: str) -> Label[int]:
    """How many rows have `column` equal to the user's id, as a column of the
    user's own row: a correlated subquery on the index `column` leads."""
    return (
        select(func.count())
        .where(column == User.id)
        .correlate(User)
        .scalar_subquery()
        .label(label)
    )


# A page of users stays one query with these in it. Nobody follows themself,
# so the follow counts are the true ones.
POST_COUNT = _per_user_count(Post.author_id, "post_count")
FOLLOWERS_COUNT = _per_user_count(Follow.followed_id, "followers_count")
FOLLOWING_COUNT = _per_user_count(Follow.follower_id, "following_count")

# The queries are built once, their values bound at execution.
_SUMMARIES = select(
    User.id,
    User.username,
    Role.id.label("role_id"),
    Role.name.label("role_name"),
    User.email,
    User.confirmed,
    User.name,
    User.location,
    User.about_me,
    User.member_since,
    User.last_seen,
    User.avatar_hash,
    POST_COUNT,
    FOLLOWERS_COUNT,
    FOLLOWING_COUNT,
).outerjoin(User.role)
_SUMMARY_COLUMNS = len(UserSummary._fields)
_SUMMARY_BY_ID = _SUMMARIES.where(User.id == bindparam("user_id"))
_SUMMARY_BY_USERNAME = _SUMMARIES.where(User.username == bindparam("username"))


async def get_user_by_username(
    session: AsyncSession, *, username: str
) -> UserSummary | None:
    """The user with this username, or None."""
    result = await session.execute(_SUMMARY_BY_USERNAME, {"username": username})
    row = result.first()
    return None if row is None else _summary_of(row)


async def get_user_summary(session: AsyncSession, user_id: int) -> UserSummary | None:
    """The user with this id, or None."""
    row = (await session.execute(_SUMMARY_BY_ID, {"user_id": user_id})).first()
    return None if row is None else _summary_of(row)


def _summary_of(row: Any) -> UserSummary:
    """The summary in the first columns of a row of _SUMMARIES."""
    summary = UserSummary(*row[:_SUMMARY_COLUMNS])
    # SQLite hands back naive values; they are UTC.
    return summary._replace(
        confirmed=bool(summary.confirmed),
        member_since=outbox.as_utc(summary.member_since),
        last_seen=outbox.as_utc(summary.last_seen),
    )


def _user_count(role_id: int | None) -> Select[int]:
    query = select(func.count()).select_from(User)
    return query if role_id is None else query.where(User.role_id == role_id)


async def count_users(session: AsyncSession, *, role_id: int | None = None) -> int:
    """How many users there are, or how many have this role."""
    return (await session.execute(_user_count(role_id))).scalar_one()


async def list_user_summaries(
    session: AsyncSession, *, offset: int, limit: int, role_id: int | None = None
) -> tuple[list[UserSummary], int]:
    """A page of users ordered by id, and how many there are in all.

    The total rides along each row as an uncorrelated scalar subquery, which
    the database works out once: one query, unless the page is past the end.
    """
    total = _user_count(role_id).scalar_subquery().label("total")
    page = _SUMMARIES.add_columns(total).order_by(User.id).offset(offset).limit(limit)
    if role_id is not None:
        page = page.where(User.role_id == role_id)
    rows = (await session.execute(page)).all()
    if not rows:
        return [], await count_users(session, role_id=role_id)
    return [_summary_of(row) for row in rows], rows[0].total


async def register_name(
    session: AsyncSession, *, username: str
) -> tuple[UserSummary, bool]:
    """Get or create the user; return it and whether it is new.

    A new user's "New User" mail to QUARTY_ADMIN enters the outbox in the same
    transaction, and the app's sender is woken only once both are committed.
    The transaction runs to its end even if the client hangs up meanwhile.
    """
    return await run_to_completion(_register_name(session, username=username))


async def _register_name(
    session: AsyncSession, *, username: str
) -> tuple[UserSummary, bool]:
    known = await get_user_by_username(session, username=username)
    if known is not None:
        return known, False
    # Rendered first, so that the write transaction holds only the writes.
    mail = await render_new_user_mail(username=username)
    try:
        async with writing(session):
            user = User(username=username)
            session.add(user)
            message = None if mail is None else outbox.add_message(session, mail)
    except IntegrityError:
        # Another request added the name since it was looked up (the commit's
        # flush found it); nothing was written, and nobody is told twice.
        known = await get_user_by_username(session, username=username)
        if known is None:
            raise
        return known, False
    if message is not None:
        notify_sender(message.id)
    # The row as inserted: a new user has no role, profile, posts or follows. The
    # defaults were worked out in Python at the INSERT, so the instance has them.
    summary = UserSummary(
        id=user.id,
        username=username,
        role_id=None,
        role_name=None,
        email=None,
        confirmed=False,
        name=None,
        location=None,
        about_me=None,
        member_since=user.member_since,
        last_seen=user.last_seen,
        avatar_hash=user.avatar_hash,
        post_count=0,
        followers_count=0,
        following_count=0,
    )
    return summary, True


def clean_username(value: str) -> str:
    """The username trimmed, or ValueError saying which rule it breaks."""
    username = value.strip()
    if not username:
        raise ValueError("must not be blank")
    if len(username) > USERNAME_MAX_LENGTH:
        raise ValueError(
            f"must be at most {USERNAME_MAX_LENGTH} characters once trimmed, "
            f"not {len(username)}"
        )
    if "\x00" in username:
        raise ValueError("must not contain NUL characters")
    try:
        username.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return username


async def role_id_named(session: AsyncSession, name: str) -> int | None:
    """The id of the role with exactly this name, or None."""
    query = select(Role.id).where(Role.name == name)
    return (await session.execute(query)).scalar()
