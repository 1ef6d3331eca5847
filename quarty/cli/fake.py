"""`quart --app quarty fake`: made-up accounts, posts, follows and comments to
try the app with (the book's app/fake.py). The command and the accounts are
here; what the accounts do is in fake_activity.

Every fake account has the password "password", hashed once and shared: a hash
at the production cost takes about 0.2 s of CPU, so one per account would make
100 accounts take 20 s. The rows go in with one INSERT per batch.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click
from quart import Quart
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from quarty.cli import fake_activity
from quarty.cli.fake_activity import YEAR
from quarty.cli.running import fail, run_in_session
from quarty.config import ProductionConfig, select_config
from quarty.db import writing
from quarty.models import (
    LOCATION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    Role,
    User,
)
from quarty.security.passwords import get_passwords

if TYPE_CHECKING:
    from faker import Faker

# The book's password for its fake users: they are for trying the app locally.
PASSWORD = "password"
BATCH_SIZE = 200
# Rounds of drawing names before giving up; from the third, each name gets a
# random number, so a run seeded like an earlier one still finds free names.
NAME_ROUNDS = 20
PLAIN_NAME_ROUNDS = 2
# A batch whose names another writer took meanwhile is drawn again this often.
INSERT_ATTEMPTS = 3
_NOT_IN_USERNAME = re.compile(r"[^A-Za-z0-9_.]")


class FakeDataError(Exception):
    """The command cannot go on; str() says why and what to do."""


def init_app(app: Quart) -> None:
    """Add the `fake` command to the app's CLI."""

    @app.cli.command("fake")
    @click.option(
        "--users",
        "user_count",
        type=click.IntRange(min=0),
        default=100,
        show_default=True,
        help="Confirmed accounts to add.",
    )
    @click.option(
        "--posts",
        "post_count",
        type=click.IntRange(min=0),
        default=1000,
        show_default=True,
        help="Posts to add, by random accounts.",
    )
    @click.option(
        "--follows",
        "follows_per_user",
        type=click.IntRange(min=0),
        default=10,
        show_default=True,
        help="Random other accounts each new account follows (all of them "
        "if there are fewer).",
    )
    @click.option(
        "--comments",
        "comment_count",
        type=click.IntRange(min=0),
        help="Comments to add, by random accounts on random posts.  "
        "[default: twice --posts]",
    )
    @click.option("--seed", type=int, help="Make the run reproducible.")
    def fake_command(
        user_count: int,
        post_count: int,
        follows_per_user: int,
        comment_count: int | None,
        seed: int | None,
    ) -> None:
        """Add made-up accounts, posts, follows and comments to try the app with
        (not in production).

        The accounts are confirmed, have the default role and all share the
        password 'password'. The posts are by random accounts, over the last
        year. Names already taken are drawn again. Only the new accounts
        follow others; comments come after their post.
        """
        if select_config(None) is ProductionConfig:
            fail(
                "the fake command adds accounts with a known password; "
                "it does not run with QUARTY_CONFIG=production"
            )
        try:
            from faker import Faker
        except ImportError:
            fail("the fake command needs Faker: pip install 'quarty[dev]'")
        faker = Faker()
        if seed is not None:
            faker.seed_instance(seed)
        fakes = Fakes(faker, random.Random(seed), datetime.now(UTC))

        if comment_count is None:
            comment_count = 2 * post_count

        async def add(session: AsyncSession) -> tuple[int, int, int, int]:
            users = await add_users(session, fakes, count=user_count)
            posts = await fake_activity.add_posts(session, fakes, count=post_count)
            follows = await fake_activity.add_follows(
                session, fakes, followers=users, per_user=follows_per_user
            )
            comments = await fake_activity.add_comments(
                session, fakes, count=comment_count
            )
            return len(users), posts, follows, comments

        try:
            users, posts, follows, comments = run_in_session(app, add)
        except (FakeDataError, fake_activity.MissingRowsError) as refused:
            fail(str(refused))
        click.echo(
            f"Added {_count(users, 'user')}, {_count(posts, 'post')}, "
            f"{_count(follows, 'follow')} and {_count(comments, 'comment')}."
        )
        if users:
            click.echo(f"Log in as any of them with the password '{PASSWORD}'.")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def sanitize_username(name: str) -> str:
    """Faker's user name as USERNAME_PATTERN has it: a letter first, then only
    letters, digits, dots and underscores."""
    name = _NOT_IN_USERNAME.sub("", name).lstrip("0123456789_.")
    return (name or "user")[:USERNAME_MAX_LENGTH]


