"""Post cards are rendered once and reused, yet every page shows the post as it is now.

A card is kept under everything it shows (quarty.main.cards), so these tests
first show a post, so that its card is kept, then change what it shows.
"""

from __future__ import annotations

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.main.cards import CARD_TEMPLATE
from quarty.models import User
from quarty.services import posts, roles
from quarty.services.auth import Account
from quarty.web.fragments import fragment_cache
from tests.accounts import create_account, log_in, page_text, submit
from tests.helpers import client_of

ADMIN_EMAIL = "root@example.com"


@pytest.fixture
def app_settings(app_settings: dict[str, object]) -> dict[str, object]:
    return {**app_settings, "QUARTY_ADMIN": ADMIN_EMAIL}


@pytest.fixture
async def ada(app: Quart, session: AsyncSession) -> Account:
    """ada, with bob and root (an administrator) about."""
    await roles.insert_default_roles(session)
    ada = await create_account(app)
    await create_account(app, email="bob@example.com", username="bob")
    await create_account(app, email=ADMIN_EMAIL, username="root")
    return ada


@pytest.fixture
async def post_id(session: AsyncSession, ada: Account) -> int:
    """A post by ada."""
    post = await posts.create_post(session, author=ada, body="*first* words")
    return post.id


async def test_an_edit_shows_everywhere_at_once(
    client: QuartClient, post_id: int
) -> None:
    for path in ("/", "/user/ada", f"/post/{post_id}"):
        assert "<em>first</em> words" in await page_text(client, path)
    await log_in(client)
    edited = await submit(client, f"/edit/{post_id}", body="**second** words")
    assert edited.status_code == 302
    for path in ("/", "/user/ada", f"/post/{post_id}"):
        html = await page_text(client, path)
        assert "<strong>second</strong> words" in html
        assert "first" not in html


async def test_a_renamed_author_shows_on_the_posts_at_once(
    client: QuartClient, session: AsyncSession, post_id: int
) -> None:
    assert '<a href="/user/ada">ada</a>' in await page_text(client, "/")
    async with writing(session):
        await session.execute(
            update(User).where(User.username == "ada").values(username="adele")
        )
    html = await page_text(client, "/")
    assert '<a href="/user/adele">adele</a>' in html
    assert 'href="/user/ada"' not in html


async def test_each_viewer_gets_their_own_edit_link_from_the_same_post(
    app: Quart, post_id: int
) -> None:
    edit = f'href="/edit/{post_id}">Edit'
    visitor, author, other, admin = (client_of(app) for _ in range(4))
    await log_in(author)
    await log_in(other, "bob@example.com")
    await log_in(admin, ADMIN_EMAIL)
    # Twice round, so the second time every card comes from the cache.
    for _ in range(2):
        assert edit not in await page_text(visitor, "/")
        assert f"{edit}</a>" in await page_text(author, "/")
        assert edit not in await page_text(other, "/")
        assert f"{edit} [Admin]</a>" in await page_text(admin, "/")


async def test_a_card_kept_at_one_mount_point_is_not_shown_at_another(
    client: QuartClient, post_id: int
) -> None:
    plain = await page_text(client, "/")
    mounted = await (await client.get("/quarty/", root_path="/quarty")).get_data(True)
    assert f'href="/post/{post_id}">Permalink' in plain
    assert f'href="/quarty/post/{post_id}">Permalink' in mounted


async def test_the_cache_keeps_within_its_budget_and_still_renders_every_card(
    app: Quart, client: QuartClient, session: AsyncSession, ada: Account, post_id: int
) -> None:
    async with app.app_context():
        cards = fragment_cache(CARD_TEMPLATE)
    cards.max_characters = 6_000  # a handful of cards
    for number in range(30):
        await posts.create_post(session, author=ada, body=f"post {number}")
    for page in (1, 2, 1):
        html = await page_text(client, f"/?page={page}")
        assert html.count('<li class="post">') == (20 if page == 1 else 11)
        assert cards.characters <= cards.max_characters
    assert "post 29" in await page_text(client, "/")
    assert 1 < len(cards) < 20
