"""Who follows whom: one row a pair, never a user following themself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from quarty.models.base import Base
from quarty.models.user import utc_now


class Follow(Base):
    """`follower_id` follows `followed_id` since `timestamp`.

    Unlike the book, nobody follows themself: the followed feed adds the
    user's own posts in its query, so every count is the true one.
    """

    __tablename__ = "follows"
    __table_args__ = (
        CheckConstraint("follower_id <> followed_id", name="not_self"),
        # The primary key serves "whom does X follow"; this, "who follows X".
        Index("ix_follows_followed_id_follower_id", "followed_id", "follower_id"),
    )

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    followed_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    timestamp: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now
    )

    def __repr__(self) -> str:
        return f"<Follow {self.follower_id} -> {self.followed_id}>"
