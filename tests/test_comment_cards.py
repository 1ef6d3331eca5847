"""Comment cards are rendered once and reused, yet every page shows each
comment as it is now.

A card is kept under everything it shows (quarty.main.cards), so these tests
first show the comments, so that their cards are kept, then change what they
show: a moderator's Disable and Enable, an author's new name.
"""

from __future__ import annotations

from quart import Quart
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.models import User
from tests.accounts import log_in, page_text, submit
from tests.comments import (
    NOTICE,
    add_comments,
    add_post,
    make_people,
    shown_comments,
)
from tests.helpers import client_of


async def test_disable_and_enable_show_at_once_where_the_cards_were_kept(
    app: Quart, session: AsyncSession
) -> None:
    people = await make_people(app)
    post_id = await add_post(session, people.ada)
    await add_comments(session, post_id, [people.bob], 2)
    permalink = f"/post/{post_id}"
    visitor, moderator = client_of(app), client_of(app)
    await log_in(moderator, "mod@example.com")
    assert shown_comments(await page_text(visitor, permalink)) == [
        "comment 0",
        "comment 1",
    ]
    assert shown_comments(await page_text(moderator, "/moderate")) == [
        "comment 1",
        "comment 0",
    ]
    for _ in range(2):  # the second time round, every card was kept before
        disabled = await submit(
            moderator, "/moderate/disable/1", form_page="/moderate", page="1"
        )
        assert disabled.status_code == 302
        assert shown_comments(await page_text(visitor, permalink)) == [
            NOTICE,
            "comment 1",
        ]
        assert shown_comments(await page_text(moderator, permalink)) == [
            NOTICE,
            "comment 1",
        ]
        assert shown_comments(await page_text(moderator, "/moderate")) == [
            "comment 1",
            f"{NOTICE} comment 0",
        ]
        enabled = await submit(
            moderator, "/moderate/enable/1", form_page="/moderate", page="1"
        )
        assert enabled.status_code == 302
        assert shown_comments(await page_text(visitor, permalink)) == [
            "comment 0",
            "comment 1",
        ]


async def test_a_renamed_author_shows_on_the_comments_at_once(
    app: Quart, session: AsyncSession
) -> None:
    people = await make_people(app)
    post_id = await add_post(session, people.ada)
    await add_comments(session, post_id, [people.bob], 1)
    client = client_of(app)
    assert '<a href="/user/bob">bob</a>' in await page_text(client, f"/post/{post_id}")
    async with writing(session):
        await session.execute(
            update(User).where(User.username == "bob").values(username="robert")
        )
    html = await page_text(client, f"/post/{post_id}")
    assert '<a href="/user/robert">robert</a>' in html
    assert 'href="/user/bob"' not in html
