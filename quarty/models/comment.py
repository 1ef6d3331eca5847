"""Comments on posts: the Markdown as written, its HTML, and whether it is hidden."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from quarty.models.base import Base
from quarty.models.user import utc_now

# A form error, not a database error, past this many characters.
COMMENT_BODY_MAX_LENGTH = 2_000


class Comment(Base):
    """A comment; `body_html` is rendered and sanitized when `body` is written.

    A moderator's `disabled` hides the body from everyone but moderators.
    """

    __tablename__ = "comments"
    __table_args__ = (
        # A post's comments oldest first (the permalink), and their count.
        Index("ix_comments_post_id_timestamp", "post_id", "timestamp"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # Every comment newest first (the moderation page).
    timestamp: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, index=True
    )
    disabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Indexed so that deleting a user finds their comments without a scan.
    author_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))

    def __repr__(self) -> str:
        return f"<Comment {self.id} on post {self.post_id}>"
