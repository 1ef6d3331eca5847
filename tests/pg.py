"""A throwaway PostgreSQL server for the test suite, and a database per test.

`initdb` makes a cluster in a temporary folder, `pg_ctl` starts it on 127.0.0.1
and a free port, and stopping it deletes the folder. Run any command against it:

    .venv/bin/python tests/pg.py .venv/bin/pytest -q

The command sees the server's admin URL in QUARTY_TEST_POSTGRES_URL; the test
fixtures then give every test a database of its own (see tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

#: The admin URL of a PostgreSQL server the tests may create databases on.
POSTGRES_URL_ENV = "QUARTY_TEST_POSTGRES_URL"

#: Runs as this system user when started by root (initdb refuses root).
SERVER_USER = "postgres"

# Durability is worthless for a cluster deleted at the end; speed is not.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
}

T = TypeVar("T")


class PostgresError(RuntimeError):
    """The throwaway server could not be made or started."""


def admin_url_from_environment() -> str | None:
    """The server of the PostgreSQL pass (see main()), or None in the SQLite pass."""
    return os.environ.get(POSTGRES_URL_ENV) or None


def find_bin_dir() -> Path:
    """The folder with initdb and pg_ctl: $PG_BIN, else Debian's newest, else PATH."""
    if explicit := os.environ.get("PG_BIN"):
        return Path(explicit)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: (
            int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0
        ),
    )
    if debian:
        return debian[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PostgresError(
        "PostgreSQL's initdb was not found: apt-get install postgresql "
        "(or set PG_BIN to the folder holding initdb and pg_ctl)"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary folder, gone after stop()."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        self.data_dir: Path | None = None
        self.port: int | None = None
        self._run_as = self._server_user()

    @property
    def admin_url(self) -> str:
        """The asyncpg URL of the `postgres` database, as the superuser."""
        if self.port is None:
            raise PostgresError("the server is not running")
        return f"postgresql+asyncpg://{SERVER_USER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        """Make the cluster, start the server and return its admin URL."""
        root = Path(tempfile.mkdtemp(prefix="quarty-pg-", dir=self._parent_dir()))
        self.data_dir = root / "data"
        try:
            if self._run_as is not None:
                os.chown(root, self._run_as.pw_uid, self._run_as.pw_gid)
            self._run(
                "initdb",
                "--pgdata",
                str(self.data_dir),
                "--username",
                SERVER_USER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
                "--no-instructions",
            )
            self._start_on_a_free_port()
        except BaseException:
            self._remove(root)
            raise
        return self.admin_url

    def stop(self) -> None:
        """Stop the server (if running) and delete its folder."""
        if self.data_dir is None:
            return
        root = self.data_dir.parent
        if self.port is not None:
            with contextlib.suppress(PostgresError):
                self._pg_ctl("-m", "fast", "-w", "stop")
        self._remove(root)
        self.data_dir = None
        self.port = None

    def __enter__(self) -> ThrowawayPostgres:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _start_on_a_free_port(self, attempts: int = 3) -> None:
        assert self.data_dir is not None
        log = self.data_dir.parent / "server.log"
        for attempt in range(attempts):
            port = free_port()
            settings = {**SERVER_SETTINGS, "port": str(port)}
            options = " ".join(f"-c {key}={value}" for key, value in settings.items())
            try:
                self._pg_ctl(
                    "--log", str(log), "-w", "-t", "60", "-o", options, "start"
                )
            except PostgresError:
                # Another process may have taken the port in between: try anew.
                if attempt == attempts - 1:
                    raise
                continue
            self.port = port
            return

    def _pg_ctl(self, *args: str) -> None:
        assert self.data_dir is not None
        self._run("pg_ctl", "--pgdata", str(self.data_dir), *args)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if self._run_as is not None:
            command = ["runuser", "-u", self._run_as.pw_name, "--", *command]
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            log = ""
            if self.data_dir is not None:
                server_log = self.data_dir.parent / "server.log"
                if server_log.exists():
                    log = server_log.read_text(errors="replace")
            raise PostgresError(
                f"{program} failed ({result.returncode}):\n{result.stdout}\n{log}"
            )

    @staticmethod
    def _server_user() -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise PostgresError(
                f"running as root needs a {SERVER_USER!r} system user for the "
                "server (apt-get install postgresql makes one)"
            ) from None

    def _parent_dir(self) -> Path:
        """The temporary folder, if the server's user can reach it; else /tmp."""
        parent = Path(tempfile.gettempdir()).resolve()
        if self._run_as is None:
            return parent
        # Every folder on the way must let others through (the x bit).
        if all(folder.stat().st_mode & 0o001 for folder in (parent, *parent.parents)):
            return parent
        return Path("/tmp")

    @staticmethod
    def _remove(root: Path) -> None:
        shutil.rmtree(root, ignore_errors=True)


# -- a database per test ------------------------------------------------------

_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _run_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a private event loop, away from the test's own loop."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="quarty-pg-admin")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


def _dsn(url: str) -> str:
    """A SQLAlchemy URL as the plain DSN asyncpg takes."""
    return re.sub(r"^postgresql\+asyncpg://", "postgresql://", url)


def database_url(admin_url: str, name: str) -> str:
    """The URL of another database on the same server."""
    return admin_url.rsplit("/", 1)[0] + "/" + name


async def _execute(admin_url: str, *statements: str) -> None:
    connection = await asyncpg.connect(_dsn(admin_url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def create_database(admin_url: str, prefix: str = "quarty_test") -> str:
    """Create an empty database with a unique name; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    if not _SAFE_NAME.match(name):
        raise ValueError(f"not a safe database name: {name!r}")
    _run_in_thread(_execute(admin_url, f'CREATE DATABASE "{name}"'))
    return database_url(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    """Drop a database made by create_database, closing its leftover connections."""
    name = url.rsplit("/", 1)[1]
    if not _SAFE_NAME.match(name):
        raise ValueError(f"not a safe database name: {name!r}")
    _run_in_thread(
        _execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    )


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """An empty database for the duration of the block."""
    url = create_database(admin_url)
    try:
        yield url
    finally:
        drop_database(admin_url, url)


def main(argv: list[str]) -> int:
    """Start a throwaway server, run a command against it, stop the server."""
    if not argv:
        print("usage: python tests/pg.py COMMAND [ARGS...]", file=sys.stderr)
        return 2
    server = ThrowawayPostgres()
    try:
        admin_url = server.start()
        print(f"==> throwaway PostgreSQL on port {server.port}", flush=True)
        environment = {**os.environ, POSTGRES_URL_ENV: admin_url}
        return subprocess.call(argv, env=environment)
    except KeyboardInterrupt:
        return 130
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
