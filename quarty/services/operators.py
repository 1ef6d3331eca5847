"""What an operator does to accounts from the command line: create one
confirmed, confirm one, list them all, delete a user with what is theirs."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Select,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.models import ApiToken, Comment, Follow, Post, Role, User
from quarty.security.passwords import get_passwords
from quarty.services.auth import (
    ACCOUNTS,
    Account,
    EmailTakenError,
    UnknownRoleError,
    UsernameTakenError,
    account_from_row,
    email_is_registered,
    get_account,
    normalize_email,
    role_of_new_account,
    username_is_taken,
)


async def create_account(
    session: AsyncSession,
    *,
    email: str,
    username: str,
    password: str,
    role_name: str | None = None,
) -> Account:
    """An operator's account: confirmed at once, no mail, with the role named.

    Without a role name it gets the one registration would give it.

    Raises EmailTakenError, UsernameTakenError or UnknownRoleError.
    """
    email = normalize_email(email)
    if await email_is_registered(session, email):
        raise EmailTakenError()
    if await username_is_taken(session, username):
        raise UsernameTakenError()
    role_id = await role_of_new_account(session, email)
    if role_name is not None:
        query = select(Role.id).where(Role.name == role_name)
        role_id = (await session.execute(query)).scalar()
        if role_id is None:
            raise UnknownRoleError(role_name)
    password_hash = await get_passwords().hash(password)
    try:
        async with writing(session):
            user = User(
                email=email,
                username=username,
                password_hash=password_hash,
                confirmed=True,
                role_id=role_id,
            )
            session.add(user)
    except IntegrityError:
        if await email_is_registered(session, email):
            raise EmailTakenError() from None
        raise UsernameTakenError() from None
    account = await get_account(session, user.id)
    assert account is not None
    return account


async def confirm_email(session: AsyncSession, email: str) -> bool:
    """Confirm the account with this email; False if there is none."""
    async with writing(session):
        result = await session.execute(
            update(User)
            .where(
                User.email == normalize_email(email), User.password_hash.is_not(None)
            )
            .values(confirmed=True)
        )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def list_accounts(session: AsyncSession) -> list[Account]:
    """Every account that can log in, by id (name-only users are left out)."""
    rows = (await session.execute(ACCOUNTS.order_by(User.id))).all()
    return [account_from_row(row) for row in rows]


class DeletedUser(NamedTuple):
    """A user deleted, or about to be, and how many rows go with them."""

    id: int
    username: str
    posts: int
    comments: int  # theirs, and everyone's on their posts
    follows: int  # both ways
    api_tokens: int


def _count_where(condition: ColumnElement[bool]) -> ScalarSelect[int]:
    return select(func.count()).where(condition).correlate(User).scalar_subquery()


# One query: the user and what the ON DELETE CASCADE foreign keys will take
# with them (comments also through their posts).
_WHAT_GOES = select(
    User.id,
    User.username,
    _count_where(Post.author_id == User.id),
    _count_where(
        or_(
            Comment.author_id == User.id,
            Comment.post_id.in_(
                select(Post.id).where(Post.author_id == User.id).correlate(User)
            ),
        )
    ),
    _count_where(or_(Follow.follower_id == User.id, Follow.followed_id == User.id)),
    _count_where(ApiToken.user_id == User.id),
)


def _what_goes(username: str) -> Select[int, str, int, int, int, int]:
    return _WHAT_GOES.where(User.username == username)


async def preview_user_deletion(
    session: AsyncSession, *, username: str
) -> DeletedUser | None:
    """What deleting the user with this username would remove; None if none has it."""
    row = (await session.execute(_what_goes(username))).first()
    return None if row is None else DeletedUser(*row)


async def delete_user(session: AsyncSession, *, username: str) -> DeletedUser | None:
    """Delete the user with this username (an account or a name-only user) and,
    by the foreign keys' cascades, their follows both ways, their posts and the
    comments on them, their comments and their API tokens; None if none has it.

    The counts are taken in the DELETE's transaction, with the user's row
    locked (on PostgreSQL; SQLite's write lock holds everything), so that no
    post, follow or token of theirs comes in between.
    """
    async with writing(session):
        query = _what_goes(username).with_for_update(of=User)
        row = (await session.execute(query)).first()
        if row is None:
            return None
        deleted = DeletedUser(*row)
        await session.execute(delete(User).where(User.id == deleted.id))
    return deleted
