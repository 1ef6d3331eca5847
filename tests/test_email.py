"""The "New User" mail: delivered by a real SMTP server, never in the request's way."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from pathlib import Path

import pytest
from quart.testing import QuartClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.mail.outbox import as_utc
from quarty.models import OutboxMessage, User
from tests.helpers import get_csrf_token, submit_name
from tests.smtp import (
    ADMIN_ADDRESS,
    SmtpServer,
    app_database,
    eventually,
    started_app,
)


@pytest.fixture
def app_settings(
    app_settings: dict[str, object], smtp_server: SmtpServer
) -> dict[str, object]:
    return {**app_settings, **smtp_server.app_settings()}


async def outbox_rows(session: AsyncSession) -> list[OutboxMessage]:
    # A new read transaction: SQLite keeps showing an open one its snapshot.
    await session.rollback()
    return list((await session.scalars(select(OutboxMessage))).all())


async def rows_once(
    session: AsyncSession, status: str, *, count: int = 1, seconds: float = 10
) -> list[OutboxMessage]:
    """The outbox, once at least `count` of its rows have this status."""

    async def reached() -> list[OutboxMessage]:
        rows = await outbox_rows(session)
        return rows if sum(row.status == status for row in rows) >= count else []

    return await eventually(reached, seconds=seconds)


async def test_new_name_delivers_one_mail_to_the_admin(
    client: QuartClient, smtp_server: SmtpServer, session: AsyncSession
) -> None:
    await submit_name(client, "Grace")

    [mail] = await smtp_server.wait_for(1)
    message = mail.message
    assert message["Subject"] == "[Quarty] New User"
    assert message["From"] == "Quarty <quarty@example.com>"
    assert message["To"] == "Quarty Admin <admin@example.com>"
    assert message["Message-ID"].endswith("@example.com>")
    assert mail.mail_from == "quarty@example.com"
    assert mail.rcpt_tos == [ADMIN_ADDRESS]
    assert message.get_content_type() == "multipart/alternative"
    assert mail.part("text/plain").strip() == "User Grace has joined."
    assert "User <b>Grace</b> has joined." in mail.part("text/html")
    [row] = await rows_once(session, "sent")
    assert row.attempts == 1
    assert row.sent_at is not None
    assert row.last_error is None


async def test_known_name_sends_no_mail(
    client: QuartClient, smtp_server: SmtpServer, session: AsyncSession
) -> None:
    await submit_name(client, "Grace")
    await smtp_server.wait_for(1)
    await submit_name(client, "Grace")
    await asyncio.sleep(0.3)
    assert len(smtp_server.received) == 1
    assert len(await outbox_rows(session)) == 1


async def test_response_returns_before_a_slow_smtp_server_answers(
    client: QuartClient,
    smtp_server: SmtpServer,
    artifacts_dir: Path,
) -> None:
    smtp_server.handler.delay = 2.0
    token = await get_csrf_token(client)

    started = time.perf_counter()
    response = await client.post("/", form={"name": "Ada", "csrf_token": token})
    post_seconds = time.perf_counter() - started

    assert response.status_code == 302
    assert post_seconds < 0.5, f"the POST waited {post_seconds:.3f} s for SMTP"
    assert smtp_server.received == []
    await smtp_server.wait_for(1)
    mail_seconds = time.perf_counter() - started
    assert mail_seconds >= 2.0
    (artifacts_dir / "mail-post-latency.txt").write_text(
        f"POST / for a new name with a 2 s SMTP server: {post_seconds * 1000:.1f} ms; "
        f"the server accepted the mail after {mail_seconds:.2f} s\n"
    )


async def test_smtp_down_keeps_the_user_and_the_mail_pending(
    app_settings: dict[str, object], smtp_server: SmtpServer
) -> None:
    smtp_server.stop()
    settings = {**app_settings, "MAIL_RETRY_BACKOFF": 60.0}
    async with started_app(settings) as app:
        html = await submit_name(app.test_client(), "Linus", follow=True)
        assert "Hello, Linus!" in html
        async with app_database(app).sessionmaker() as session:
            assert await session.scalar(select(User).where(User.username == "Linus"))

            async def first_attempt_failed() -> list[OutboxMessage]:
                rows = await outbox_rows(session)
                return rows if rows and rows[0].last_error else []

            [row] = await eventually(first_attempt_failed)
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error is not None
    assert "Connect call failed" in row.last_error
    assert as_utc(row.next_attempt_at) > as_utc(row.created_at) + timedelta(seconds=50)


async def test_smtp_back_delivers_the_pending_mail_exactly_once(
    app_settings: dict[str, object],
) -> None:
    # Nothing listens on the port until the first attempts have failed.
    server = SmtpServer()
    settings = {**app_settings, "MAIL_PORT": server.port, "MAIL_MAX_ATTEMPTS": 20}
    async with started_app(settings) as app:
        await submit_name(app.test_client(), "Barbara")
        async with app_database(app).sessionmaker() as session:

            async def failed_twice() -> list[OutboxMessage]:
                rows = await outbox_rows(session)
                return rows if rows and rows[0].attempts >= 2 else []

            [row] = await eventually(failed_twice)
            assert row.status in {"pending", "sending"}
            await asyncio.to_thread(server.start)
            try:
                await server.wait_for(1)
                [row] = await rows_once(session, "sent")
                await asyncio.sleep(0.5)
                assert len(server.received) == 1
            finally:
                await asyncio.to_thread(server.stop)
    assert row.last_error is None


async def test_no_mail_server_keeps_mail_in_the_outbox_and_says_so(
    app_settings: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    settings = {**app_settings, "MAIL_SERVER": None}
    caplog.set_level(logging.WARNING, logger="quarty.mail")
    async with started_app(settings) as app:
        html = await submit_name(app.test_client(), "Margaret", follow=True)
        assert "Hello, Margaret!" in html
        async with app_database(app).sessionmaker() as session:
            [row] = await outbox_rows(session)
    assert row.status == "pending"
    assert row.attempts == 0
    assert f"mail {row.id} is in the outbox, not sent: no MAIL_SERVER" in caplog.text


async def test_no_admin_queues_no_mail(
    app_settings: dict[str, object], smtp_server: SmtpServer
) -> None:
    settings = {**app_settings, "QUARTY_ADMIN": None}
    async with started_app(settings) as app:
        await submit_name(app.test_client(), "Edsger")
        async with app_database(app).sessionmaker() as session:
            assert await outbox_rows(session) == []
    assert smtp_server.received == []
