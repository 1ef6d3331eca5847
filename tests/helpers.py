"""Small helpers the tests share."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy.ext.asyncio import AsyncSession

from quarty import create_app
from quarty.db import EXTENSION_KEY, Database
from quarty.mail import outbox
from quarty.models import Base
from quarty.services import accounts

ROOT = Path(__file__).resolve().parent.parent
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token_in(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_INPUT.search(html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "the page has no CSRF token"
    return match.group(1)


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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    For servers that cannot take port 0 (aiosmtpd's Controller connects to its
    own port to check that it is up) or whose port must be known in advance.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serve_in_process(app: Quart) -> AsyncIterator[str]:
    """Serve an app (not yet started) with hypercorn on 127.0.0.1; yield its URL."""
    config = HypercornConfig()
    port = free_port()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):  # wait until it accepts connections
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                if server.done():
                    server.result()
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            break
        yield base_url
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
async def started_app(settings: dict[str, object]) -> AsyncIterator[Quart]:
    """A testing app on these settings, its tables made, serving until the exit.

    Leaving the block runs the app's shutdown, as a stopping server does.
    """
    app = create_app("testing", **settings)
    await create_tables(app)
    async with app.test_app():
        yield app


def run_console_script(
    database_url: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a console script of the venv (quart, alembic) from the repository root,
    with the testing config on this database; the result is checked by the caller."""
    environment = {
        **os.environ,
        "QUARTY_CONFIG": "testing",
        "TEST_DATABASE_URL": database_url,
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
