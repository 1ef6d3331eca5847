"""The outbox: retries, failures, start-up and shutdown, and claims between senders."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from quart import Quart
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quarty import create_app
from quarty.mail import OutboxSender, queue_email
from quarty.mail.outbox import SENT_OUTCOME, Claim, claim_due, record, utc_now
from quarty.models import OutboxMessage
from tests.helpers import client_of, session_on, submit_name
from tests.smtp import (
    ADMIN,
    SmtpServer,
    app_database,
    create_tables,
    eventually,
    settled_outbox,
    started_app,
)


@pytest.fixture
def app_settings(
    app_settings: dict[str, object], smtp_server: SmtpServer
) -> dict[str, object]:
    return {**app_settings, **smtp_server.app_settings()}


async def all_rows(app: Quart) -> list[OutboxMessage]:
    """The outbox, read through the app's engine (while the app serves)."""
    async with app_database(app).sessionmaker() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def stored_rows(database_url: str) -> list[OutboxMessage]:
    """The outbox, read on an engine of its own (after the app has stopped)."""
    async with session_on(database_url) as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def rows_when(app: Quart, status: str, count: int = 1) -> list[OutboxMessage]:
    async def reached() -> list[OutboxMessage]:
        rows = await all_rows(app)
        return rows if sum(row.status == status for row in rows) >= count else []

    return await eventually(reached)


async def queue_messages(app: Quart, count: int) -> list[int]:
    """Commit `count` test messages to the outbox without waking any sender."""
    async with app.app_context(), app_database(app).sessionmaker() as session:
        ids = [
            await queue_email(session, ADMIN, f"Test {n}", "mail/test", server="x")
            for n in range(count)
        ]
        await session.commit()
    return ids


async def idle_app(settings: dict[str, object]) -> Quart:
    """An app that is not serving, so no sender of its own claims anything."""
    app = create_app("testing", **settings)
    await create_tables(app)
    return app


def sender_of(app: Quart) -> OutboxSender:
    sender: OutboxSender = app.extensions["quarty.mail"]
    return sender


@pytest.mark.parametrize(
    ("reply", "attempts"),
    [
        # A 4xx reply is temporary: tried MAIL_MAX_ATTEMPTS (3) times, then failed.
        ("451 4.3.0 Try again later", 3),
        # A 5xx reply is permanent: failed at once.
        ("550 5.1.1 Mailbox unavailable", 1),
    ],
)
async def test_an_error_reply_fails_the_mail_with_the_reason(
    app_settings: dict[str, object], smtp_server: SmtpServer, reply: str, attempts: int
) -> None:
    smtp_server.handler.reply = reply
    async with started_app(app_settings) as app:
        await submit_name(client_of(app), "Ada")
        [row] = await rows_when(app, "failed")
    assert row.attempts == attempts
    assert smtp_server.handler.data_attempts == attempts
    assert row.last_error == reply
    assert smtp_server.received == []


async def test_pending_mail_at_shutdown_is_delivered_before_the_app_stops(
    app_settings: dict[str, object], smtp_server: SmtpServer, database_url: str
) -> None:
    smtp_server.handler.delay = 0.5
    async with started_app(app_settings) as app:
        await submit_name(client_of(app), "Ada")
        assert smtp_server.received == []
    # The app has stopped: the mail went out during its shutdown.
    assert len(smtp_server.received) == 1
    [row] = await stored_rows(database_url)
    assert row.status == "sent"


async def test_mail_unsent_at_the_shutdown_timeout_stays_pending_for_the_next_start(
    app_settings: dict[str, object], smtp_server: SmtpServer, database_url: str
) -> None:
    # The server answers DATA long after the client gives up (MAIL_TIMEOUT).
    smtp_server.handler.delay = 30.0
    settings = {**app_settings, "MAIL_SHUTDOWN_TIMEOUT": 0.5}
    async with started_app(settings) as app:
        await submit_name(client_of(app), "Ada")
        await asyncio.to_thread(smtp_server.handler.data_started.wait, 10)
    # The app stopped with the mail still at DATA, and the shutdown timeout, not
    # the send's own, ended the attempt: a timed-out send is counted, with an error.
    assert smtp_server.received == []
    [row] = await stored_rows(database_url)
    assert row.status == "pending"
    assert row.attempts == 0  # the interrupted attempt is handed back
    assert row.claimed_by is None
    assert row.last_error is None

    smtp_server.handler.delay = 0
    async with started_app(settings) as app:
        await rows_when(app, "sent")
    assert len(smtp_server.received) == 1


