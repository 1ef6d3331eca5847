"""A fresh, migrated and seeded database for one benchmark run, its fake accounts,
posts, follows and comments, and the bench's own accounts.

SQLite: a file in the run's temporary folder. PostgreSQL: a throwaway cluster
(initdb + pg_ctl) on a free loopback port, removed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from scenarios import SEED_NAME_FORMAT
from servers import BIN, raise_if_address_in_use, start_on_a_free_port
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from quarty.db import Database
from quarty.db.migrations import upgrade
from quarty.models import Role, User
from quarty.services import roles as roles_service


def _role_for(index: int) -> str:
    # 1% administrators, 9% moderators, the rest plain users.
    if index % 100 == 0:
        return "Administrator"
    if index % 10 == 0:
        return "Moderator"
    return "User"


async def _seed(url: str, users: int) -> None:
    database = Database(url)
    try:
        async with database.sessionmaker() as session:
            await roles_service.insert_default_roles(session)
            role_ids = {
                role.name: role.id for role in (await session.scalars(select(Role)))
            }
            rows = [
                {
                    "username": SEED_NAME_FORMAT % index,
                    "role_id": role_ids[_role_for(index)],
                }
                for index in range(1, users + 1)
            ]
            await session.execute(insert(User), rows)
            await session.commit()
    finally:
        await database.dispose()


def prepare(url: str, *, users: int) -> None:
    """Migrate an empty database to head and seed it with users across the roles."""
    upgrade(url)
    asyncio.run(_seed(url, users))


def create_account(
    env: Mapping[str, str], workdir: Path, *, email: str, username: str, password: str
) -> None:
    """Add a confirmed account as an operator does, the password on stdin.

    Run with the server's environment, so that the hash has the cost the
    server checks it at, and no login spends time re-hashing it.
    """
    _quart(
        env, workdir, "users", "create", "--email", email, "--username", username,
        stdin=password + "\n",
    )  # fmt: skip


def set_role(env: Mapping[str, str], workdir: Path, *, email: str, role: str) -> None:
    """Give an account a role, as an operator does."""
    _quart(env, workdir, "users", "set-role", email, role)


def add_fake_data(
    env: Mapping[str, str],
    workdir: Path,
    *,
    accounts: int,
    posts: int,
    follows: int,
    comments: int,
    seed: int,
) -> None:
    """Add made-up accounts, posts, follows (per account) and comments with
    `quart --app quarty fake`.

    `env` must name a config the command accepts (not production), on the
    bench's database.
    """
    _quart(
        env, workdir, "fake", "--users", str(accounts), "--posts", str(posts),
        "--follows", str(follows), "--comments", str(comments), "--seed", str(seed),
    )  # fmt: skip


def _quart(
    env: Mapping[str, str], workdir: Path, *args: str, stdin: str | None = None
) -> None:
    completed = subprocess.run(
        [str(BIN / "quart"), "--app", "quarty", *args],
        input=stdin,
        env=dict(env),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if completed.returncode != 0:
        command = " ".join(args[:2]) if args[0] == "users" else args[0]
        raise RuntimeError(
            f"`quart --app quarty {command}` failed: {completed.stderr.strip()}"
        )


def sqlite_url(folder: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{folder / name}"


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}")):
        return str(candidate)
    raise RuntimeError(
        f"PostgreSQL's {name} is not installed (apt-get install postgresql)"
    )


class PostgresCluster:
    """A PostgreSQL cluster of its own, listening on 127.0.0.1 only."""

    def __init__(self, folder: Path) -> None:
        # Its own folder: the server's user must reach it, unlike the run's 0700 one.
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = 0  # chosen by start()
        self.user = "quarty"
        # initdb and postgres refuse to run as root: run them as `postgres` then.
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        completed = subprocess.run(
            [*self.as_user, *command], capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"{Path(command[0]).name} failed: "
                f"{completed.stderr.strip() or completed.stdout.strip()}"
            )

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(
            _pg_bin("initdb"), "-D", str(self.data), "-U", self.user,
            "--auth=trust", "--encoding=UTF8", "--no-sync",
        )  # fmt: skip
        self.port = start_on_a_free_port(self._start_on)

    def _start_on(self, port: int) -> int:
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 "
            f"-k {self.folder} -c max_connections=200 -c fsync=off"
        )
        log = self.folder / "postgres.log"
        log.unlink(missing_ok=True)  # what this attempt says, not the last one
        try:
            self._run(
                _pg_bin("pg_ctl"), "-D", str(self.data), "-o", options,
                "-l", str(log), "-w", "start",
            )  # fmt: skip
        except RuntimeError:
            raise_if_address_in_use(log.read_text() if log.exists() else "")
            raise
        return port

    def create_database(self, name: str) -> str:
        self._run(
            _pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port),
            "-U", self.user, name,
        )  # fmt: skip
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, FileNotFoundError):
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")


@contextlib.contextmanager
def postgres_cluster(folder: Path) -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(folder)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def describe(url: str) -> str:
    """The URL without a password, for the report."""
    return make_url(url).render_as_string(hide_password=True)
