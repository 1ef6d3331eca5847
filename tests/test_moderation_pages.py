"""Comment moderation: the list of every comment, Enable and Disable as POSTs
that return to the same page, who may moderate, and the navbar's link."""

from __future__ import annotations

import re

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.models import Comment
from tests.accounts import create_account, log_in, page_text, submit
from tests.comments import (
    NOTICE,
    People,
    add_comments,
    add_post,
    make_people,
    shown_comments,
)
from tests.helpers import app_database, client_of, get_csrf_token, started_app
from tests.queries import counted

PER_PAGE = 3
NAV_LINK = re.compile(
    r'<a class="nav-link( active)?"\s+href="/moderate">Moderate Comments</a>'
)


@pytest.fixture
def app_settings(app_settings: dict[str, object]) -> dict[str, object]:
    """Three comments a page, and root@example.com the administrator."""
    return {
        **app_settings,
        "QUARTY_COMMENTS_PER_PAGE": PER_PAGE,
        "QUARTY_ADMIN": "root@example.com",
    }


@pytest.fixture
async def people(app: Quart) -> People:
    return await make_people(app)


@pytest.fixture
async def post_id(session: AsyncSession, people: People) -> int:
    """A post by ada with 7 comments by bob and ada, "comment 5" disabled."""
    post_id = await add_post(session, people.ada)
    await add_comments(session, post_id, [people.bob, people.ada], 7, disabled=[5])
    return post_id


async def moderator(app: Quart) -> QuartClient:
    client = client_of(app)
    await log_in(client, "mod@example.com")
    return client


async def disabled_bodies(session: AsyncSession) -> list[str]:
    session.expire_all()
    query = select(Comment.body).where(Comment.disabled).order_by(Comment.id)
    return list(await session.scalars(query))


def buttons(html: str) -> list[tuple[str, str, str]]:
    """Each moderation form: (its action, the page it returns to, its button)."""
    forms = re.findall(
        r'<form class="d-inline" method="post" action="([^"]+)">'
        r'.*?name="page" value="([^"]*)".*?>(Enable|Disable)</button>',
        html,
        re.S,
    )
    return [(action, page, label) for action, page, label in forms]


async def moderate(
    client: QuartClient, action: str, comment_id: int, **form: str
) -> tuple[int, str]:
    """POST a moderation button with the page's token; (status, Location)."""
    token = await get_csrf_token(client, "/moderate")
    response = await client.post(
        f"/moderate/{action}/{comment_id}", form={"csrf_token": token, **form}
    )
    return response.status_code, response.headers.get("Location", "")


# The list.


async def test_a_moderator_sees_every_comment_newest_first_with_its_button(
    app: Quart, post_id: int
) -> None:
    client = await moderator(app)
    html = await page_text(client, "/moderate")
    assert "<title>Quarty - Moderate Comments</title>" in html
    assert "<h1>Moderate Comments</h1>" in html
    # The disabled one shows its body, under the notice.
    assert shown_comments(html) == ["comment 6", f"{NOTICE} comment 5", "comment 4"]
    assert buttons(html) == [
        ("/moderate/disable/7", "1", "Disable"),
        ("/moderate/enable/6", "1", "Enable"),
        ("/moderate/disable/5", "1", "Disable"),
    ]
    assert html.count(f'<a href="/post/{post_id}">Post</a>') == 3
    link = NAV_LINK.search(html)
    assert link and link.group(1) == " active"


async def test_comments_of_every_post_come_a_page_at_a_time(
    app: Quart, session: AsyncSession, people: People, post_id: int
) -> None:
    other_post = await add_post(session, people.bob)
    client = await moderator(app)
    await submit(client, f"/post/{other_post}", body="the newest")
    first = await page_text(client, "/moderate")
    assert shown_comments(first)[0] == "the newest"
    assert f'<a href="/post/{other_post}">Post</a>' in first
    third = await page_text(client, "/moderate?page=3")
    assert shown_comments(third) == ["comment 1", "comment 0"]
    assert {page for _action, page, _label in buttons(third)} == {"3"}
    assert 'href="/moderate?page=2"' in third
    past = await page_text(client, "/moderate?page=9")
    assert shown_comments(past) == []


# Enable and Disable.


async def test_disable_and_enable_change_what_others_see_and_return_to_the_page(
    app: Quart, session: AsyncSession, post_id: int
) -> None:
    client = await moderator(app)
    assert await moderate(client, "disable", 2, page="3") == (302, "/moderate?page=3")
    assert await disabled_bodies(session) == ["comment 1", "comment 5"]
    visitor = client_of(app)
    permalink = await page_text(visitor, f"/post/{post_id}")
    assert shown_comments(permalink) == ["comment 0", NOTICE, "comment 2"]
    assert await moderate(client, "enable", 2, page="3") == (302, "/moderate?page=3")
    assert await moderate(client, "enable", 6, page="2") == (302, "/moderate?page=2")
    assert await disabled_bodies(session) == []
    permalink = await page_text(visitor, f"/post/{post_id}?page=2")
    assert NOTICE not in permalink
    assert "comment 5" in permalink


async def test_pressing_a_button_twice_changes_nothing_more(
    app: Quart, session: AsyncSession, post_id: int
) -> None:
    client = await moderator(app)
    for _ in range(2):
        assert await moderate(client, "disable", 1, page="1") == (
            302,
            "/moderate?page=1",
        )
    assert await disabled_bodies(session) == ["comment 0", "comment 5"]


