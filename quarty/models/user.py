"""Users and their roles."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from quarty.models.base import Base

USERNAME_MAX_LENGTH = 64
# The book's rule for usernames that log in (name-only users predate it).
USERNAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.]*$"
# RFC 5321's limit on a forward path, less its angle brackets.
EMAIL_MAX_LENGTH = 254


class Role(Base):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # A collection is never loaded implicitly: query it, or count it with func.count().
    users: WriteOnlyMapped[User] = relationship(back_populates="role")

    def __repr__(self) -> str:
        return f"<Role {self.name!r}>"


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

    def __repr__(self) -> str:
        return f"<User {self.username!r}>"