class Fakes:
    """Draws the made-up data: Faker for the words, `rng` for the choices."""

    def __init__(self, faker: Faker, rng: random.Random, now: datetime) -> None:
        self.faker = faker
        self.rng = rng
        self.now = now

    def username(self, round_number: int) -> str:
        name = sanitize_username(self.faker.user_name())
        if round_number < PLAIN_NAME_ROUNDS:
            return name
        number = str(self.rng.randint(10, 99_999))
        return name[: USERNAME_MAX_LENGTH - len(number)] + number

    def email(self, round_number: int) -> str:
        # example.com/.org/.net: no mail to these can reach a real person.
        email = self.faker.safe_email().lower()
        if round_number < PLAIN_NAME_ROUNDS:
            return email
        local, _, domain = email.partition("@")
        return f"{local}{self.rng.randint(10, 99_999)}@{domain}"

    def user_row(
        self, username: str, email: str, *, role_id: int, password_hash: str
    ) -> dict[str, Any]:
        # Members for a year or two, so that a post's time can follow its
        # author's joining and still be any time in the last year.
        member_since = self.now - YEAR - self.rng.random() * YEAR
        return {
            "username": username,
            "email": email,
            "password_hash": password_hash,
            "confirmed": True,
            "role_id": role_id,
            "name": self.faker.name()[:NAME_MAX_LENGTH],
            "location": self.faker.city()[:LOCATION_MAX_LENGTH],
            "about_me": self.faker.text(),
            "member_since": member_since,
            "last_seen": self.now - self.rng.random() * timedelta(days=30),
        }


async def add_users(session: AsyncSession, fakes: Fakes, *, count: int) -> list[int]:
    """Add `count` confirmed accounts with the default role; their ids."""
    if not count:
        return []
    default_role = select(Role.id).where(Role.default.is_(True))
    role_id = (await session.execute(default_role)).scalar()
    if role_id is None:
        raise FakeDataError(
            "there are no roles yet: run `quart --app quarty deploy` first"
        )
    password_hash = await get_passwords().hash(PASSWORD)
    added: list[int] = []
    with click.progressbar(length=count, label="Adding users") as progress:
        while len(added) < count:
            size = min(BATCH_SIZE, count - len(added))
            added += await _insert_users(
                session, fakes, size, role_id=role_id, password_hash=password_hash
            )
            progress.update(size)
    return added


async def _insert_users(
    session: AsyncSession, fakes: Fakes, size: int, *, role_id: int, password_hash: str
) -> list[int]:
    for _attempt in range(INSERT_ATTEMPTS):
        try:
            # Names are checked in the write transaction: on SQLite nobody can
            # take one meanwhile; on PostgreSQL a race ends in IntegrityError.
            async with writing(session):
                rows = [
                    fakes.user_row(
                        username, email, role_id=role_id, password_hash=password_hash
                    )
                    for username, email in await _free_names(session, fakes, size)
                ]
                ids = await session.scalars(insert(User).returning(User.id), rows)
            return sorted(ids)
        except IntegrityError:
            continue
    raise FakeDataError("other writers kept taking the names drawn; try again")


async def _free_names(
    session: AsyncSession, fakes: Fakes, size: int
) -> list[tuple[str, str]]:
    """`size` usernames and emails that no user has, nor each other."""
    chosen: list[tuple[str, str]] = []
    usernames: set[str] = set()
    emails: set[str] = set()
    for round_number in range(NAME_ROUNDS):
        wanted = size - len(chosen)
        if not wanted:
            break
        drawn = [
            (fakes.username(round_number), fakes.email(round_number))
            for _ in range(wanted)
        ]
        usernames |= await _taken(session, User.username, [name for name, _ in drawn])
        emails |= await _taken(session, User.email, [email for _, email in drawn])
        for username, email in drawn:
            if username not in usernames and email not in emails:
                chosen.append((username, email))
                usernames.add(username)
                emails.add(email)
    if len(chosen) < size:
        raise FakeDataError("could not draw enough free usernames and emails")
    return chosen


async def _taken(
    session: AsyncSession, column: QueryableAttribute[Any], values: Sequence[str]
) -> set[str]:
    rows = await session.execute(select(column).where(column.in_(values)))
    return set(rows.scalars())
