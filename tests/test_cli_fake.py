"""`quart --app quarty fake`, run as a developer runs it.

The app fixture makes the tables (without roles) on the database the command
is pointed at; what the command added is read back through the app.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from quart import Quart
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.cli.fake import sanitize_username
from quarty.mail.outbox import as_utc
from quarty.models import USERNAME_PATTERN, Post, User
from quarty.services import operators, roles
from quarty.text.markdown import markdown_to_html
from tests.accounts import log_in
from tests.helpers import client_of, run_quart

LOG_IN_LINE = "Log in as any of them with the password 'password'."


async def count(session: AsyncSession, model: type[User] | type[Post]) -> int:
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
    assert "Added 12 users and 60 posts." in result.stdout
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
        assert "Added 15 users and 5 posts." in result.stdout
    accounts = await operators.list_accounts(session)
    assert len(accounts) == 30
    assert len({a.username for a in accounts}) == len({a.email for a in accounts}) == 30
    assert await count(session, Post) == 10


async def test_posts_alone_go_to_the_accounts_there_are(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    assert (
        await run_quart(database_url, "fake", "--users", "3", "--posts", "0")
    ).stdout
    result = await run_quart(database_url, "fake", "--users", "0", "--posts", "30")
    assert result.returncode == 0, result.stderr
    assert "Added 0 users and 30 posts." in result.stdout
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
