"""`quart --app quarty fake`: made-up accounts and posts to try the app with
(the book's app/fake.py).

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

from quarty.cli.running import fail, run_in_session
from quarty.config import ProductionConfig, select_config
from quarty.db import writing
from quarty.mail.outbox import as_utc
from quarty.models import (
    LOCATION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    Post,
    Role,
    User,
)
from quarty.security.passwords import get_passwords
from quarty.text.markdown import markdown_to_html

if TYPE_CHECKING:
    from faker import Faker

# The book's password for its fake users: they are for trying the app locally.
PASSWORD = "password"
BATCH_SIZE = 200
YEAR = timedelta(days=365)
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
    @click.option("--seed", type=int, help="Make the run reproducible.")
    def fake_command(user_count: int, post_count: int, seed: int | None) -> None:
        """Add made-up accounts and posts to try the app with (not in production).

        The accounts are confirmed, have the default role and all share the
        password 'password'. The posts are by random accounts, over the last
        year. Names already taken are drawn again.
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

        async def add(session: AsyncSession) -> tuple[int, int]:
            users = await add_users(session, fakes, count=user_count)
            posts = await add_posts(session, fakes, count=post_count)
            return users, posts

        try:
            users, posts = run_in_session(app, add)
        except FakeDataError as refused:
            fail(str(refused))
        click.echo(f"Added {_count(users, 'user')} and {_count(posts, 'post')}.")
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

    def post_body(self) -> str:
        """A few paragraphs; some with a little Markdown."""
        paragraphs = [
            self.faker.paragraph(nb_sentences=self.rng.randint(2, 6))
            for _ in range(self.rng.randint(1, 3))
        ]
        flavour = self.rng.random()
        if flavour < 0.15:
            phrase = self.faker.sentence(nb_words=3).rstrip(".")
            paragraphs[0] += f" **{phrase}!**"
        elif flavour < 0.25:
            words = self.faker.words(self.rng.randint(2, 4))
            paragraphs.append("\n".join(f"- {word}" for word in words))
        elif flavour < 0.32:
            link = f"https://example.com/{self.faker.slug()}"
            paragraphs.append(f"More in [{self.faker.word()}]({link}).")
        elif flavour < 0.37:
            paragraphs.insert(0, f"## {self.faker.sentence(nb_words=4).rstrip('.')}")
        return "\n\n".join(paragraphs)

    def post_row(self, author_id: int, member_since: datetime) -> dict[str, Any]:
        earliest = max(as_utc(member_since), self.now - YEAR)
        body = self.post_body()
        return {
            "body": body,
            "body_html": markdown_to_html(body),
            "timestamp": earliest + self.rng.random() * (self.now - earliest),
            "author_id": author_id,
        }


async def add_users(session: AsyncSession, fakes: Fakes, *, count: int) -> int:
    """Add `count` confirmed accounts with the default role; how many were added."""
    if not count:
        return 0
    default_role = select(Role.id).where(Role.default.is_(True))
    role_id = (await session.execute(default_role)).scalar()
    if role_id is None:
        raise FakeDataError(
            "there are no roles yet: run `quart --app quarty deploy` first"
        )
    password_hash = await get_passwords().hash(PASSWORD)
    added = 0
    with click.progressbar(length=count, label="Adding users") as progress:
        while added < count:
            size = min(BATCH_SIZE, count - added)
            await _insert_users(
                session, fakes, size, role_id=role_id, password_hash=password_hash
            )
            added += size
            progress.update(size)
    return added


async def _insert_users(
    session: AsyncSession, fakes: Fakes, size: int, *, role_id: int, password_hash: str
) -> None:
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
                await session.execute(insert(User), rows)
            return
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


async def add_posts(session: AsyncSession, fakes: Fakes, *, count: int) -> int:
    """Add `count` posts by random accounts; how many were added."""
    if not count:
        return 0
    accounts = (
        await session.execute(
            select(User.id, User.member_since)
            .where(User.password_hash.is_not(None))
            .order_by(User.id)  # the same authors for the same seed
        )
    ).all()
    if not accounts:
        raise FakeDataError(
            "there are no accounts to write the posts: add some with --users "
            "or `quart --app quarty users create`"
        )
    added = 0
    with click.progressbar(length=count, label="Adding posts") as progress:
        while added < count:
            size = min(BATCH_SIZE, count - added)
            # Rendering is CPU work on the loop; nothing else runs on it here.
            rows = [fakes.post_row(*fakes.rng.choice(accounts)) for _ in range(size)]
            async with writing(session):
                await session.execute(insert(Post), rows)
            added += size
            progress.update(size)
    return added
