"""uvicorn serving quarty: `python -m quarty.serving.uvicorn` (2 workers, uvloop).

The production config on a deployed database, a real SMTP server, a SIGTERM as
a process manager sends it, and the start-up failures a deployer can cause.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import outbox_counts, user_exists
from tests.servers import (
    ROOT,
    SECRET_KEY,
    Uvicorn,
    deploy,
    deployment_environment,
    held_mail_environment,
    poll_until,
    post_name_form,
    run_command,
)
from tests.smtp import SmtpServer, gated_handler, joined_usernames

pytestmark = pytest.mark.server

# uvicorn's exit code (and gunicorn's) for a server that could not start.
STARTUP_FAILURE = 3


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[Uvicorn]:
    """`python -m quarty.serving.uvicorn` on a deployed database, no mail server."""
    environment = deployment_environment(database_url)
    await deploy(environment, tmp_path)
    async with Uvicorn(environment, tmp_path / "uvicorn.log") as server:
        yield server


# -- Requests held open in a chosen worker ----------------------------------


@dataclass
class HeldPost:
    """A POST whose headers the server has, its body not yet sent."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    body: bytes
    worker: int | None

    async def finish(self) -> bytes:
        """Send the body; return the whole response (the server closes after it)."""
        try:
            self.writer.write(self.body)
            await self.writer.drain()
            return await self.reader.read()
        finally:
            self.writer.close()
            await self.writer.wait_closed()

    async def abandon(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def _hold_api_post(server: Uvicorn, username: str) -> HeldPost:
    """Open POST /api/v1/users whose body waits for the server's go-ahead.

    The server answers `Expect: 100-continue` once the app reads the body, so
    the request is in flight in a worker when this returns.
    """
    body = json.dumps({"username": username}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    head = (
        f"POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        "Content-Type: application/json\r\nConnection: close\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    )
    writer.write(head.encode())
    await writer.drain()
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    assert interim.startswith(b"HTTP/1.1 100 "), interim
    client_port = writer.get_extra_info("sockname")[1]
    worker = _worker_holding(server, client_port)
    return HeldPost(reader, writer, body, worker)


def _worker_holding(server: Uvicorn, client_port: int) -> int | None:
    """Which worker process accepted the connection from this client port.

    The workers share one listening socket, so the kernel picks; the
    connection's socket inode is in /proc/net/tcp and in that worker's fds.
    """
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        if (local_port, remote_port) == (server.port, client_port):
            inode = fields[9]
    for pid in server.worker_pids():
        try:
            descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                if os.readlink(descriptor) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


async def _hold_one_post_per_worker(server: Uvicorn, name: str) -> list[HeldPost]:
    """A request in flight in each worker (connections go to either: try up to 40)."""
    workers = server.worker_pids()
    held: dict[int, HeldPost] = {}
    for attempt in range(40):
        post = await _hold_api_post(server, f"{name}{attempt}")
        if post.worker is None or post.worker in held:
            await post.abandon()
        else:
            held[post.worker] = post
        if set(held) == workers:
            return list(held.values())
    for post in held.values():
        await post.abandon()
    raise AssertionError(f"no request reached every worker: {sorted(held)}")


# -- Serving ----------------------------------------------------------------


async def test_uvicorn_serves_the_form_and_the_api_and_logs_no_secret(
    server: Uvicorn,
) -> None:
    assert len(server.worker_pids()) == 2
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await post_name_form(client, "Ada", follow=False)
        assert response.status_code == 302
        assert response.headers["location"] == "/"
        greeting = await client.get("/")
        assert "Hello, Ada!" in greeting.text
        assert "Pleased to meet you!" in greeting.text
        session_cookie = client.cookies["session"]

        # A client cannot pose as a proxy: X-Forwarded-* are not believed.
        created = await client.post(
            "/api/v1/users",
            json={"username": "Bo"},
            headers={
                "X-Forwarded-For": "203.0.113.9",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "evil.example",
            },
        )
        assert created.status_code == 201
        assert created.headers["location"].startswith(f"{server.url}/api/v1/users/")
        assert created.json()["url"].startswith(f"{server.url}/")

    assert await server.stop() == 0
    log = server.log
    assert re.search(r'127\.0\.0\.1:\d+ - "POST / HTTP/1\.1" 302', log), log
    assert re.search(r'127\.0\.0\.1:\d+ - "POST /api/v1/users HTTP/1\.1" 201', log)
    assert "203.0.113.9" not in log
    assert "Traceback" not in log
    assert SECRET_KEY not in log
    assert session_cookie not in log


@pytest.mark.parametrize(
    "to_every_process",
    [
        pytest.param(False, id="to-the-parent"),
        # As systemd (KillMode=control-group) and Heroku stop a service.
        pytest.param(True, id="to-every-process"),
    ],
)
async def test_sigterm_lets_a_request_in_flight_in_each_worker_finish(
    server: Uvicorn, database_url: str, to_every_process: bool
) -> None:
    workers = server.worker_pids()
    assert len(workers) == 2
    held = await _hold_one_post_per_worker(server, "Grace")
    try:
        server.terminate()
        if to_every_process:
            for worker in workers:
                os.kill(worker, signal.SIGTERM)
        # Each worker has stopped listening and waits for its request.
        await poll_until(lambda: server.log.count("Shutting down") == 2)
        assert server.worker_pids() == workers
        assert server.process is not None and server.process.poll() is None
    finally:
        responses = await asyncio.gather(*(post.finish() for post in held))

    for response in responses:
        assert response.startswith(b"HTTP/1.1 201 "), response
    assert await server.wait() == 0
    log = server.log
    assert "Traceback" not in log
    assert log.count("Application shutdown complete.") == 2
    for response in responses:
        username = json.loads(response.split(b"\r\n\r\n", 1)[1])["username"]
        assert await user_exists(database_url, username)


# -- Mail at shutdown -------------------------------------------------------


@pytest.fixture
def mail_server(gated_mail_server: SmtpServer) -> SmtpServer:
    return gated_mail_server


async def test_sigterm_drains_every_workers_mail_and_loses_none(
    database_url: str, tmp_path: Path, mail_server: SmtpServer
) -> None:
    environment = held_mail_environment(database_url, mail_server.port)
    await deploy(environment, tmp_path)
    handler = gated_handler(mail_server)
    names: list[str] = []
    first = Uvicorn(environment, tmp_path / "first.log")
    async with first:
        # Each worker's sender takes the mail of the user it created and is held
        # at DATA (a sender sends one message at a time, so two held messages
        # are two senders); then more mail waits in the outbox.
        for post in await _hold_one_post_per_worker(first, "worker-user"):
            response = await post.finish()
            assert response.startswith(b"HTTP/1.1 201 "), response
            names.append(json.loads(response.split(b"\r\n\r\n", 1)[1])["username"])
            await poll_until(lambda: handler.held == len(names))
        async with httpx.AsyncClient(base_url=first.url) as client:
            for number in range(4):
                name = f"later{number}"
                created = await client.post("/api/v1/users", json={"username": name})
                assert created.status_code == 201
                names.append(name)

        first.terminate()
        # Both workers are in the app's shutdown, their sends still held.
        await poll_until(
            lambda: first.log.count("Waiting for application shutdown") == 2
        )
        assert mail_server.received == []
        handler.gate.set()
        assert await first.wait() == 0

    log = first.log
    assert "Traceback" not in log
    assert log.count("Application shutdown complete.") == 2
    delivered = joined_usernames(mail_server)
    # The two held sends were finished, nothing went twice, nothing was lost:
    # what was not sent is still pending in the outbox.
    assert set(names[:2]) <= set(delivered)
    assert len(delivered) == len(set(delivered))
    counts = await outbox_counts(database_url)
    assert counts["sent"] == len(delivered)
    assert counts["pending"] == len(names) - len(delivered)
    assert counts["sending"] == counts["failed"] == 0

    # The next start sends what the last one left.
    async with Uvicorn(environment, tmp_path / "second.log") as second:
        await poll_until(lambda: len(mail_server.received) >= len(names))
        assert await second.stop() == 0
    assert "Traceback" not in second.log
    assert sorted(joined_usernames(mail_server)) == sorted(names)
    counts = await outbox_counts(database_url)
    assert counts == {**counts, "sent": len(names), "pending": 0, "sending": 0}


# -- Start-up failures ------------------------------------------------------


async def failing_startup_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app whose startup fails, a fault quarty itself cannot be given."""
    assert scope["type"] == "lifespan"
    await receive()
    await send({"type": "lifespan.startup.failed", "message": "no database today"})


async def test_a_worker_whose_startup_fails_stops_the_server_with_3(
    database_url: str, tmp_path: Path
) -> None:
    environment = deployment_environment(database_url, PYTHONPATH=str(ROOT))
    launcher = (
        "import sys, quarty.serving.uvicorn as serve; "
        "serve.APP = 'tests.test_uvicorn:failing_startup_app'; "
        "sys.exit(serve.main(sys.argv[1:]))"
    )
    result = await run_command(
        "python",
        "-c",
        launcher,
        # Port 0: the kernel's pick; nothing connects to it.
        "--port",
        "0",
        environment=environment,
        cwd=tmp_path,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == STARTUP_FAILURE, output
    assert "no database today" in output
    assert "failed to start, stopping the parent process" in output
