"""hypercorn and a slow SMTP server: the POST does not wait; SIGTERM waits for mail."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from quarty.models import OutboxMessage
from tests.helpers import session_on
from tests.servers import Hypercorn, deploy, held_mail_environment, poll_until
from tests.smtp import SmtpServer, gated_handler

pytestmark = pytest.mark.server

# Long enough that SIGTERM arrives while the server is still answering DATA.
SMTP_DELAY = 2.0


async def outbox_statuses(database_url: str) -> list[str]:
    async with session_on(database_url) as session:
        return list((await session.scalars(select(OutboxMessage.status))).all())


async def test_sigterm_waits_for_the_mail_in_flight_and_the_post_did_not(
    database_url: str, tmp_path: Path, gated_mail_server: SmtpServer
) -> None:
    handler = gated_handler(gated_mail_server)
    environment = held_mail_environment(database_url, gated_mail_server.port)
    await deploy(environment, tmp_path)
    async with Hypercorn(environment, tmp_path / "hypercorn.log") as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            response = await client.post("/api/v1/users", json={"username": "Ada"})
        # Created while the SMTP server cannot have accepted the mail (its gate
        # is shut, the mail held at DATA): the POST did not wait for it.
        assert response.status_code == 201
        await poll_until(lambda: handler.held == 1)
        assert gated_mail_server.received == []

        handler.delay = SMTP_DELAY
        handler.gate.set()
        # The sender is now inside the server's slow DATA handler.
        assert await asyncio.to_thread(handler.data_started.wait, 10)
        assert gated_mail_server.received == []
        exit_code = await server.stop()
        log = server.log

    assert exit_code == 0, log
    assert len(gated_mail_server.received) == 1, log
    assert await outbox_statuses(database_url) == ["sent"]
