"""Comments: write one on a post, read a post's or everyone's a page at a time,
and let moderators disable and enable them.

Like a post's, a comment's HTML is made when it is written, on the book's
smaller allow-list, and every read is one query that joins the author.
A disabled comment is still listed; what shows of it is the caller's choice
(pages and the API show its body to moderators only).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import run_to_completion, writing
from quarty.mail.outbox import as_utc
from quarty.models import COMMENT_BODY_MAX_LENGTH, Comment, Permission, Post, User
from quarty.services.auth import Account
from quarty.services.paging import Page, read_page
from quarty.services.posts import NotAllowedError
from quarty.text.bodies import InvalidBodyError, clean_text
from quarty.text.markdown import COMMENT_TAGS, render_markdown


class InvalidCommentError(InvalidBodyError):
    """A body that cannot be a comment; str() says why, for the writer."""


class CommentView(NamedTuple):
    """A comment as pages and the API show it, with what they show of its author."""

    id: int
    body: str
    body_html: str
    timestamp: datetime  # aware UTC
    disabled: bool
    post_id: int
    author_id: int
    author_username: str
    author_avatar_hash: str


class PublishedComment(NamedTuple):
    """A new comment, and how many its post has with it: the last page's end."""

    comment: CommentView
    post_comment_count: int


_COMMENTS = select(
    Comment.id,
    Comment.body,
    Comment.body_html,
    Comment.timestamp,
    Comment.disabled,
    Comment.post_id,
    Comment.author_id,
    User.username,
    User.avatar_hash,
).join(User, User.id == Comment.author_id)
# The id settles comments written in the same instant.
_OLDEST_FIRST = (Comment.timestamp, Comment.id)
_NEWEST_FIRST = (Comment.timestamp.desc(), Comment.id.desc())
_COMMENT_BY_ID = _COMMENTS.where(Comment.id == bindparam("comment_id"))


def _view_of(row: Any) -> CommentView:
    return CommentView(*row[:9])._replace(
        timestamp=as_utc(row.timestamp), disabled=bool(row.disabled)
    )


def clean_comment_body(body: str) -> str:
    """The body as stored: line ends made "\\n"; blank or too long is refused."""
    return clean_text(
        body,
        noun="comment",
        max_length=COMMENT_BODY_MAX_LENGTH,
        error=InvalidCommentError,
    )


async def list_post_comments(
    session: AsyncSession,
    *,
    post_id: int,
    page: int,
    per_page: int,
    known_total: int | None = None,
) -> Page[CommentView]:
    """Page `page` of a post's comments, oldest first: one query (see
    `read_page`; the permalink passes the post's comment count)."""
    rows, total = await read_page(
        session,
        _COMMENTS.where(Comment.post_id == post_id).order_by(*_OLDEST_FIRST),
        select(func.count()).select_from(Comment).where(Comment.post_id == post_id),
        page=page,
        per_page=per_page,
        known_total=known_total,
    )
    return Page([_view_of(row) for row in rows], page, per_page, total)


async def list_comments(
    session: AsyncSession, *, page: int, per_page: int
) -> Page[CommentView]:
    """Page `page` of every comment, newest first (moderation): one query."""
    rows, total = await read_page(
        session,
        _COMMENTS.order_by(*_NEWEST_FIRST),
        select(func.count()).select_from(Comment),
        page=page,
        per_page=per_page,
    )
    return Page([_view_of(row) for row in rows], page, per_page, total)


async def get_comment(session: AsyncSession, comment_id: int) -> CommentView | None:
    """The comment with this id, or None: one query."""
    row = (await session.execute(_COMMENT_BY_ID, {"comment_id": comment_id})).first()
    return None if row is None else _view_of(row)


async def create_comment(
    session: AsyncSession, *, author: Account, post_id: int, body: str
) -> PublishedComment | None:
    """Write a comment by `author` on post `post_id` now; None if there is no
    such post.

    NotAllowedError unless the author's role may comment; InvalidCommentError
    if the body cannot be a comment.
    """
    if not author.can(Permission.COMMENT):
        raise NotAllowedError
    text = clean_comment_body(body)
    html = await render_markdown(text, tags=COMMENT_TAGS)
    return await run_to_completion(_insert(session, author.id, post_id, text, html))


async def _insert(
    session: AsyncSession, author_id: int, post_id: int, text: str, html: str
) -> PublishedComment | None:
    async with writing(session):
        post = select(Post.id).where(Post.id == post_id)
        if (await session.execute(post)).first() is None:
            return None
        comment_id = (
            await session.execute(
                insert(Comment)
                .values(author_id=author_id, post_id=post_id, body=text, body_html=html)
                .returning(Comment.id)
            )
        ).scalar_one()
        # Read back in the same transaction, with its author, who must exist.
        comment = await get_comment(session, comment_id)
        count = select(func.count()).where(Comment.post_id == post_id)
        total = (await session.execute(count)).scalar_one()
    assert comment is not None
    return PublishedComment(comment, total)


async def set_disabled(
    session: AsyncSession, *, moderator: Account, comment_id: int, disabled: bool
) -> bool:
    """Disable or enable a comment; False if there is no such comment.

    NotAllowedError unless the moderator's role has MODERATE. Setting what
    is already set changes nothing and is no error.
    """
    if not moderator.can(Permission.MODERATE):
        raise NotAllowedError
    return await run_to_completion(_set_disabled(session, comment_id, disabled))


async def _set_disabled(session: AsyncSession, comment_id: int, disabled: bool) -> bool:
    async with writing(session):
        result = await session.execute(
            update(Comment).where(Comment.id == comment_id).values(disabled=disabled)
        )
    # An UPDATE's result is a CursorResult, which has the rowcount: the rows
    # it matched, whether or not their value changed.
    return bool(result.rowcount)  # type: ignore[attr-defined]
