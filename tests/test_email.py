"""The "New User" mail: delivered by a real SMTP server, never in the request's way."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from quart.testing import QuartClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database
from quarty.mail.outbox import as_utc
from quarty.models import OutboxMessage, User
from tests.helpers import client_of, get_csrf_token, submit_name
from tests.smtp import (
    ADMIN_ADDRESS,
    SmtpServer,
    app_database,
    eventually,
    gated_handler,
    reserved_port,
    settled_outbox,
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
    client: QuartClient, smtp_server: SmtpServer, database: Database
) -> None:
    await submit_name(client, "Grace")
    await smtp_server.wait_for(1)
    await submit_name(client, "Grace")
    # The second POST has returned, so its transaction is over: the outbox
    # holds all the mail it ever will, and once that is sent, so does the server.
    assert len(await settled_outbox(database)) == 1
    assert len(smtp_server.received) == 1


async def test_response_returns_before_a_slow_smtp_server_answers(
    app_settings: dict[str, object], gated_mail_server: SmtpServer
) -> None:
    handler = gated_handler(gated_mail_server)
    settings = {**app_settings, **gated_mail_server.app_settings()}
    async with started_app(settings) as app:
        client = client_of(app)
        token = await get_csrf_token(client)
        response = await client.post("/", form={"name": "Ada", "csrf_token": token})
        # The response is back while the server cannot have accepted the mail
        # (its gate is shut, the mail held at DATA): the POST did not wait for it.
        assert response.status_code == 302

        async def held() -> bool:
            return handler.held == 1

        await eventually(held)
        assert gated_mail_server.received == []
        handler.gate.set()
        [mail] = await gated_mail_server.wait_for(1)
        [row] = await settled_outbox(app_database(app))
    assert mail.part("text/plain").strip() == "User Ada has joined."
    # Sent at the first attempt: not retried after a send that timed out.
    assert (row.status, row.attempts) == ("sent", 1)


async def test_smtp_down_keeps_the_user_and_the_mail_pending(
    app_settings: dict[str, object], smtp_server: SmtpServer
) -> None:
    smtp_server.stop()
    settings = {**app_settings, "MAIL_RETRY_BACKOFF": 60.0}
    async with started_app(settings) as app:
        html = await submit_name(client_of(app), "Linus", follow=True)
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
    with reserved_port() as port:
        server = SmtpServer(port=port)
        settings = {**app_settings, "MAIL_PORT": port, "MAIL_MAX_ATTEMPTS": 20}
        async with started_app(settings) as app:
            await submit_name(client_of(app), "Barbara")
            async with app_database(app).sessionmaker() as session:

                async def failed_twice() -> list[OutboxMessage]:
                    rows = await outbox_rows(session)
                    return rows if rows and rows[0].attempts >= 2 else []

                [row] = await eventually(failed_twice)
            assert row.status in {"pending", "sending"}
            await asyncio.to_thread(server.start)
            try:
                await server.wait_for(1)
                [row] = await settled_outbox(app_database(app))
                assert len(server.received) == 1
            finally:
                await asyncio.to_thread(server.stop)
    assert row.status == "sent"
    assert row.last_error is None


async def test_no_mail_server_keeps_mail_in_the_outbox_and_says_so(
    app_settings: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    settings = {**app_settings, "MAIL_SERVER": None}
    caplog.set_level(logging.WARNING, logger="quarty.mail")
    async with started_app(settings) as app:
        html = await submit_name(client_of(app), "Margaret", follow=True)
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
        await submit_name(client_of(app), "Edsger")
        async with app_database(app).sessionmaker() as session:
            assert await outbox_rows(session) == []
    assert smtp_server.received == []