async def test_mail_pending_at_start_up_is_sent_after_start(
    app_settings: dict[str, object], smtp_server: SmtpServer
) -> None:
    app = await idle_app(app_settings)
    [message_id] = await queue_messages(app, 1)
    assert smtp_server.received == []

    async with app.test_app():
        [mail] = await smtp_server.wait_for(1)
        [row] = await rows_when(app, "sent")
    assert row.id == message_id
    assert mail.message["Subject"] == "[Quarty] Test 0"


async def test_a_crashed_senders_claim_is_taken_over_after_the_lease(
    app_settings: dict[str, object], smtp_server: SmtpServer
) -> None:
    app = await idle_app({**app_settings, "MAIL_CLAIM_LEASE": 60.0})
    stale, fresh = await queue_messages(app, 2)
    async with app_database(app).sessionmaker() as session:
        claims = {stale: utc_now() - timedelta(seconds=61), fresh: utc_now()}
        for message_id, claimed_at in claims.items():
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(
                    status="sending",
                    claimed_by="crashed-host:1:dead",
                    claimed_at=claimed_at,
                    attempts=1,
                )
            )
        await session.commit()

    async with app.test_app():
        await smtp_server.wait_for(1)
        # Then nothing is left to send while the fresh claim's lease runs: the
        # server holds all the mail it will get.
        rows = {row.id: row for row in await rows_when(app, "sent")}
    assert len(smtp_server.received) == 1
    assert rows[stale].status == "sent"
    assert rows[stale].attempts == 2
    assert rows[fresh].status == "sending"  # its lease still runs


async def test_a_message_whose_senders_keep_dying_is_failed_not_resent(
    app_settings: dict[str, object], smtp_server: SmtpServer
) -> None:
    app = await idle_app(app_settings)
    [message_id] = await queue_messages(app, 1)
    async with app_database(app).sessionmaker() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                status="sending",
                claimed_by="crashed-host:1:dead",
                claimed_at=utc_now() - timedelta(days=1),
                attempts=3,  # MAIL_MAX_ATTEMPTS
            )
        )
        await session.commit()

    async with app.test_app():
        [row] = await rows_when(app, "failed")
    assert row.last_error == "gave up after 3 interrupted attempts"
    assert smtp_server.received == []


async def test_only_one_of_many_concurrent_claims_wins(
    app_settings: dict[str, object],
) -> None:
    app = await idle_app(app_settings)
    [message_id] = await queue_messages(app, 1)
    sessionmaker = app_database(app).sessionmaker

    async def claim(name: str) -> int | None:
        async with sessionmaker() as own_session:
            won = await claim_next(own_session, claimed_by=name, lease=60)
            return won.id if won else None

    try:
        results = await asyncio.gather(*(claim(f"sender-{n}") for n in range(8)))
    finally:
        await app_database(app).dispose()
    assert sorted(results, key=str) == [message_id] + [None] * 7


async def test_a_sender_that_lost_its_lease_cannot_overwrite_the_new_owner(
    app_settings: dict[str, object],
) -> None:
    app = await idle_app(app_settings)
    await queue_messages(app, 1)
    async with app_database(app).sessionmaker() as session:
        await _take_over(session)
    await app_database(app).dispose()


async def claim_next(
    session: AsyncSession, *, claimed_by: str, lease: float
) -> Claim | None:
    claims = await claim_due(session, claimed_by=claimed_by, lease=lease, limit=1)
    return claims[0] if claims else None


async def _take_over(session: AsyncSession) -> None:
    first = await claim_next(session, claimed_by="first", lease=60)
    assert first is not None
    assert await claim_next(session, claimed_by="second", lease=60) is None
    # With a zero lease the first claim is stale at once, and taken over.
    second = await claim_next(session, claimed_by="second", lease=0)
    assert second is not None
    assert second.attempts == first.attempts + 1

    assert await record(session, [(first, SENT_OUTCOME)]) == [first]
    assert await record(session, [(second, SENT_OUTCOME)]) == []
    row = await session.get(OutboxMessage, second.id, populate_existing=True)
    assert row is not None
    assert (row.status, row.claimed_by) == ("sent", "second")


async def test_two_app_instances_never_send_the_same_message(
    app_settings: dict[str, object], smtp_server: SmtpServer
) -> None:
    smtp_server.handler.delay = 0.01
    # Small batches, so that both senders get a share of the 30 messages.
    settings = {**app_settings, "MAIL_BATCH_SIZE": 3}
    async with started_app(settings) as first, started_app(settings) as second:
        ids = await queue_messages(first, 30)
        for app in (first, second):
            sender_of(app).notify(ids[0])
        await smtp_server.wait_for(30)
        rows = await settled_outbox(app_database(first))

    message_ids = [mail.message["Message-ID"] for mail in smtp_server.received]
    assert len(message_ids) == 30
    assert len(set(message_ids)) == 30
    senders = {row.claimed_by for row in rows}
    assert senders == {sender_of(first).name, sender_of(second).name}
