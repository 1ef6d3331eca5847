"""`quart --app quarty fake`, run as a developer runs it: accounts, posts,
follows and comments.

The app fixture makes the tables (without roles) on the database the command
is pointed at; what the command added is read back through the app.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from quarty.cli.fake import sanitize_username
from quarty.db import writing
from quarty.mail.outbox import as_utc
from quarty.models import USERNAME_PATTERN, Base, Comment, Follow, Post, User
from quarty.services import operators, roles
from quarty.text.markdown import COMMENT_TAGS, markdown_to_html
from tests.accounts import log_in
from tests.helpers import client_of, run_quart

LOG_IN_LINE = "Log in as any of them with the password 'password'."


async def count(session: AsyncSession, model: type[Base]) -> int:
    query = select(func.count()).select_from(model)
    return (await session.execute(query)).scalar_one()


def assert_one_error_line(stderr: str, message: str) -> None:
    assert stderr.strip().splitlines()[-1] == f"Error: {message}"
    assert "Traceback" not in stderr


async def test_fake_adds_confirmed_accounts_that_log_in_and_posts_by_them(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    started = datetime.now(UTC)
    result = await run_quart(
        database_url, "fake", "--users", "12", "--posts", "60", "--seed", "3"
    )
    assert result.returncode == 0, result.stderr
    # Each new account follows 10 others; twice as many comments as posts.
    assert "Added 12 users, 60 posts, 120 follows and 120 comments." in result.stdout
    assert LOG_IN_LINE in result.stdout

    accounts = await operators.list_accounts(session)
    assert len(accounts) == 12
    assert {(a.confirmed, a.role_name) for a in accounts} == {(True, "User")}
    assert all(re.match(USERNAME_PATTERN, a.username) for a in accounts)
    # One hash for all: the password was hashed once.
    hashes = await session.scalars(select(User.password_hash).distinct())
    assert len(hashes.all()) == 1
    for account in (accounts[0], accounts[-1]):
        assert await log_in(client_of(app), account.email, "password") == "/"
    profiles = (await session.execute(select(User.name, User.member_since))).all()
    assert all(name and as_utc(since) < started for name, since in profiles)

    posts = (await session.scalars(select(Post))).all()
    assert len(posts) == 60
    # Stored as the app stores a post: the HTML made by its one renderer.
    assert all(post.body_html == markdown_to_html(post.body) for post in posts)
    assert any("<strong>" in p.body_html or "<ul>" in p.body_html for p in posts)
    year_ago = started - timedelta(days=365)
    times = [as_utc(post.timestamp) for post in posts]
    assert all(year_ago <= moment <= datetime.now(UTC) for moment in times)
    # Spread over the year, not bunched at one moment.
    assert max(times) - min(times) > timedelta(days=90)
    authors = {post.author_id for post in posts}
    assert authors <= {account.id for account in accounts}
    assert len(authors) > 5


async def test_a_second_run_with_the_same_seed_draws_other_names(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    for _run in range(2):
        result = await run_quart(
            database_url, "fake", "--users", "15", "--posts", "5", "--seed", "7"
        )
        assert result.returncode == 0, result.stderr
        assert "Added 15 users, 5 posts, 150 follows and 10 comments." in result.stdout
    accounts = await operators.list_accounts(session)
    assert len(accounts) == 30
    assert len({a.username for a in accounts}) == len({a.email for a in accounts}) == 30
    assert await count(session, Post) == 10


async def test_posts_alone_go_to_the_accounts_there_are(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    accounts = await run_quart(database_url, "fake", "--users", "3", "--posts", "0")
    assert "Added 3 users, 0 posts, 6 follows and 0 comments." in accounts.stdout
    result = await run_quart(database_url, "fake", "--users", "0", "--posts", "30")
    assert result.returncode == 0, result.stderr
    assert "Added 0 users, 30 posts, 0 follows and 60 comments." in result.stdout
    assert LOG_IN_LINE not in result.stdout
    assert await count(session, User) == 3
    assert await count(session, Post) == 30


async def test_without_roles_it_says_to_deploy_and_adds_nobody(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    result = await run_quart(database_url, "fake", "--users", "5", "--posts", "5")
    assert result.returncode == 1
    assert_one_error_line(
        result.stderr, "there are no roles yet: run `quart --app quarty deploy` first"
    )
    assert await count(session, User) == 0


async def test_posts_without_accounts_are_refused(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    session.add(User(username="name.only"))  # the name form's kind: no password
    await session.commit()
    result = await run_quart(database_url, "fake", "--users", "0", "--posts", "5")
    assert result.returncode == 1
    assert_one_error_line(
        result.stderr,
        "there are no accounts to write the posts: add some with --users "
        "or `quart --app quarty users create`",
    )
    assert await count(session, Post) == 0


async def test_the_production_config_is_refused(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    result = await run_quart(
        database_url,
        "fake",
        extra_environment={
            "QUARTY_CONFIG": "production",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "a real secret key for this test",
        },
    )
    assert result.returncode == 1
    assert_one_error_line(
        result.stderr,
        "the fake command adds accounts with a known password; "
        "it does not run with QUARTY_CONFIG=production",
    )
    assert await count(session, User) == 0


async def test_without_faker_it_says_what_to_install(
    app: Quart, database_url: str, tmp_path: Path
) -> None:
    # A `faker` first on the path that cannot be imported, as if not installed.
    (tmp_path / "faker").mkdir()
    (tmp_path / "faker" / "__init__.py").write_text("raise ImportError('no faker')\n")
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    result = await run_quart(
        database_url, "fake", extra_environment={"PYTHONPATH": path}
    )
    assert result.returncode == 1
    assert_one_error_line(
        result.stderr, "the fake command needs Faker: pip install 'quarty[dev]'"
    )


async def test_a_negative_count_is_a_usage_error(app: Quart, database_url: str) -> None:
    result = await run_quart(database_url, "fake", "--posts", "-3")
    assert result.returncode == 2
    assert "Invalid value for '--posts'" in result.stderr
    assert "Traceback" not in result.stderr


async def follows_by_follower(session: AsyncSession) -> dict[int, set[int]]:
    rows = await session.execute(select(Follow.follower_id, Follow.followed_id))
    followed: dict[int, set[int]] = {}
    for follower_id, followed_id in rows:
        followed.setdefault(follower_id, set()).add(followed_id)
    return followed


async def test_new_accounts_follow_others_and_comments_come_after_their_post(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    result = await run_quart(
        database_url,
        "fake",
        *("--users", "8", "--posts", "20", "--follows", "3", "--comments", "80"),
        *("--seed", "11"),
    )
    assert result.returncode == 0, result.stderr
    assert "Added 8 users, 20 posts, 24 follows and 80 comments." in result.stdout
    finished = datetime.now(UTC)
    accounts = {a.id for a in await operators.list_accounts(session)}

    followed = await follows_by_follower(session)
    assert set(followed) == accounts
    for follower_id, followed_ids in followed.items():
        assert len(followed_ids) == 3
        assert follower_id not in followed_ids
        assert followed_ids <= accounts
    follower, followee = aliased(User), aliased(User)
    follow_times = await session.execute(
        select(Follow.timestamp, follower.member_since, followee.member_since)
        .join(follower, follower.id == Follow.follower_id)
        .join(followee, followee.id == Follow.followed_id)
    )
    for moment, follower_joined, followee_joined in follow_times:
        # Not before either had joined.
        joined = max(as_utc(follower_joined), as_utc(followee_joined))
        assert joined <= as_utc(moment) <= finished

    comment_times = (
        await session.execute(
            select(Comment, Post.timestamp, User.member_since)
            .join(Post, Post.id == Comment.post_id)
            .join(User, User.id == Comment.author_id)
        )
    ).all()
    assert len(comment_times) == 80
    for comment, posted, joined in comment_times:
        assert as_utc(posted) <= as_utc(comment.timestamp) <= finished
        assert as_utc(joined) <= as_utc(comment.timestamp)
        assert comment.author_id in accounts
        # Stored as the app stores a comment: the smaller allow-list, inline.
        assert comment.body_html == markdown_to_html(comment.body, tags=COMMENT_TAGS)
        assert "<p>" not in comment.body_html
    comments = [comment for comment, _posted, _joined in comment_times]
    assert any("<em>" in c.body_html or "<strong>" in c.body_html for c in comments)
    assert len({c.post_id for c in comments}) > 10
    assert len({c.author_id for c in comments}) > 4


async def test_follows_are_capped_by_the_accounts_there_are_and_only_new_ones_follow(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    first = await run_quart(
        database_url, "fake", "--users", "4", "--posts", "0", "--follows", "10"
    )
    assert "Added 4 users, 0 posts, 12 follows and 0 comments." in first.stdout
    earlier = await follows_by_follower(session)
    assert all(len(followed_ids) == 3 for followed_ids in earlier.values())
    await session.commit()

    second = await run_quart(
        database_url, "fake", "--users", "2", "--posts", "0", "--follows", "10"
    )
    assert "Added 2 users, 0 posts, 10 follows and 0 comments." in second.stdout
    followed = await follows_by_follower(session)
    newcomers = set(followed) - set(earlier)
    assert len(newcomers) == 2
    for follower_id in newcomers:
        assert len(followed[follower_id]) == 5  # every other account
        assert follower_id not in followed[follower_id]
    assert {k: v for k, v in followed.items() if k in earlier} == earlier


async def what_was_made(session: AsyncSession) -> tuple[list[Any], list[Any]]:
    """The follows and comments by usernames and bodies, not ids or times."""
    follower, followee = aliased(User), aliased(User)
    follows = await session.execute(
        select(follower.username, followee.username)
        .select_from(Follow)
        .join(follower, follower.id == Follow.follower_id)
        .join(followee, followee.id == Follow.followed_id)
    )
    comments = await session.execute(
        select(User.username, Post.body, Comment.body, Comment.disabled)
        .join(User, User.id == Comment.author_id)
        .join(Post, Post.id == Comment.post_id)
    )
    made = sorted(map(tuple, follows)), sorted(map(tuple, comments))
    await session.commit()
    return made


async def test_the_same_seed_on_an_empty_store_makes_the_same_follows_and_comments(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    options = ("--users", "6", "--posts", "10", "--follows", "2", "--comments", "15")
    runs = []
    for _run in range(2):
        result = await run_quart(database_url, "fake", *options, "--seed", "21")
        assert "Added 6 users, 10 posts, 12 follows and 15 comments." in result.stdout
        runs.append(await what_was_made(session))
        async with writing(session):  # the users' rows go with them
            await session.execute(delete(User))
    assert runs[0] == runs[1]
    assert len(runs[0][0]) == 12 and len(runs[0][1]) == 15


async def test_comments_without_posts_are_refused(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    await run_quart(database_url, "fake", "--users", "2", "--posts", "0")
    result = await run_quart(
        database_url, "fake", "--users", "0", "--posts", "0", "--comments", "5"
    )
    assert result.returncode == 1
    assert_one_error_line(
        result.stderr, "there are no posts to comment on: add some with --posts"
    )
    assert await count(session, Comment) == 0


@pytest.mark.parametrize(
    ("drawn", "username"),
    [
        ("ashleypham", "ashleypham"),
        ("o'brien-smith", "obriensmith"),
        ("_42.jo_nes", "jo_nes"),
        ("2020", "user"),
        ("zoë.ünal", "zo.nal"),
    ],
)
def test_a_drawn_name_is_made_a_valid_username(drawn: str, username: str) -> None:
    assert sanitize_username(drawn) == username
    assert re.match(USERNAME_PATTERN, username)
