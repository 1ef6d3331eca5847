"""The API's shapes for who follows whom, and for comments."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from quarty.api.schemas import POST_BODY_PATTERN
from quarty.models import COMMENT_BODY_MAX_LENGTH
from quarty.services.comments import clean_comment_body


class FollowPublic(BaseModel):
    """One side of a follow: the other user, and since when."""

    user_url: str
    username: str
    timestamp: datetime = Field(description="When the follow began: ISO 8601, UTC.")


class FollowersPage(BaseModel):
    """A page of the users who follow a user, the newest follow first."""

    followers: list[FollowPublic]
    prev: str | None = Field(description="The previous page, or null on the first.")
    next: str | None = Field(description="The next page, or null on the last.")
    count: int = Field(description="How many followers the user has.")


class FollowingPage(BaseModel):
    """A page of the users a user follows, the newest follow first."""

    following: list[FollowPublic]
    prev: str | None = Field(description="The previous page, or null on the first.")
    next: str | None = Field(description="The next page, or null on the last.")
    count: int = Field(description="How many users the user follows.")


class CommentWrite(BaseModel):
    """A new comment's body."""

    # Strict, as PostWrite: only a JSON string is a body, and pydantic refuses
    # a string with a lone surrogate (a JSON escape can make one).
    model_config = ConfigDict(extra="forbid", strict=True)

    body: str = Field(
        max_length=COMMENT_BODY_MAX_LENGTH,
        description=(
            f"Markdown, 1 to {COMMENT_BODY_MAX_LENGTH:,} characters, not all "
            "whitespace. Only inline markup is kept: links, emphasis, code."
        ),
        # The same rule as a post's: some text besides whitespace, no NUL.
        json_schema_extra={"pattern": POST_BODY_PATTERN},
        examples=["Well *said*."],
    )

    @field_validator("body")
    @classmethod
    def _storable(cls, value: str) -> str:
        # The service's own rules, so the 400 names the field as the others do.
        return clean_comment_body(value)


_HIDDEN_WHEN_DISABLED = (
    " null if a moderator disabled the comment, except to callers whose role "
    "has MODERATE."
)


class CommentPublic(BaseModel):
    """A comment, with links to it, its post and its author."""

    id: int
    url: str
    post_url: str
    body: str | None = Field(
        description="The Markdown as written;" + _HIDDEN_WHEN_DISABLED
    )
    body_html: str | None = Field(
        description=(
            "The body as HTML, made when it was written, allow-listed;"
            + _HIDDEN_WHEN_DISABLED
        )
    )
    timestamp: datetime = Field(description="When it was written: ISO 8601, UTC.")
    author_url: str
    disabled: bool = Field(
        description="Whether a moderator disabled it: it is still listed."
    )


class CommentsPage(BaseModel):
    """A page of comments, with links to the pages around it."""

    comments: list[CommentPublic]
    prev: str | None = Field(description="The previous page, or null on the first.")
    next: str | None = Field(description="The next page, or null on the last.")
    count: int = Field(description="How many comments the whole list has.")
