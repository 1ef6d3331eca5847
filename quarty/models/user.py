"""Users, their roles, and what a role permits."""

from __future__ import annotations

import enum
import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String, Text, false
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from quarty.models.base import Base

USERNAME_MAX_LENGTH = 64
# The book's rule for usernames that log in (name-only users predate it).
USERNAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.]*$"
# RFC 5321's limit on a forward path, less its angle brackets.
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 64
LOCATION_MAX_LENGTH = 64
ABOUT_ME_MAX_LENGTH = 2000


class Permission(enum.IntFlag):
    """What a role lets its users do, one bit each, as in the book."""

    FOLLOW = 1
    COMMENT = 2
    WRITE = 4
    MODERATE = 8
    ADMIN = 16


# The roles every deployment has, the permissions each grants, and the default.
DEFAULT_ROLES: dict[str, Permission] = {
    "User": Permission.FOLLOW | Permission.COMMENT | Permission.WRITE,
    "Moderator": Permission.FOLLOW
    | Permission.COMMENT
    | Permission.WRITE
    | Permission.MODERATE,
    "Administrator": Permission(31),
}
DEFAULT_ROLE = "User"
ADMINISTRATOR_ROLE = "Administrator"


def avatar_hash_of(email: str | None, username: str) -> str:
    """The avatar's key: SHA-256 of the lowercased email, or of the username.

    Gravatar takes SHA-256 hashes of the trimmed, lowercased email, so the
    same key serves quarty's own identicons and AVATARS=gravatar.
    """
    source = email.strip().lower() if email else f"username:{username}"
    return hashlib.sha256(source.encode()).hexdigest()


class Role(Base):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    default: Mapped[bool] = mapped_column(
        default=False, server_default=false(), index=True
    )
    permissions: Mapped[int] = mapped_column(default=0, server_default="0")
    # A collection is never loaded implicitly: query it, or count it with func.count().
    users: WriteOnlyMapped[User] = relationship(back_populates="role")

    def __repr__(self) -> str:
        return f"<Role {self.name!r}>"


def utc_now() -> datetime:
    return datetime.now(UTC)


def _insert_avatar_hash(context: DefaultExecutionContext) -> str:
    row: dict[str, Any] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return avatar_hash_of(row.get("email"), row["username"])


class User(Base):
    """A person in the store.

    A user made by the name form or `POST /api/v1/users` has a username only:
    no email and no password, so it cannot log in.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(
        String(USERNAME_MAX_LENGTH), unique=True, index=True
    )
    role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id"))
    # Touching user.role without loading it in the query raises at once.
    role: Mapped[Role | None] = relationship(back_populates="users", lazy="raise")
    # Stored lowercased, so that equality is the case-blind comparison.
    email: Mapped[str | None] = mapped_column(
        String(EMAIL_MAX_LENGTH), unique=True, index=True
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    confirmed: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Part of the sign-in cookie's id: bumping it signs out every browser.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The profile.
    name: Mapped[str | None] = mapped_column(String(NAME_MAX_LENGTH))
    location: Mapped[str | None] = mapped_column(String(LOCATION_MAX_LENGTH))
    about_me: Mapped[str | None] = mapped_column(Text)
    member_since: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now
    )
    last_seen: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now
    )
    # Worked out when the email is written, never per page (see
    # avatar_hash_of); an UPDATE of the email sets it too.
    avatar_hash: Mapped[str] = mapped_column(String(64), default=_insert_avatar_hash)

    def __repr__(self) -> str:
        return f"<User {self.username!r}>"