@pytest.mark.parametrize(
    "page", ["", "0", "-2", "two", "https://evil.example/", "//evil.example", "1e3"]
)
async def test_a_page_that_is_not_a_positive_number_returns_to_the_first(
    app: Quart, session: AsyncSession, post_id: int, page: str
) -> None:
    client = await moderator(app)
    assert await moderate(client, "disable", 3, page=page) == (302, "/moderate?page=1")
    assert await disabled_bodies(session) == ["comment 2", "comment 5"]


async def test_a_button_without_a_page_returns_to_the_first(
    app: Quart, post_id: int
) -> None:
    client = await moderator(app)
    assert await moderate(client, "disable", 3) == (302, "/moderate?page=1")


async def test_unknown_comments_are_not_found(
    app: Quart, session: AsyncSession, post_id: int
) -> None:
    client = await moderator(app)
    for comment_id in (8, 0, 99999999999999999999):
        for action in ("enable", "disable"):
            status, _location = await moderate(client, action, comment_id, page="1")
            assert status == 404, (action, comment_id)
    assert await disabled_bodies(session) == ["comment 5"]


async def test_the_buttons_change_state_only_on_post(app: Quart, post_id: int) -> None:
    client = await moderator(app)
    for path in ("/moderate/enable/6", "/moderate/disable/1"):
        assert (await client.get(path)).status_code == 405


async def test_a_button_without_a_csrf_token_is_refused(
    app: Quart, session: AsyncSession, post_id: int
) -> None:
    client = await moderator(app)
    response = await client.post("/moderate/disable/1", form={"page": "1"})
    assert response.status_code == 400
    assert "security token" in await response.get_data(as_text=True)
    assert await disabled_bodies(session) == ["comment 5"]


# Who may moderate.


async def test_a_visitor_is_sent_to_log_in(
    client: QuartClient, session: AsyncSession, post_id: int
) -> None:
    response = await client.get("/moderate?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/moderate?page%3D2"
    token = await get_csrf_token(client)
    response = await client.post(
        "/moderate/disable/1",
        form={"csrf_token": token, "page": "2"},
        headers={"Referer": "http://localhost/moderate?page=2"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/moderate?page%3D2"
    assert await disabled_bodies(session) == ["comment 5"]


@pytest.mark.parametrize("email", ["ada@example.com", "reader@example.com"])
async def test_a_user_who_may_not_moderate_is_refused(
    app: Quart, session: AsyncSession, post_id: int, email: str
) -> None:
    client = client_of(app)
    await log_in(client, email)
    assert (await client.get("/moderate")).status_code == 403
    token = await get_csrf_token(client)
    for action, comment_id in (("disable", 1), ("enable", 6)):
        response = await client.post(
            f"/moderate/{action}/{comment_id}", form={"csrf_token": token, "page": "1"}
        )
        assert response.status_code == 403
    assert await disabled_bodies(session) == ["comment 5"]


async def test_an_administrator_moderates_too(
    app: Quart, session: AsyncSession, post_id: int
) -> None:
    await create_account(app, email="root@example.com", username="root")
    client = client_of(app)
    await log_in(client, "root@example.com")
    assert NAV_LINK.search(await page_text(client, "/"))
    assert await moderate(client, "disable", 1, page="1") == (302, "/moderate?page=1")
    assert await disabled_bodies(session) == ["comment 0", "comment 5"]


# The navbar.


async def test_only_moderators_get_the_navbar_link(app: Quart, people: People) -> None:
    assert "Moderate Comments" not in await page_text(client_of(app), "/")
    for email, shown in (("ada@example.com", False), ("mod@example.com", True)):
        client = client_of(app)
        await log_in(client, email)
        for path in ("/", "/user/ada"):
            html = await page_text(client, path)
            assert bool(NAV_LINK.search(html)) is shown, (email, path)


# Queries.


@pytest.mark.parametrize("per_page", [3, 40])
@pytest.mark.parametrize(("page", "queries"), [(1, 2), (2, 2), (99, 3)])
async def test_the_moderation_page_runs_the_same_queries_for_any_page_size(
    app_settings: dict[str, object], per_page: int, page: int, queries: int
) -> None:
    comments = 45
    async with started_app(
        {**app_settings, "QUARTY_COMMENTS_PER_PAGE": per_page}
    ) as app:
        people = await make_people(app)
        async with app_database(app).sessionmaker() as session:
            for author in (people.ada, people.bob, people.mod):
                post_id = await add_post(session, author)
                await add_comments(
                    session, post_id, [people.ada, people.bob], comments // 3
                )
        client = await moderator(app)
        with counted(app_database(app)) as statements:
            response = await client.get(f"/moderate?page={page}")
    assert response.status_code == 200
    # The account, then the comments with their total (past the end: its count).
    assert statements.count == queries, statements.sql
    shown = max(0, min(per_page, comments - (page - 1) * per_page))
    html = await response.get_data(as_text=True)
    assert len(shown_comments(html)) == shown
    assert len(buttons(html)) == shown


@pytest.mark.parametrize("action", ["disable", "enable"])
async def test_a_button_runs_a_fixed_number_of_queries(
    app: Quart, post_id: int, action: str
) -> None:
    client = await moderator(app)
    token = await get_csrf_token(client, "/moderate")
    with counted(app_database(app)) as statements:
        response = await client.post(
            f"/moderate/{action}/1", form={"csrf_token": token, "page": "1"}
        )
    assert response.status_code == 302
    # The account, then the UPDATE.
    assert statements.count == 2, statements.sql
