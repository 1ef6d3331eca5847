"""The blog post pages: writing on /, the lists and their pages, the permalink,
editing, and the preview."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest
from quart import Quart, Response
from quart.testing import QuartClient
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.models import POST_BODY_MAX_LENGTH, Permission, Post, Role
from quarty.services import roles
from quarty.text.markdown import markdown_to_html
from tests.accounts import create_account, log_in, page_text, submit
from tests.helpers import (
    app_database,
    client_of,
    get_csrf_token,
    started_app,
    submit_name,
)

ADMIN_EMAIL = "root@example.com"
FORM_LABEL = "What&#39;s on your mind?"
POST_ITEM = re.compile(r'<li class="post">')
JSON = {"Accept": "application/json"}
LINK = "https://example.com"


class People(NamedTuple):
    ada: int
    bob: int
    root: int


@pytest.fixture
def app_settings(app_settings: dict[str, object]) -> dict[str, object]:
    """QUARTY_ADMIN's account registers as the administrator."""
    return {**app_settings, "QUARTY_ADMIN": ADMIN_EMAIL}


@pytest.fixture
async def people(app: Quart, session: AsyncSession) -> People:
    """ada and bob, Users, and root, the Administrator."""
    await roles.insert_default_roles(session)
    ada = await create_account(app)
    bob = await create_account(app, email="bob@example.com", username="bob")
    root = await create_account(app, email=ADMIN_EMAIL, username="root")
    assert root.role_name == "Administrator"
    return People(ada.id, bob.id, root.id)


async def write(client: QuartClient, body: str) -> Response:
    """Send the post form on / as a browser would."""
    return await submit(client, "/", body=body)


async def stored_posts(session: AsyncSession) -> list[Post]:
    session.expire_all()
    return list(await session.scalars(select(Post).order_by(Post.id)))


