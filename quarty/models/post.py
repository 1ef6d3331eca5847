"""Blog posts: the Markdown as written and the HTML made from it once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quarty.models.base import Base
from quarty.models.user import User, utc_now

# A form error, not a database error, past this many characters.
POST_BODY_MAX_LENGTH = 20_000


class Post(Base):
    """A post; `body_html` is rendered and sanitized when `body` is written."""

    __tablename__ = "posts"
    __table_args__ = (
        # A user's posts newest first (the profile page); also serves lookups
        # by author alone, which is why author_id has no index of its own.
        Index("ix_posts_author_id_timestamp", "author_id", "timestamp"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # Every post newest first (the home page).
    timestamp: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Load it in the query (a join) or not at all.
    author: Mapped[User] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"<Post {self.id} by user {self.author_id}>"
