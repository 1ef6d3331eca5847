"""hypercorn and a slow SMTP server: the POST does not wait; SIGTERM waits for mail."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from quarty.models import OutboxMessage
from tests.helpers import session_on
from tests.servers import Hypercorn, deployment_environment, run_command
from tests.smtp import ADMIN, SmtpServer

pytestmark = pytest.mark.server

SMTP_DELAY = 2.0


async def outbox_statuses(database_url: str) -> list[str]:
    async with session_on(database_url) as session:
        return list((await session.scalars(select(OutboxMessage.status))).all())


async def test_sigterm_waits_for_the_mail_in_flight_and_the_post_did_not(
    database_url: str, tmp_path: Path, smtp_server: SmtpServer, artifacts_dir: Path
) -> None:
    smtp_server.handler.delay = SMTP_DELAY
    environment = deployment_environment(
        database_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_server.port),
        QUARTY_ADMIN=ADMIN,
        QUARTY_MAIL_SENDER="Quarty <quarty@example.com>",
        MAIL_SHUTDOWN_TIMEOUT="10",
    )
    await run_command(
        "quart", "--app", "quarty", "deploy", environment=environment, cwd=tmp_path
    )
    async with Hypercorn(environment, tmp_path / "hypercorn.log") as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            started = time.perf_counter()
            response = await client.post("/api/v1/users", json={"username": "Ada"})
            post_seconds = time.perf_counter() - started
        assert response.status_code == 201
        assert post_seconds < SMTP_DELAY / 4, f"the POST took {post_seconds:.3f} s"

        # The sender is now inside the server's slow DATA handler.
        assert await asyncio.to_thread(smtp_server.handler.data_started.wait, 10)
        assert smtp_server.received == []
        exit_code = await server.stop()
        log = server.log

    assert exit_code == 0, log
    assert len(smtp_server.received) == 1, log
    assert await outbox_statuses(database_url) == ["sent"]
    (artifacts_dir / "mail-post-latency-hypercorn.txt").write_text(
        f"POST /api/v1/users through hypercorn with a {SMTP_DELAY:.0f} s SMTP "
        f"server: {post_seconds * 1000:.1f} ms\n"
    )
