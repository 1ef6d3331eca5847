"""Small helpers the tests share."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from quart import Blueprint, Quart
from quart.testing import QuartClient
from sqlalchemy.ext.asyncio import AsyncSession

from quarty import create_app
from quarty.db import EXTENSION_KEY, Database
from quarty.mail import outbox
from quarty.models import Base
from quarty.services import accounts

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CSRF_INPUT = re.compile(r'<input (?=[^>]*name="csrf_token")[^>]*value="([^"]+)"[^>]*>')


def csrf_token_in(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def client_of(app: Quart) -> QuartClient:
    """The app's test client, typed as the QuartClient it is (Quart's own
    signature promises only its protocol)."""
    client = app.test_client()
    assert isinstance(client, QuartClient)
    return client


async def get_csrf_token(client: QuartClient, path: str = "/") -> str:
    """GET a page and return its form's CSRF token (the session cookie is kept)."""
    response = await client.get(path)
    assert response.status_code == 200
    return csrf_token_in(await response.get_data(as_text=True))


async def submit_name(client: QuartClient, name: str, *, follow: bool = False) -> str:
    """Submit the name form as a browser would; return the final page's HTML."""
    token = await get_csrf_token(client)
    response = await client.post(
        "/", form={"name": name, "csrf_token": token}, follow_redirects=follow
    )
    return await response.get_data(as_text=True)


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing is bound to at this moment."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def start_on_a_free_port(start: Callable[[int], T], *, attempts: int = 3) -> T:
    """Return start(port) on a free port; on EADDRINUSE, again on another one.

    For servers that bind a port of their own (a process, aiosmtpd's Controller,
    which cannot take port 0): another process may take the port between its
    pick and their bind. `start` raises OSError(EADDRINUSE) when it did.
    """
    for attempt in range(1, attempts + 1):
        try:
            return start(_free_port())
        except OSError as error:
            if error.errno != errno.EADDRINUSE or attempt == attempts:
                raise
    raise AssertionError("not reached")


def raise_if_address_in_use(output: str) -> None:
    """Raise OSError(EADDRINUSE) if a server's output says its port was taken."""
    if "address already in use" in output.lower():
        raise OSError(errno.EADDRINUSE, "address already in use", output)


@contextlib.contextmanager
def reserved_port() -> Iterator[int]:
    """A port on 127.0.0.1 held until the block ends, where connections are refused.

    The socket is bound with SO_REUSEADDR and never listens: no other process
    can bind the port meanwhile, but a server started in the block can, as
    asyncio's servers (aiosmtpd's too) bind with SO_REUSEADDR as well (Linux).
    """
    with socket.socket() as reservation:
        reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        reservation.bind((HOST, 0))
        port: int = reservation.getsockname()[1]
        yield port


@contextlib.asynccontextmanager
async def serve_in_process(app: Quart) -> AsyncIterator[str]:
    """Serve an app (not yet started) with hypercorn on 127.0.0.1; yield its URL.

    Hypercorn is handed a socket already listening on a port of its own, so no
    other process can take the port, and a request made before the app's
    startup ends waits for it.
    """
    listener = socket.create_server((HOST, 0))
    port = listener.getsockname()[1]
    config = HypercornConfig()
    # The file descriptor is hypercorn's from here on: it closes it at shutdown.
    config.bind = [f"fd://{listener.detach()}"]
    config.accesslog = None
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        yield f"http://{HOST}:{port}"
    finally:
        stop.set()
        await asyncio.wait_for(server, timeout=30)


@contextlib.asynccontextmanager
async def session_on(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session on an engine of its own, disposed at the end.

    For reading what a server or a stopped app left in the database.
    """
    database = Database(database_url)
    try:
        async with database.sessionmaker() as session:
            yield session
    finally:
        await database.dispose()


async def user_exists(database_url: str, username: str) -> bool:
    """Whether the database at this URL holds a user by that name."""
    async with session_on(database_url) as session:
        user = await accounts.get_user_by_username(session, username=username)
        return user is not None


async def outbox_counts(database_url: str) -> dict[str, int]:
    """The outbox of the database at this URL: how many messages per status."""
    async with session_on(database_url) as session:
        return await outbox.count_by_status(session)


def app_database(app: Quart) -> Database:
    """The Database (engine, session factory) an app owns."""
    database: Database = app.extensions[EXTENSION_KEY]
    return database


async def create_tables(app: Quart) -> None:
    """Make the tables that are missing (several apps may share one database)."""
    async with app_database(app).engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)


@contextlib.asynccontextmanager
async def started_app(
    settings: dict[str, object], *, blueprints: Iterable[Blueprint] = ()
) -> AsyncIterator[Quart]:
    """A testing app on these settings, its tables made, serving until the exit.

    `blueprints` (test-only views) are registered before the app starts.
    Leaving the block runs the app's shutdown, as a stopping server does.
    """
    app = create_app("testing", **settings)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    await create_tables(app)
    async with app.test_app():
        yield app


def run_console_script(
    database_url: str,
    *args: str,
    stdin: str | None = None,
    extra_environment: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a console script of the venv (quart, alembic) from the repository root,
    with the testing config on this database (and any extra environment
    variables); the result is checked by the caller."""
    environment = {
        **os.environ,
        "QUARTY_CONFIG": "testing",
        "TEST_DATABASE_URL": database_url,
        **(extra_environment or {}),
    }
    return subprocess.run(
        [str(Path(sys.executable).parent / args[0]), *args[1:]],
        cwd=ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def run_quart(
    database_url: str,
    *args: str,
    stdin: str = "",
    extra_environment: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`quart --app quarty ARGS` on this database, in a thread so the test's
    loop runs on; stdin is a pipe holding `stdin`."""
    return await asyncio.to_thread(
        run_console_script,
        database_url,
        *("quart", "--app", "quarty", *args),
        stdin=stdin,
        extra_environment=extra_environment,
    )
