"""What the followers and comments scenarios need beyond `quart --app quarty
fake`'s random rows: the bench account following a known number of the fake
accounts, and one post with exactly a page of comments."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from quarty.db import Database, writing
from quarty.mail.outbox import as_utc
from quarty.models import Comment, Follow, Post, User
from quarty.text.markdown import COMMENT_TAGS, markdown_to_html


async def follow_accounts(
    url: str, *, username: str, count: int, leave_out: tuple[str, ...], seed: int
) -> int:
    """Make `username` follow `count` random accounts (not itself, none of
    `leave_out`), the same ones for the same seed; how many it follows."""
    database = Database(url)
    try:
        async with database.sessionmaker() as session:
            follower_id = (
                await session.execute(select(User.id).where(User.username == username))
            ).scalar_one()
            accounts = await session.scalars(
                select(User.id)
                .where(
                    User.password_hash.is_not(None),
                    User.username.not_in((username, *leave_out)),
                )
                .order_by(User.id)
            )
            followed = random.Random(seed).sample(list(accounts), count)
            async with writing(session):
                await session.execute(
                    insert(Follow),
                    [
                        {"follower_id": follower_id, "followed_id": followed_id}
                        for followed_id in followed
                    ],
                )
            return len(followed)
    finally:
        await database.dispose()


async def comment_a_post(url: str, *, comments: int, text: str, seed: int) -> int:
    """Give the newest post with fewer than `comments` comments exactly that
    many, the added ones by random accounts and saying `text`; the post's id."""
    database = Database(url)
    try:
        async with database.sessionmaker() as session:
            counts = (
                select(
                    Post.id,
                    Post.timestamp,
                    func.count(Comment.id).label("comment_count"),
                )
                .outerjoin(Comment, Comment.post_id == Post.id)
                .group_by(Post.id, Post.timestamp)
                .having(func.count(Comment.id) < comments)
                .order_by(Post.timestamp.desc(), Post.id.desc())
                .limit(1)
            )
            post = (await session.execute(counts)).one_or_none()
            if post is None:
                raise RuntimeError(f"no post has fewer than {comments} comments")
            authors = list(
                await session.scalars(
                    select(User.id)
                    .where(User.password_hash.is_not(None))
                    .order_by(User.id)
                )
            )
            rng = random.Random(seed)
            posted = as_utc(post.timestamp)
            now = datetime.now(UTC)
            rows = []
            for number in range(post.comment_count + 1, comments + 1):
                body = f"{text}, *number {number}* of {comments}."
                rows.append(
                    {
                        "body": body,
                        "body_html": markdown_to_html(body, tags=COMMENT_TAGS),
                        "timestamp": posted + rng.random() * (now - posted),
                        "author_id": rng.choice(authors),
                        "post_id": post.id,
                    }
                )
            async with writing(session):
                await session.execute(insert(Comment), rows)
            post_id: int = post.id
            return post_id
    finally:
        await database.dispose()


async def count_follows_and_comments(url: str) -> tuple[int, int]:
    """How many follows and comments the database holds."""
    database = Database(url)
    try:
        async with database.sessionmaker() as session:
            counts = select(
                select(func.count()).select_from(Follow).scalar_subquery(),
                select(func.count()).select_from(Comment).scalar_subquery(),
            )
            follows, comments = (await session.execute(counts)).one()
            return follows, comments
    finally:
        await database.dispose()
