"""Follows: follow and unfollow, idempotently, and the lists both ways.

Only an account can be followed, and only by another account whose role has
FOLLOW; the service checks both, as the pages and the API will.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import run_to_completion, writing
from quarty.mail.outbox import as_utc
from quarty.models import Follow, Permission, User
from quarty.services.auth import Account
from quarty.services.paging import Page, read_page
from quarty.services.posts import NotAllowedError


class FollowError(ValueError):
    """A follow that cannot be; str() says why, for the user."""


class Change(enum.Enum):
    """What a follow or an unfollow did."""

    DONE = enum.auto()
    ALREADY = enum.auto()  # it was so already: nothing changed


class FollowView(NamedTuple):
    """One side of a follow, as the lists show it: the user and since when."""

    user_id: int
    username: str
    avatar_hash: str
    timestamp: datetime


async def _check(session: AsyncSession, follower: Account, followed_id: int) -> None:
    if not follower.can(Permission.FOLLOW):
        raise NotAllowedError
    if follower.id == followed_id:
        raise FollowError("You cannot follow yourself.")
    is_account = select(User.id).where(
        User.id == followed_id, User.password_hash.is_not(None)
    )
    if (await session.execute(is_account)).first() is None:
        raise FollowError("Invalid user.")


async def follow(
    session: AsyncSession, *, follower: Account, followed_id: int
) -> Change:
    """Make `follower` follow the account `followed_id`; ALREADY if they did.

    NotAllowedError without FOLLOW; FollowError for oneself or a user who is
    not an account (or does not exist).
    """
    return await run_to_completion(_follow(session, follower, followed_id))


async def _follow(session: AsyncSession, follower: Account, followed_id: int) -> Change:
    try:
        async with writing(session):
            await _check(session, follower, followed_id)
            await session.execute(
                insert(Follow).values(follower_id=follower.id, followed_id=followed_id)
            )
    except IntegrityError:
        # The pair is there already: a repeat, or a twin request that won.
        return Change.ALREADY
    return Change.DONE


async def unfollow(
    session: AsyncSession, *, follower: Account, followed_id: int
) -> Change:
    """Stop `follower` following `followed_id`; ALREADY if they did not."""
    if not follower.can(Permission.FOLLOW):
        raise NotAllowedError
    return await run_to_completion(_unfollow(session, follower.id, followed_id))


async def _unfollow(
    session: AsyncSession, follower_id: int, followed_id: int
) -> Change:
    async with writing(session):
        result = await session.execute(
            delete(Follow).where(
                Follow.follower_id == follower_id, Follow.followed_id == followed_id
            )
        )
    # A DELETE's result is a CursorResult, which has the rowcount.
    removed: int = result.rowcount  # type: ignore[attr-defined]
    return Change.DONE if removed else Change.ALREADY


async def is_following(
    session: AsyncSession, *, follower_id: int, followed_id: int
) -> bool:
    query = select(Follow.follower_id).where(
        Follow.follower_id == follower_id, Follow.followed_id == followed_id
    )
    return (await session.execute(query)).first() is not None


def _listing(
    user_id: int, *, followers: bool
) -> tuple[Select[int, str, str, datetime], Select[int]]:
    # Followers of user_id: the other side is follower_id; followed: followed_id.
    mine, theirs = (
        (Follow.followed_id, Follow.follower_id)
        if followers
        else (Follow.follower_id, Follow.followed_id)
    )
    count = select(func.count()).select_from(Follow).where(mine == user_id)
    rows = (
        select(User.id, User.username, User.avatar_hash, Follow.timestamp)
        .join(User, User.id == theirs)
        .where(mine == user_id)
        .order_by(Follow.timestamp.desc(), theirs.desc())
    )
    return rows, count


async def list_follows(
    session: AsyncSession,
    *,
    user_id: int,
    followers: bool,
    page: int,
    per_page: int,
    known_total: int | None = None,
) -> Page[FollowView]:
    """Who follows `user_id` (followers=True) or whom they follow, newest first:
    one query with the total (see `read_page`; a profile knows the total)."""
    rows_query, count_query = _listing(user_id, followers=followers)
    rows, total = await read_page(
        session,
        rows_query,
        count_query,
        page=page,
        per_page=per_page,
        known_total=known_total,
    )
    items = [FollowView(r[0], r[1], r[2], as_utc(r[3])) for r in rows]
    return Page(items, page, per_page, total)
