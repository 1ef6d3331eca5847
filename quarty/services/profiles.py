"""Profiles: show a user, let them or an administrator edit it, note when seen.

The changes take keyword arguments that default to UNCHANGED, so a form can
pass every field and an API's PATCH only the ones it was sent
(`**body.model_dump(exclude_unset=True)`).
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Label,
    SQLColumnExpression,
    bindparam,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import run_to_completion, writing
from quarty.mail.outbox import as_utc
from quarty.models import (
    ABOUT_ME_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    LOCATION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    USERNAME_PATTERN,
    Follow,
    Role,
    User,
    avatar_hash_of,
)
from quarty.services.accounts import (
    FOLLOWERS_COUNT,
    FOLLOWING_COUNT,
    POST_COUNT,
    clean_username,
)
from quarty.services.auth import (
    AccountError,
    EmailTakenError,
    UsernameTakenError,
    normalize_email,
)


class Unchanged(enum.Enum):
    """The type of UNCHANGED: leave this field as it is."""

    UNCHANGED = enum.auto()


UNCHANGED: Final = Unchanged.UNCHANGED


class InvalidProfileError(AccountError, ValueError):
    """A value the profile cannot take; `field` names the argument."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Profile(NamedTuple):
    """A user as the profile page and its edit forms show it."""

    id: int
    username: str
    # Whether the user can log in (has an email and a password); a name-only
    # user has no email and is only ever greeted.
    is_account: bool
    email: str | None
    confirmed: bool
    role_id: int | None
    role_name: str | None
    name: str | None
    location: str | None
    about_me: str | None
    member_since: datetime
    last_seen: datetime
    avatar_hash: str
    post_count: int
    followers_count: int
    following_count: int
    # Known only when read for a viewer (get_profile's viewer_id): whether the
    # viewer follows this user, and whether this user follows the viewer.
    followed_by_viewer: bool = False
    follows_viewer: bool = False


