"""`quart --app quarty users delete`, run as an operator runs it.

The database is made by the migrations, as a deployment's is: their foreign
keys' ON DELETE CASCADE (and SQLite's `PRAGMA foreign_keys`) are what remove a
user's rows. Every table is read whole before and after, so that what goes is
exactly the user's rows and everything else stays.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, NamedTuple

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.db.migrations import migrate
from quarty.models import Base, Comment, User
from quarty.services import api_tokens, follows, posts
from quarty.services import auth as accounts
from quarty.text.markdown import COMMENT_TAGS, markdown_to_html
from tests.accounts import PASSWORD, create_account
from tests.helpers import run_quart, started_app
from tests.test_cli_users import at_a_terminal

Rows = dict[str, set[tuple[Any, ...]]]

BOB_GOES = "2 posts, 5 comments, 3 follows and 1 API token"


@pytest.fixture
async def app(app_settings: dict[str, object]) -> AsyncIterator[Quart]:
    """The testing app on a database its migrations made (with the roles)."""
    await migrate(str(app_settings["SQLALCHEMY_DATABASE_URI"]))
    async with started_app(app_settings) as app:
        yield app


class Store(NamedTuple):
    """Three accounts who follow and comment on each other, and what is bob's."""

    bob_id: int
    bobs_rows: Rows  # every row that deleting bob must remove, by table


async def every_row(session: AsyncSession) -> Rows:
    """Each table's rows, as their primary keys."""
    rows: Rows = {}
    for table in Base.metadata.sorted_tables:
        query = select(*table.primary_key.columns)
        rows[table.name] = {tuple(row) for row in await session.execute(query)}
    await session.commit()  # end the read, so that the command's write can begin
    return rows


async def add_comment(session: AsyncSession, author_id: int, post_id: int) -> int:
    body = f"A *comment* by user {author_id} on post {post_id}."
    comment = Comment(
        body=body,
        body_html=markdown_to_html(body, tags=COMMENT_TAGS),
        author_id=author_id,
        post_id=post_id,
    )
    async with writing(session):
        session.add(comment)
    return comment.id


async def build_store(app: Quart, session: AsyncSession) -> Store:
    ada = await create_account(app, email="ada@example.com", username="ada")
    bob = await create_account(app, email="bob@example.com", username="bob")
    cy = await create_account(app, email="cy@example.com", username="cy")
    session.add(User(username="name.only"))  # the name form's kind of user
    await session.commit()

    for follower, followed in ((ada, bob), (bob, ada), (bob, cy), (cy, ada)):
        change = await follows.follow(
            session, follower=follower, followed_id=followed.id
        )
        assert change is follows.Change.DONE

    async def write(author: accounts.Account) -> int:
        post = await posts.create_post(session, author=author, body="A **post**.")
        return post.id

    adas, bobs_first, bobs_second, cys = (
        await write(ada),
        await write(bob),
        await write(bob),
        await write(cy),
    )
    bobs_comments = [
        # Others' on bob's posts, bob's own on his and on theirs.
        await add_comment(session, ada.id, bobs_first),
        await add_comment(session, cy.id, bobs_first),
        await add_comment(session, bob.id, bobs_second),
        await add_comment(session, bob.id, adas),
        await add_comment(session, bob.id, cys),
    ]
    await add_comment(session, ada.id, cys)
    await add_comment(session, cy.id, adas)

    token_ids = []
    for account in (ada, bob):
        token = await api_tokens.issue_token(
            session, user_id=account.id, lifetime=timedelta(hours=1)
        )
        holder = await api_tokens.token_holder(session, token)
        assert holder is not None
        token_ids.append(holder.token_id)
    await session.commit()

    return Store(
        bob.id,
        {
            "users": {(bob.id,)},
            "follows": {(ada.id, bob.id), (bob.id, ada.id), (bob.id, cy.id)},
            "posts": {(bobs_first,), (bobs_second,)},
            "comments": {(comment_id,) for comment_id in bobs_comments},
            "api_tokens": {(token_ids[1],)},
        },
    )


def without(rows: Rows, gone: Rows) -> Rows:
    return {table: kept - gone.get(table, set()) for table, kept in rows.items()}


async def test_delete_with_yes_removes_exactly_the_users_rows(
    app: Quart, client: QuartClient, database_url: str, session: AsyncSession
) -> None:
    store = await build_store(app, session)
    before = await every_row(session)
    for table, rows in store.bobs_rows.items():
        assert rows <= before[table], table
    assert (await client.get("/user/bob")).status_code == 200

    result = await run_quart(database_url, "users", "delete", "bob", "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Deleted user bob (id {store.bob_id}) with {BOB_GOES}.\n"

    after = await every_row(session)
    assert after == without(before, store.bobs_rows)
    assert (await client.get("/user/bob")).status_code == 404
    async with app.app_context():
        gone = await accounts.authenticate(
            session, email="bob@example.com", password=PASSWORD
        )
    assert gone is None


async def test_delete_asks_first_and_a_yes_on_stdin_deletes(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    store = await build_store(app, session)
    before = await every_row(session)
    result = await run_quart(database_url, "users", "delete", " bob ", stdin="y\n")
    assert result.returncode == 0, result.stderr
    assert f"Delete user bob with {BOB_GOES}? [y/N]" in result.stdout
    assert result.stdout.endswith(
        f"Deleted user bob (id {store.bob_id}) with {BOB_GOES}.\n"
    )
    assert await every_row(session) == without(before, store.bobs_rows)


async def test_delete_asks_at_a_terminal(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    store = await build_store(app, session)
    before = await every_row(session)
    code, shown = await asyncio.to_thread(
        at_a_terminal,
        database_url,
        *("users", "delete", "bob"),
        typed=[(f"Delete user bob with {BOB_GOES}? [y/N]: ", "y")],
    )
    assert code == 0, shown
    assert f"Deleted user bob (id {store.bob_id}) with {BOB_GOES}." in shown
    assert await every_row(session) == without(before, store.bobs_rows)


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("n\n", "Nothing deleted."),
        ("\n", "Nothing deleted."),  # the default is no
        (
            "",
            "Error: no answer on stdin: nothing deleted; "
            "add --yes to delete without asking",
        ),
    ],
)
async def test_delete_without_a_yes_deletes_nothing(
    app: Quart, database_url: str, session: AsyncSession, stdin: str, message: str
) -> None:
    await build_store(app, session)
    before = await every_row(session)
    result = await run_quart(database_url, "users", "delete", "bob", stdin=stdin)
    assert result.returncode == 1
    assert f"Delete user bob with {BOB_GOES}? [y/N]" in result.stdout
    assert result.stderr == message + "\n"
    assert "Deleted" not in result.stdout
    assert await every_row(session) == before


async def test_delete_refuses_an_unknown_username(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await build_store(app, session)
    before = await every_row(session)
    for yes in ((), ("--yes",)):
        result = await run_quart(database_url, "users", "delete", "Bob", *yes)
        assert result.returncode == 1
        assert result.stderr == "Error: no user is named 'Bob'\n"
        assert result.stdout == ""
    assert await every_row(session) == before


async def test_delete_removes_a_name_only_user(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await build_store(app, session)
    before = await every_row(session)
    [name_only_id] = await session.scalars(
        select(User.id).where(User.username == "name.only")
    )
    result = await run_quart(database_url, "users", "delete", "name.only", "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"Deleted user name.only (id {name_only_id}) with "
        "0 posts, 0 comments, 0 follows and 0 API tokens.\n"
    )
    assert await every_row(session) == without(before, {"users": {(name_only_id,)}})
