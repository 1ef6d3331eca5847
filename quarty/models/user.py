"""Users and their roles."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from quarty.models.base import Base

USERNAME_MAX_LENGTH = 64


class Role(Base):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # A collection is never loaded implicitly: query it, or count it with func.count().
    users: WriteOnlyMapped[User] = relationship(back_populates="role")

    def __repr__(self) -> str:
        return f"<Role {self.name!r}>"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(
        String(USERNAME_MAX_LENGTH), unique=True, index=True
    )
    role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id"))
    # Touching user.role without loading it in the query raises at once.
    role: Mapped[Role | None] = relationship(back_populates="users", lazy="raise")

    def __repr__(self) -> str:
        return f"<User {self.username!r}>"