# The counts come in the profile's own query (see quarty.services.accounts).
_PROFILES = select(
    User.id,
    User.username,
    (User.email.is_not(None) & User.password_hash.is_not(None)).label("is_account"),
    User.email,
    User.confirmed,
    Role.id.label("role_id"),
    Role.name.label("role_name"),
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
_PROFILE_BY_USERNAME = _PROFILES.where(User.username == bindparam("username"))
_PROFILE_BY_ID = _PROFILES.where(User.id == bindparam("user_id"))


def _follow_exists(
    follower_id: SQLColumnExpression[int],
    followed_id: SQLColumnExpression[int],
    label: str,
) -> Label[bool]:
    return (
        select(Follow.follower_id)
        .where(Follow.follower_id == follower_id, Follow.followed_id == followed_id)
        .correlate(User)
        .exists()
        .label(label)
    )


# The viewer's follows both ways ride in the same query, each one primary-key
# (or index) lookup, so the profile page needs no query of its own for them.
_PROFILE_FOR_VIEWER = _PROFILE_BY_USERNAME.add_columns(
    _follow_exists(bindparam("viewer_id"), User.id, "followed_by_viewer"),
    _follow_exists(User.id, bindparam("viewer_id"), "follows_viewer"),
)


def _profile_from_row(row: Any) -> Profile:
    profile = Profile(*row)
    return profile._replace(
        is_account=bool(profile.is_account),
        member_since=as_utc(profile.member_since),
        last_seen=as_utc(profile.last_seen),
        # SQLite gives EXISTS as 0 or 1.
        followed_by_viewer=bool(profile.followed_by_viewer),
        follows_viewer=bool(profile.follows_viewer),
    )


async def get_profile(
    session: AsyncSession, *, username: str, viewer_id: int | None = None
) -> Profile | None:
    """The profile of the user with this username, or None: one query.

    With a viewer_id it also tells whether the viewer and the user follow
    each other (`followed_by_viewer`, `follows_viewer`).
    """
    values: dict[str, object] = {"username": username}
    query = _PROFILE_BY_USERNAME
    if viewer_id is not None:
        query = _PROFILE_FOR_VIEWER
        values["viewer_id"] = viewer_id
    row = (await session.execute(query, values)).first()
    return None if row is None else _profile_from_row(row)


async def get_profile_by_id(session: AsyncSession, *, user_id: int) -> Profile | None:
    """The profile of the user with this id, or None: one query."""
    row = (await session.execute(_PROFILE_BY_ID, {"user_id": user_id})).first()
    return None if row is None else _profile_from_row(row)


def _profile_text(field: str, value: str | None, max_length: int) -> str | None:
    """The text trimmed, None when blank; too long is an InvalidProfileError."""
    text = (value or "").strip()
    if len(text) > max_length:
        raise InvalidProfileError(
            field,
            f"The {field.replace('_', ' ')} must be at most {max_length} "
            "characters long.",
        )
    return text or None


def _profile_changes(
    name: str | Unchanged | None,
    location: str | Unchanged | None,
    about_me: str | Unchanged | None,
) -> dict[str, Any]:
    limits = {
        "name": (name, NAME_MAX_LENGTH),
        "location": (location, LOCATION_MAX_LENGTH),
        "about_me": (about_me, ABOUT_ME_MAX_LENGTH),
    }
    return {
        field: _profile_text(field, value, max_length)
        for field, (value, max_length) in limits.items()
        if not isinstance(value, Unchanged)
    }


async def update_own_profile(
    session: AsyncSession,
    *,
    user_id: int,
    name: str | Unchanged | None = UNCHANGED,
    location: str | Unchanged | None = UNCHANGED,
    about_me: str | Unchanged | None = UNCHANGED,
) -> Profile | None:
    """Change what a user says about themselves; None for an unknown id.

    Text is trimmed and a blank one stored as None. Raises InvalidProfileError
    for a value longer than its column.
    """
    changes = _profile_changes(name, location, about_me)
    profile = await get_profile_by_id(session, user_id=user_id)
    if profile is None:
        return None
    if changes:
        await run_to_completion(_write(session, user_id, changes))
    return profile._replace(**changes)


async def admin_update_user(
    session: AsyncSession,
    *,
    user_id: int,
    email: str | Unchanged = UNCHANGED,
    username: str | Unchanged = UNCHANGED,
    confirmed: bool | Unchanged = UNCHANGED,
    role_id: int | Unchanged | None = UNCHANGED,
    name: str | Unchanged | None = UNCHANGED,
    location: str | Unchanged | None = UNCHANGED,
    about_me: str | Unchanged | None = UNCHANGED,
) -> Profile | None:
    """An administrator's change of any user; None for an unknown id.

    The email is stored lowercased and the avatar hash follows it. Raises
    EmailTakenError or UsernameTakenError when another user has the value
    (even one taken between the check and the write), and InvalidProfileError
    for a value the user cannot have: an account's username outside
    USERNAME_PATTERN, an email for a name-only user, an unknown role id, or
    text longer than its column.
    """
    changes = _profile_changes(name, location, about_me)
    profile = await get_profile_by_id(session, user_id=user_id)
    if profile is None:
        return None
    if not isinstance(email, Unchanged):
        changes["email"] = _valid_email(profile, email)
    if not isinstance(username, Unchanged):
        changes["username"] = _valid_username(profile, username)
    if not isinstance(confirmed, Unchanged):
        changes["confirmed"] = confirmed
    if not isinstance(role_id, Unchanged):
        changes["role_id"] = role_id
        changes["role_name"] = await _role_name(session, role_id)
    new_email = changes.get("email", profile.email)
    new_username = changes.get("username", profile.username)
    await _check_unique(session, profile, new_email, new_username)
    changes["avatar_hash"] = avatar_hash_of(new_email, new_username)
    columns = {key: value for key, value in changes.items() if key != "role_name"}
    try:
        await run_to_completion(_write(session, user_id, columns))
    except IntegrityError:
        await _check_unique(session, profile, new_email, new_username)
        raise
    return profile._replace(**changes)


def _valid_email(profile: Profile, email: str) -> str:
    if not profile.is_account:
        raise InvalidProfileError("email", "A user who cannot log in has no email.")
    email = normalize_email(email)
    if not email or len(email) > EMAIL_MAX_LENGTH:
        raise InvalidProfileError(
            "email", f"The email must be 1 to {EMAIL_MAX_LENGTH} characters long."
        )
    return email


def _valid_username(profile: Profile, username: str) -> str:
    try:
        username = clean_username(username)
    except ValueError as error:
        raise InvalidProfileError("username", f"The username {error}.") from None
    if profile.is_account and not re.match(USERNAME_PATTERN, username):
        raise InvalidProfileError(
            "username",
            "Usernames must have only letters, numbers, dots or underscores",
        )
    return username


async def _role_name(session: AsyncSession, role_id: int | None) -> str | None:
    if role_id is None:
        return None
    role_name = (
        await session.execute(select(Role.name).where(Role.id == role_id))
    ).scalar()
    if role_name is None:
        raise InvalidProfileError("role_id", f"There is no role with id {role_id}.")
    return role_name


async def _check_unique(
    session: AsyncSession, profile: Profile, email: str | None, username: str
) -> None:
    """Raise if another user has the email or the username; the user's own are fine."""
    email_changed = email is not None and email != profile.email
    if email_changed and await _taken_by_another(
        session, profile.id, User.email == email
    ):
        raise EmailTakenError()
    if username != profile.username and await _taken_by_another(
        session, profile.id, User.username == username
    ):
        raise UsernameTakenError()


async def _taken_by_another(
    session: AsyncSession, user_id: int, condition: ColumnElement[bool]
) -> bool:
    query = select(User.id).where(User.id != user_id, condition)
    return (await session.execute(query)).first() is not None


async def _write(session: AsyncSession, user_id: int, columns: dict[str, Any]) -> None:
    async with writing(session):
        await session.execute(update(User).where(User.id == user_id).values(**columns))


def last_seen_is_stale(
    last_seen: datetime, *, stale_after: timedelta, now: datetime | None = None
) -> bool:
    """Whether a last_seen this old is due to be written again."""
    return as_utc(last_seen) <= (now or datetime.now(UTC)) - stale_after


async def touch_last_seen(
    session: AsyncSession,
    *,
    user_id: int,
    stale_after: timedelta,
    now: datetime | None = None,
) -> bool:
    """Set the user's last_seen to now, unless it is more recent than stale_after.

    The condition is in the UPDATE, so of the requests that find it stale at
    once (in any process) only one writes. Returns whether this one did.
    """
    now = now or datetime.now(UTC)
    async with writing(session):
        result = await session.execute(
            update(User)
            .where(User.id == user_id, User.last_seen <= now - stale_after)
            .values(last_seen=now)
        )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
