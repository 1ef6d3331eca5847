"""Posts: write and edit them, read them a page at a time with their authors.

A body's HTML is made when it is written (quarty.text.markdown) and stored;
every read is one query that joins the author and counts the comments, so no
page runs one per post. The followed feed is the same query, filtered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import run_to_completion, writing
from quarty.mail.outbox import as_utc
from quarty.models import POST_BODY_MAX_LENGTH, Comment, Follow, Permission, Post, User
from quarty.services.auth import Account
from quarty.services.paging import Page, read_page
from quarty.text.bodies import InvalidBodyError, clean_text
from quarty.text.markdown import render_markdown


class InvalidPostError(InvalidBodyError):
    """A body that cannot be a post; str() says why, for the writer."""


class NotAllowedError(PermissionError):
    """The account may not make this change (the pages and the API check first)."""

    def __init__(self) -> None:
        super().__init__("Insufficient permissions")


class PostView(NamedTuple):
    """A post as pages and the API show it, with what they show of its author."""

    id: int
    body: str
    body_html: str
    timestamp: datetime  # aware UTC
    author_id: int
    author_username: str
    author_avatar_hash: str
    comment_count: int  # disabled ones too: they show, as disabled


# Counted through the (post_id, timestamp) index, in the post's own query.
_COMMENT_COUNT = (
    select(func.count())
    .where(Comment.post_id == Post.id)
    .correlate(Post)
    .scalar_subquery()
    .label("comment_count")
)
_POSTS = select(
    Post.id,
    Post.body,
    Post.body_html,
    Post.timestamp,
    Post.author_id,
    User.username,
    User.avatar_hash,
    _COMMENT_COUNT,
).join(Post.author)
# Newest first; the id settles posts written in the same instant.
_NEWEST_FIRST = (Post.timestamp.desc(), Post.id.desc())
_POST_BY_ID = _POSTS.where(Post.id == bindparam("post_id"))


def _view_of(row: Any) -> PostView:
    return PostView(*row[:8])._replace(timestamp=as_utc(row.timestamp))


def clean_body(body: str) -> str:
    """The body as stored: line ends made "\\n"; blank or too long is refused."""
    return clean_text(
        body, noun="post", max_length=POST_BODY_MAX_LENGTH, error=InvalidPostError
    )


async def render_body(body: str) -> str:
    """The HTML a body is stored with, checked first as `clean_body` does."""
    return await render_markdown(clean_body(body))


def may_edit(account: Account, post: PostView) -> bool:
    """Authors edit their own posts; administrators edit anyone's."""
    return account.id == post.author_id or account.can(Permission.ADMIN)


def _followed_feed(user_id: int) -> ColumnElement[bool]:
    """The posts of whom `user_id` follows, and their own (nobody follows
    themself, so the feed adds them here)."""
    followed = select(Follow.followed_id).where(Follow.follower_id == user_id)
    return or_(Post.author_id == user_id, Post.author_id.in_(followed))


async def list_posts(
    session: AsyncSession,
    *,
    page: int,
    per_page: int,
    author_id: int | None = None,
    followed_by: int | None = None,
    known_total: int | None = None,
) -> Page[PostView]:
    """Page `page` of every post, of one author's, or of the feed of whom
    `followed_by` follows, newest first: one query (see `read_page`; a profile
    passes its post count as `known_total`)."""
    conditions: list[ColumnElement[bool]] = []
    if author_id is not None:
        conditions.append(Post.author_id == author_id)
    if followed_by is not None:
        conditions.append(_followed_feed(followed_by))
    query = _POSTS.where(*conditions).order_by(*_NEWEST_FIRST)
    if followed_by is not None:
        # A feed gathers many authors' posts, so they are sorted, not read in
        # order: sort only their ids (from the (author_id, timestamp) index),
        # then read the page's posts in full. Sorting every post with its
        # body, author and comment count took SQLite twice as long.
        page_ids = (
            select(Post.id)
            .where(*conditions)
            .order_by(*_NEWEST_FIRST)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        query = _POSTS.where(Post.id.in_(page_ids)).order_by(*_NEWEST_FIRST)
    rows, total = await read_page(
        session,
        query,
        select(func.count()).select_from(Post).where(*conditions),
        page=page,
        per_page=per_page,
        known_total=known_total,
        sliced=followed_by is not None,
    )
    return Page([_view_of(row) for row in rows], page, per_page, total)


async def get_post(session: AsyncSession, post_id: int) -> PostView | None:
    """The post with this id, or None: one query."""
    row = (await session.execute(_POST_BY_ID, {"post_id": post_id})).first()
    return None if row is None else _view_of(row)


async def create_post(session: AsyncSession, *, author: Account, body: str) -> PostView:
    """Write a new post by `author` now.

    NotAllowedError unless the author's role may write; InvalidPostError if
    the body cannot be a post.
    """
    if not author.can(Permission.WRITE):
        raise NotAllowedError
    text = clean_body(body)
    html = await render_markdown(text)
    return await run_to_completion(_insert(session, author.id, text, html))


async def _insert(
    session: AsyncSession, author_id: int, text: str, html: str
) -> PostView:
    async with writing(session):
        post_id = (
            await session.execute(
                insert(Post)
                .values(author_id=author_id, body=text, body_html=html)
                .returning(Post.id)
            )
        ).scalar_one()
        # Read back in the same transaction, with its author, who must exist.
        post = await get_post(session, post_id)
    assert post is not None
    return post


async def update_post(
    session: AsyncSession, *, editor: Account, post_id: int, body: str
) -> PostView | None:
    """Replace a post's body, keeping its time; None if there is no such post.

    NotAllowedError unless `editor` wrote it or is an administrator (see
    `may_edit`); InvalidPostError if the body cannot be a post.
    """
    text = clean_body(body)
    html = await render_markdown(text)
    return await run_to_completion(_update(session, editor, post_id, text, html))


async def _update(
    session: AsyncSession, editor: Account, post_id: int, text: str, html: str
) -> PostView | None:
    async with writing(session):
        post = await get_post(session, post_id)
        if post is None:
            return None
        if not may_edit(editor, post):
            raise NotAllowedError
        await session.execute(
            update(Post).where(Post.id == post_id).values(body=text, body_html=html)
        )
        return await get_post(session, post_id)
