"""What the made-up accounts of `quart --app quarty fake` do: write posts,
follow each other, comment.

Like the accounts, the rows go in with one INSERT per batch, drawn by the
command's Fakes so that a seed makes the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import Row, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.mail.outbox import as_utc
from quarty.models import Comment, Follow, Post, User
from quarty.text.markdown import COMMENT_TAGS, markdown_to_html

if TYPE_CHECKING:
    from quarty.cli.fake import Fakes

# A follow is three numbers; a post or a comment is text, rendered.
POSTS_PER_BATCH = 200
FOLLOWS_PER_BATCH = 1000
COMMENTS_PER_BATCH = 200
YEAR = timedelta(days=365)
# As if moderators had been at work: the moderation page shows both kinds.
DISABLED_SHARE = 0.02


class MissingRowsError(Exception):
    """The accounts (or posts) that the rows asked for need are not there;
    str() says what to do."""


def _between(fakes: Fakes, earliest: datetime) -> datetime:
    """A random moment from `earliest` to now."""
    earliest = as_utc(earliest)
    return earliest + fakes.rng.random() * max(fakes.now - earliest, timedelta(0))


async def _accounts(session: AsyncSession) -> Sequence[Row[int, datetime]]:
    query = (
        select(User.id, User.member_since)
        .where(User.password_hash.is_not(None))
        .order_by(User.id)  # the same draws for the same seed
    )
    return (await session.execute(query)).all()


def post_body(fakes: Fakes) -> str:
    """A few paragraphs; some with a little Markdown."""
    paragraphs = [
        fakes.faker.paragraph(nb_sentences=fakes.rng.randint(2, 6))
        for _ in range(fakes.rng.randint(1, 3))
    ]
    flavour = fakes.rng.random()
    if flavour < 0.15:
        phrase = fakes.faker.sentence(nb_words=3).rstrip(".")
        paragraphs[0] += f" **{phrase}!**"
    elif flavour < 0.25:
        words = fakes.faker.words(fakes.rng.randint(2, 4))
        paragraphs.append("\n".join(f"- {word}" for word in words))
    elif flavour < 0.32:
        link = f"https://example.com/{fakes.faker.slug()}"
        paragraphs.append(f"More in [{fakes.faker.word()}]({link}).")
    elif flavour < 0.37:
        paragraphs.insert(0, f"## {fakes.faker.sentence(nb_words=4).rstrip('.')}")
    return "\n\n".join(paragraphs)


def _post_row(fakes: Fakes, author: Row[int, datetime]) -> dict[str, Any]:
    earliest = max(as_utc(author.member_since), fakes.now - YEAR)
    body = post_body(fakes)
    return {
        "body": body,
        "body_html": markdown_to_html(body),
        "timestamp": earliest + fakes.rng.random() * (fakes.now - earliest),
        "author_id": author.id,
    }


async def add_posts(session: AsyncSession, fakes: Fakes, *, count: int) -> int:
    """Add `count` posts by random accounts; how many were added."""
    if not count:
        return 0
    accounts = await _accounts(session)
    if not accounts:
        raise MissingRowsError(
            "there are no accounts to write the posts: add some with --users "
            "or `quart --app quarty users create`"
        )
    added = 0
    with click.progressbar(length=count, label="Adding posts") as progress:
        while added < count:
            size = min(POSTS_PER_BATCH, count - added)
            # Rendering is CPU work on the loop; nothing else runs on it here.
            rows = [_post_row(fakes, fakes.rng.choice(accounts)) for _ in range(size)]
            async with writing(session):
                await session.execute(insert(Post), rows)
            added += size
            progress.update(size)
    return added


async def add_follows(
    session: AsyncSession, fakes: Fakes, *, followers: Sequence[int], per_user: int
) -> int:
    """Make each of `followers` (new accounts, who follow nobody yet) follow
    `per_user` random other accounts, or every other one if there are fewer;
    how many follows were added. Nobody follows themself."""
    if not followers or not per_user:
        return 0
    accounts = await _accounts(session)
    joined = {row.id: row.member_since for row in accounts}
    rows: list[dict[str, Any]] = []
    for follower in sorted(followers):
        # One more than wanted, so that dropping the follower leaves enough.
        drawn = fakes.rng.sample(accounts, min(per_user + 1, len(accounts)))
        followed = [row for row in drawn if row.id != follower][:per_user]
        rows += [
            {
                "follower_id": follower,
                "followed_id": row.id,
                # Not before either of them had joined.
                "timestamp": _between(
                    fakes, max(as_utc(joined[follower]), as_utc(row.member_since))
                ),
            }
            for row in followed
        ]
    with click.progressbar(length=len(rows), label="Adding follows") as progress:
        for start in range(0, len(rows), FOLLOWS_PER_BATCH):
            batch = rows[start : start + FOLLOWS_PER_BATCH]
            async with writing(session):
                await session.execute(insert(Follow), batch)
            progress.update(len(batch))
    return len(rows)


def comment_body(fakes: Fakes) -> str:
    """A sentence or three; some with the little inline Markdown comments allow."""
    faker, rng = fakes.faker, fakes.rng
    sentences = [faker.sentence() for _ in range(rng.randint(1, 3))]
    flavour = rng.random()
    if flavour < 0.15:
        sentences[0] = f"*{sentences[0]}*"
    elif flavour < 0.25:
        sentences.append(f"**{faker.word().capitalize()}!**")
    elif flavour < 0.30:
        link = f"https://example.com/{faker.slug()}"
        sentences.append(f"See [{faker.word()}]({link}).")
    elif flavour < 0.33:
        sentences.append(f"`{faker.word()}()`")
    return " ".join(sentences)


async def add_comments(session: AsyncSession, fakes: Fakes, *, count: int) -> int:
    """Add `count` comments by random accounts on random posts, each after its
    post and its author's joining; how many were added."""
    if not count:
        return 0
    accounts = await _accounts(session)
    if not accounts:
        raise MissingRowsError(
            "there are no accounts to write the comments: add some with --users "
            "or `quart --app quarty users create`"
        )
    posts = (
        await session.execute(select(Post.id, Post.timestamp).order_by(Post.id))
    ).all()
    if not posts:
        raise MissingRowsError(
            "there are no posts to comment on: add some with --posts"
        )
    added = 0
    with click.progressbar(length=count, label="Adding comments") as progress:
        while added < count:
            size = min(COMMENTS_PER_BATCH, count - added)
            rows = [
                _comment_row(fakes, fakes.rng.choice(posts), fakes.rng.choice(accounts))
                for _ in range(size)
            ]
            async with writing(session):
                await session.execute(insert(Comment), rows)
            added += size
            progress.update(size)
    return added


def _comment_row(
    fakes: Fakes, post: Row[int, datetime], author: Row[int, datetime]
) -> dict[str, Any]:
    body = comment_body(fakes)
    return {
        "body": body,
        "body_html": markdown_to_html(body, tags=COMMENT_TAGS),
        "timestamp": _between(
            fakes, max(as_utc(post.timestamp), as_utc(author.member_since))
        ),
        "disabled": fakes.rng.random() < DISABLED_SHARE,
        "author_id": author.id,
        "post_id": post.id,
    }
