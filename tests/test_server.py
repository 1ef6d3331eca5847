"""hypercorn serving quarty as deployed (`python -m quarty.serving`): the name form
over real HTTP, a graceful SIGTERM, and the start-ups it refuses."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.helpers import csrf_token_in, user_exists
from tests.servers import (
    HYPERCORN_TOML,
    Hypercorn,
    deploy,
    deployment_environment,
    poll_until,
    post_name_form,
)

pytestmark = pytest.mark.server

STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[Hypercorn]:
    """`python -m quarty.serving` on a deployed database."""
    environment = deployment_environment(database_url)
    await deploy(environment, tmp_path)
    async with Hypercorn(environment, tmp_path / "hypercorn.log") as server:
        yield server


async def test_hypercorn_serves_the_name_form_with_its_css(server: Hypercorn) -> None:
    assert len(server.worker_pids()) == 2
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.get("/")
        assert page.status_code == 200
        assert "What is your name?" in page.text
        for href in STYLESHEET.findall(page.text):
            stylesheet = await client.get(href)
            assert stylesheet.status_code == 200, href
            assert stylesheet.headers["content-type"].startswith("text/css")

        response = await post_name_form(client, "Ada", follow=False)
        assert response.status_code == 302
        assert response.headers["location"] == "/"
        greeting = await client.get("/")
        assert "Hello, Ada!" in greeting.text
        assert "Pleased to meet you!" in greeting.text

        again = await post_name_form(client, "Ada")
        assert "Happy to see you again!" in again.text

    assert await server.stop() == 0
    assert '"POST / 1.1" 302' in server.log
    assert "Traceback" not in server.log


async def _send_headers_expecting_continue(
    server: Hypercorn, cookies: httpx.Cookies, body: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a POST of the name form whose body waits for the server's go-ahead.

    The server answers `Expect: 100-continue` once it has parsed the request,
    so the request is known to be in flight when this returns.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\n"
        "Expect: 100-continue\r\n\r\n"
    )
    writer.write(head.encode())
    await writer.drain()
    interim = await reader.readuntil(b"\r\n\r\n")
    assert interim.startswith(b"HTTP/1.1 100 "), interim
    return reader, writer


async def test_sigterm_lets_an_in_flight_request_finish_then_exits_0(
    server: Hypercorn, database_url: str
) -> None:
    workers = server.worker_pids()
    assert len(workers) == 2
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.get("/")
        body = urlencode({"csrf_token": csrf_token_in(page.text), "name": "Grace"})
        reader, writer = await _send_headers_expecting_continue(
            server, client.cookies, body.encode()
        )
    try:
        server.terminate()
        # The idle worker exits first; hypercorn then signals the busy one too,
        # which must still answer the request it holds.
        await poll_until(lambda: len(server.worker_pids()) < len(workers))
        assert server.process is not None and server.process.poll() is None

        writer.write(body.encode())
        await writer.drain()
        response = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()

    assert response.startswith(b"HTTP/1.1 302 "), response
    assert await server.wait() == 0
    assert "Traceback" not in server.log
    assert await user_exists(database_url, "Grace")


class PlainHypercorn(Hypercorn):
    """hypercorn's own command line with hypercorn.toml, as the README gives it."""

    def command(self) -> list[str]:
        return [
            str(Path(sys.executable).parent / "hypercorn"),
            "--config",
            str(HYPERCORN_TOML),
            "--bind",
            f"127.0.0.1:{self.port}",
            "quarty.asgi:app",
        ]


async def test_hypercorns_own_command_serves_with_the_same_settings(
    database_url: str, tmp_path: Path
) -> None:
    environment = deployment_environment(database_url)
    await deploy(environment, tmp_path)
    async with PlainHypercorn(environment, tmp_path / "hypercorn.log") as server:
        assert len(server.worker_pids()) == 2
        async with httpx.AsyncClient(base_url=server.url) as client:
            page = await client.get("/")
        assert "What is your name?" in page.text
        assert await server.stop() == 0