async def add_posts(session: AsyncSession, author_ids: list[int], count: int) -> None:
    """Posts "post 0" (oldest) to "post <count - 1>", a minute apart, the
    authors taking turns."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    async with writing(session):
        await session.execute(
            insert(Post),
            [
                {
                    "author_id": author_ids[index % len(author_ids)],
                    "body": f"post {index}",
                    "body_html": markdown_to_html(f"post {index}"),
                    "timestamp": start + timedelta(minutes=index),
                }
                for index in range(count)
            ],
        )


def bodies(html: str) -> list[str]:
    """The text of each post on a page of "post N" posts, top to bottom."""
    return re.findall(r'<div class="post-body"><p>(post \d+)</p>', html)


def textarea(html: str) -> str:
    match = re.search(
        r'<textarea[^>]*name="body"[^>]*>\r?\n(.*?)</textarea>', html, re.S
    )
    assert match, "no post form"
    return match.group(1)


# Writing on /.


async def test_a_writer_gets_the_post_form_and_a_visitor_the_name_form(
    client: QuartClient, people: People
) -> None:
    visitor = await page_text(client, "/")
    assert "What is your name?" in visitor
    assert FORM_LABEL not in visitor
    assert "preview.js" not in visitor
    await log_in(client)
    writer = await page_text(client, "/")
    assert "Hello, ada!" in writer
    assert FORM_LABEL in writer
    assert "What is your name?" not in writer
    assert 'src="/static/js/preview.js"' in writer
    assert 'data-preview-url="/preview"' in writer


async def test_a_post_redirects_home_and_shows_on_home_profile_and_permalink(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await log_in(client)
    response = await write(client, "Hello, *world*!")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    (post,) = await stored_posts(session)
    assert (post.author_id, post.body) == (people.ada, "Hello, *world*!")
    home = await page_text(client, "/")
    assert "<p>Hello, <em>world</em>!</p>" in home
    assert 'class="alert' not in home  # as the book: no flash
    assert f'href="/post/{post.id}">Permalink</a>' in home
    assert re.search(r'<div class="post-date"><time [^>]*data-kind="fromNow"', home)
    profile = await page_text(client, "/user/ada")
    assert "Posts by ada" in profile
    assert "1 blog post." in profile
    assert "<p>Hello, <em>world</em>!</p>" in profile
    permalink = await page_text(client, f"/post/{post.id}")
    assert "<p>Hello, <em>world</em>!</p>" in permalink
    assert len(POST_ITEM.findall(permalink)) == 1


async def test_each_post_shows_its_author_with_avatar_and_link(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_posts(session, [people.bob], 1)
    html = await page_text(client, "/")
    assert '<div class="post-author"><a href="/user/bob">bob</a></div>' in html
    assert re.search(r'<img class="rounded" src="/avatar/[0-9a-f]{64}\?s=40"', html)


async def test_a_user_without_write_is_refused_the_post_form(
    app: Quart, client: QuartClient, session: AsyncSession, people: People
) -> None:
    session.add(Role(name="Reader", permissions=Permission.FOLLOW | Permission.COMMENT))
    await session.commit()
    await roles.set_role(session, email="bob@example.com", role_name="Reader")
    await log_in(client, "bob@example.com")
    home = await page_text(client, "/")
    assert "Hello, bob!" in home
    assert FORM_LABEL not in home
    assert "preview.js" not in home
    response = await write(client, "let me in")
    assert response.status_code == 403
    assert "Insufficient permissions" in await response.get_data(as_text=True)
    assert await stored_posts(session) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (" \r\n ", "This field is required."),
        ("b" * (POST_BODY_MAX_LENGTH + 1), "A post has at most 20,000 characters"),
        ("nul \x00 here", "A post cannot contain NUL characters."),
    ],
)
async def test_a_bad_body_shows_the_form_again_with_its_error_and_text(
    client: QuartClient, session: AsyncSession, people: People, body: str, message: str
) -> None:
    await log_in(client)
    response = await write(client, body)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "is-invalid" in html
    assert textarea(html) == body
    assert await stored_posts(session) == []


@pytest.mark.parametrize("character", ["c", "é", "\U0001f600"])
async def test_the_longest_body_is_a_post_in_any_script(
    client: QuartClient, session: AsyncSession, people: People, character: str
) -> None:
    # Form-encoded, a 4-byte character takes 12 bytes: the request is 240 KB.
    await log_in(client)
    response = await write(client, character * POST_BODY_MAX_LENGTH)
    assert response.status_code == 302
    (post,) = await stored_posts(session)
    assert post.body == character * POST_BODY_MAX_LENGTH


async def test_markdown_is_rendered_and_scripts_and_handlers_never_reach_a_page(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await log_in(client)
    body = (
        f"# Title\n\n**bold** and [a link]({LINK})\n\n- one\n- two\n\n"
        "<script>window.__pwned = 1</script>"
        '<b onclick="window.__pwned = 2">click</b> [bad](javascript:alert(1))'
    )
    assert (await write(client, body)).status_code == 302
    (post,) = await stored_posts(session)
    for path in ("/", "/user/ada", f"/post/{post.id}"):
        html = await page_text(client, path)
        assert "<h1>Title</h1>" in html
        assert "<strong>bold</strong>" in html
        assert (
            '<a href="https://example.com" rel="nofollow noopener">a link</a>' in html
        )
        assert "<li>one</li>" in html
        assert "__pwned" not in html
        assert "onclick" not in html
        assert 'href="javascript:' not in html
    # The edit form shows the Markdown as text, escaped.
    edit = await page_text(client, f"/edit/{post.id}")
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in edit
    assert "<script>window" not in edit


# Pages of posts.


async def test_posts_come_newest_first_a_page_at_a_time(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_posts(session, [people.ada, people.bob, people.root], 45)
    first = await page_text(client, "/")
    assert bodies(first) == [f"post {n}" for n in range(44, 24, -1)]
    second = await page_text(client, "/?page=2")
    assert bodies(second)[0] == "post 24"  # the 21st newest
    assert bodies(await page_text(client, "/?page=3")) == [
        f"post {n}" for n in range(4, -1, -1)
    ]
    past = await client.get("/?page=4")
    assert past.status_code == 200
    assert POST_ITEM.findall(await past.get_data(as_text=True)) == []


@pytest.mark.parametrize("page", ["0", "-3", "two", "1.5", ""])
async def test_a_page_that_is_not_a_positive_number_is_the_first(
    client: QuartClient, session: AsyncSession, people: People, page: str
) -> None:
    await add_posts(session, [people.ada], 25)
    html = await page_text(client, f"/?page={page}")
    assert bodies(html) == [f"post {n}" for n in range(24, 4, -1)]


async def test_a_page_far_past_the_end_is_empty_not_an_error(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_posts(session, [people.ada], 3)
    for path in ("/?page=99999999999999999999999", "/user/ada?page=4000000000"):
        response = await client.get(path)
        assert response.status_code == 200
        assert POST_ITEM.findall(await response.get_data(as_text=True)) == []


def page_links(html: str) -> list[str]:
    """The pagination bar: each item as "text:href", "text:active" or "text:-"."""
    items = []
    for item in re.findall(r'<li class="page-item[^"]*">(.*?)</li>', html):
        text = re.sub(r"<[^>]+>", "", item)
        if 'aria-current="page"' in item:
            items.append(f"{text}:active")
        elif href := re.search(r'href="([^"]*)"', item):
            items.append(f"{text}:{href.group(1)}")
        else:
            items.append(f"{text}:-")
    return items


async def test_the_pagination_bar_links_each_page_and_marks_the_current_one(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_posts(session, [people.ada], 45)
    assert page_links(await page_text(client, "/")) == [
        "«:-",
        "1:active",
        "2:/?page=2",
        "3:/?page=3",
        "»:/?page=2",
    ]
    assert page_links(await page_text(client, "/?page=3")) == [
        "«:/?page=2",
        "1:/?page=1",
        "2:/?page=2",
        "3:active",
        "»:-",
    ]
    # Past the end: back to the page before, nothing active.
    assert "active" not in "".join(page_links(await page_text(client, "/?page=5")))


async def test_one_page_of_posts_has_no_pagination_bar(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_posts(session, [people.ada], 20)
    assert page_links(await page_text(client, "/")) == []


async def test_a_long_list_leaves_gaps_in_the_bar(
    app_settings: dict[str, object],
) -> None:
    async with started_app({**app_settings, "QUARTY_POSTS_PER_PAGE": 2}) as app:
        async with app_database(app).sessionmaker() as session:
            await roles.insert_default_roles(session)
            ada = await create_account(app)
            await add_posts(session, [ada.id], 45)  # 23 pages
        html = await page_text(client_of(app), "/?page=10")
    links = page_links(html)
    assert links == [
        "«:/?page=9",
        "1:/?page=1",
        "2:/?page=2",
        "…:-",
        *[f"{n}:/?page={n}" for n in range(8, 10)],
        "10:active",
        *[f"{n}:/?page={n}" for n in range(11, 15)],
        "…:-",
        "22:/?page=22",
        "23:/?page=23",
        "»:/?page=11",
    ]


async def test_a_profile_lists_its_users_posts_a_page_at_a_time(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_posts(session, [people.ada, people.bob], 50)  # ada's are even
    profile = await page_text(client, "/user/ada")
    assert "25 blog posts." in profile
    assert bodies(profile) == [f"post {n}" for n in range(48, 8, -2)]
    second = await page_text(client, "/user/ada?page=2")
    assert bodies(second) == [f"post {n}" for n in range(8, -1, -2)]
    assert page_links(second)[:2] == ["«:/user/ada?page=1", "1:/user/ada?page=1"]
    assert "0 blog posts." in await page_text(client, "/user/root")


async def test_a_name_only_user_is_still_only_greeted(client: QuartClient) -> None:
    await submit_name(client, "dave")
    html = await page_text(client, "/user/dave")
    assert "Hello, Dave!" in html
    assert "Posts by" not in html
    assert "blog post" not in html


async def test_links_follow_the_root_path_and_the_avatar_setting(
    app_settings: dict[str, object],
) -> None:
    settings = {**app_settings, "AVATARS": "gravatar"}
    async with started_app(settings) as app:
        async with app_database(app).sessionmaker() as session:
            await roles.insert_default_roles(session)
            ada = await create_account(app)
            await add_posts(session, [ada.id], 1)
        response = await client_of(app).get("/quarty/", root_path="/quarty")
        html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<a href="/quarty/user/ada">ada</a>' in html
    assert 'href="/quarty/post/1">Permalink' in html
    assert re.search(
        r'src="https://secure.gravatar.com/avatar/[0-9a-f]{64}'
        r'\?s=40&amp;d=identicon&amp;r=g"',
        html,
    )


# The permalink and the edit page.


async def test_unknown_posts_are_not_found(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_posts(session, [people.ada], 1)
    await log_in(client)
    for path in ("/post/2", "/edit/2", "/post/0", "/post/99999999999999999999"):
        assert (await client.get(path)).status_code == 404, path
    token = await get_csrf_token(client)
    response = await client.post("/edit/2", form={"body": "x", "csrf_token": token})
    assert response.status_code == 404


async def test_the_author_edits_a_post(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_posts(session, [people.ada], 1)
    await log_in(client)
    home = await page_text(client, "/")
    assert '<a class="btn btn-sm btn-primary" href="/edit/1">Edit</a>' in home
    assert "Edit [Admin]" not in home
    form = await page_text(client, "/edit/1")
    assert "<title>Quarty - Edit Post</title>" in form
    assert textarea(form) == "post 0"
    assert 'src="/static/js/preview.js"' in form
    response = await submit(client, "/edit/1", body="post *zero*")
    assert response.status_code == 302
    assert response.headers["Location"] == "/post/1"
    permalink = await page_text(client, "/post/1")
    assert "The post has been updated." in permalink
    assert "<p>post <em>zero</em></p>" in permalink


async def test_a_bad_edit_keeps_the_text_and_changes_nothing(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_posts(session, [people.ada], 1)
    await log_in(client)
    too_long = "d" * (POST_BODY_MAX_LENGTH + 1)
    response = await submit(client, "/edit/1", body=too_long)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "A post has at most 20,000 characters" in html
    assert textarea(html) == too_long
    assert [post.body for post in await stored_posts(session)] == ["post 0"]


async def test_an_administrator_edits_anyones_post_and_sees_which(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_posts(session, [people.ada, people.root], 2)  # 1 by ada, 2 by root
    await log_in(client, ADMIN_EMAIL)
    home = await page_text(client, "/")
    assert '<a class="btn btn-sm btn-danger" href="/edit/1">Edit [Admin]</a>' in home
    assert '<a class="btn btn-sm btn-primary" href="/edit/2">Edit</a>' in home
    assert home.count("Edit [Admin]") == 1
    response = await submit(client, "/edit/1", body="moderated")
    assert response.headers["Location"] == "/post/1"
    by_ada, _by_root = await stored_posts(session)
    assert by_ada.body == "moderated"


async def test_another_user_may_not_edit(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_posts(session, [people.ada], 1)
    await log_in(client, "bob@example.com")
    assert ">Edit" not in await page_text(client, "/")
    assert (await client.get("/edit/1")).status_code == 403
    token = await get_csrf_token(client)
    response = await client.post("/edit/1", form={"body": "mine", "csrf_token": token})
    assert response.status_code == 403
    assert [post.body for post in await stored_posts(session)] == ["post 0"]


async def test_a_visitor_is_sent_to_log_in_to_edit(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_posts(session, [people.ada], 1)
    assert ">Edit" not in await page_text(client, "/post/1")
    response = await client.get("/edit/1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/edit/1"


# CSRF and the preview.


async def test_forms_without_a_csrf_token_are_refused(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await add_posts(session, [people.ada], 1)
    await log_in(client)
    for path in ("/", "/edit/1"):
        response = await client.post(path, form={"body": "forged"})
        assert response.status_code == 400, path
        assert "security token" in await response.get_data(as_text=True)
    response = await client.post("/preview", form={"body": "forged"}, headers=JSON)
    assert response.status_code == 400
    assert "security token" in (await response.get_json())["message"]
    assert [post.body for post in await stored_posts(session)] == ["post 0"]


async def preview(client: QuartClient, body: str) -> Response:
    token = await get_csrf_token(client)
    return await client.post(
        "/preview", form={"body": body, "csrf_token": token}, headers=JSON
    )


async def test_the_preview_is_the_html_the_post_is_saved_with(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await log_in(client)
    body = (
        "**bold**\r\n\r\n- a\r\n- [link](https://example.com)\r\n<script>x()</script>"
    )
    response = await preview(client, body)
    assert response.status_code == 200
    shown = (await response.get_json())["html"]
    assert "<strong>bold</strong>" in shown
    assert "<script>" not in shown
    await write(client, body)
    (post,) = await stored_posts(session)
    assert shown == post.body_html


async def test_the_preview_says_why_a_body_cannot_be_a_post(
    client: QuartClient, people: People
) -> None:
    await log_in(client)
    response = await preview(client, "e" * (POST_BODY_MAX_LENGTH + 1))
    assert response.status_code == 400
    assert (await response.get_json())["message"] == (
        "A post has at most 20,000 characters; this one has 20,001."
    )


async def test_the_preview_needs_a_writer(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    response = await client.post("/preview", form={"body": "x"}, headers=JSON)
    assert response.status_code == 401
    session.add(Role(name="Reader", permissions=Permission.FOLLOW))
    await session.commit()
    await roles.set_role(session, email="bob@example.com", role_name="Reader")
    await log_in(client, "bob@example.com")
    response = await preview(client, "x")
    assert response.status_code == 403
    assert (await response.get_json())["message"] == "Insufficient permissions"
