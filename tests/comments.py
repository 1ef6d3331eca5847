"""Comments for the page tests: four people with their roles, a post by one
of them with numbered comments, and the comments as a page shows them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from quart import Quart
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.models import Comment, Permission, Post, Role
from quarty.services import roles
from quarty.text.markdown import COMMENT_TAGS, markdown_to_html
from tests.accounts import create_account
from tests.helpers import app_database

NOTICE = "This comment has been disabled by a moderator."
# Long past, so that a comment written now comes after all of them.
START = datetime(2020, 1, 1, tzinfo=UTC)


class People(NamedTuple):
    """The ids of the four accounts `make_people` makes."""

    ada: int  # User
    bob: int  # User
    mod: int  # Moderator
    reader: int  # may follow, not comment


async def make_people(app: Quart) -> People:
    """ada and bob (Users), mod (a Moderator) and reader (a role that may
    follow but not comment)."""
    async with app_database(app).sessionmaker() as session:
        await roles.insert_default_roles(session)
        session.add(Role(name="Reader", permissions=Permission.FOLLOW))
        await session.commit()
    ids = {}
    for name in ("ada", "bob", "mod", "reader"):
        account = await create_account(app, email=f"{name}@example.com", username=name)
        ids[name] = account.id
    async with app_database(app).sessionmaker() as session:
        await roles.set_role(session, email="mod@example.com", role_name="Moderator")
        await roles.set_role(session, email="reader@example.com", role_name="Reader")
    return People(**ids)


async def add_post(session: AsyncSession, author_id: int) -> int:
    """A post, "the post", written at START; its id."""
    async with writing(session):
        return (
            await session.execute(
                insert(Post)
                .values(
                    author_id=author_id,
                    body="the post",
                    body_html="<p>the post</p>",
                    timestamp=START,
                )
                .returning(Post.id)
            )
        ).scalar_one()


async def add_comments(
    session: AsyncSession,
    post_id: int,
    author_ids: list[int],
    count: int,
    *,
    disabled: Iterable[int] = (),
) -> None:
    """Comments "comment 0" (oldest) to "comment <count - 1>", a minute apart,
    the authors taking turns; those numbered in `disabled` are disabled."""
    if count == 0:
        return
    hidden = set(disabled)
    async with writing(session):
        await session.execute(
            insert(Comment),
            [
                {
                    "author_id": author_ids[index % len(author_ids)],
                    "post_id": post_id,
                    "body": f"comment {index}",
                    "body_html": markdown_to_html(
                        f"comment {index}", tags=COMMENT_TAGS
                    ),
                    "timestamp": START + timedelta(minutes=index + 1),
                    "disabled": index in hidden,
                }
                for index in range(count)
            ],
        )


def shown_comments(html: str) -> list[str]:
    """Each comment's body text on a page, top to bottom, tags left out."""
    bodies = re.findall(r'<div class="comment-body">(.*?)</div>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", body).split()) for body in bodies]
