"""Batches: many messages over one SMTP connection, each one's fate its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from quart import Quart
from sqlalchemy import select

from quarty import create_app
from quarty.db import Database
from quarty.mail import OutboxSender, queue_email, queue_new_user_mail, send_email
from quarty.mail.outbox import claim_due
from quarty.models import OutboxMessage
from tests.smtp import (
    RecordingHandler,
    SmtpServer,
    app_database,
    create_tables,
    eventually,
    settled_outbox,
    started_app,
)


class BatchHandler(RecordingHandler):
    """Also refuses, delays or hangs up on chosen recipients, and notes the
    connection each message came on."""

    def __init__(self) -> None:
        super().__init__()
        self._peers_lock = threading.Lock()
        self._peers: list[object] = []
        # Replies to RCPT TO for an address, given in turn, then accepted.
        self.refusals: dict[str, list[str]] = {}
        # Addresses whose RCPT TO makes the server drop the connection, once.
        self.hang_up_on: set[str] = set()
        # Seconds to wait before answering DATA for an address.
        self.slow: dict[str, float] = {}
        self.slow_started = threading.Event()

    @property
    def connections(self) -> int:
        """How many connections carried a message (or an attempt at one)."""
        with self._peers_lock:
            return len(set(self._peers))

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        with self._peers_lock:
            self._peers.append(session.peer)
        if address in self.hang_up_on:
            self.hang_up_on.discard(address)
            assert server.transport is not None
            server.transport.close()
            return "421 4.4.2 Bye"
        if self.refusals.get(address):
            return self.refusals[address].pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        delay = self.slow.get(str(envelope.rcpt_tos[0]), 0.0)
        if delay:
            self.slow_started.set()
            await asyncio.sleep(delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def batch_server() -> Iterator[SmtpServer]:
    server = SmtpServer(BatchHandler()).start()
    yield server
    server.stop()


@pytest.fixture
def app_settings(
    app_settings: dict[str, object], batch_server: SmtpServer
) -> dict[str, object]:
    return {**app_settings, **batch_server.app_settings()}


def handler_of(server: SmtpServer) -> BatchHandler:
    assert isinstance(server.handler, BatchHandler)
    return server.handler


def sender_of(app: Quart) -> OutboxSender:
    sender: OutboxSender = app.extensions["quarty.mail"]
    return sender


async def idle_app(settings: dict[str, object]) -> Quart:
    """An app that is not serving, so no sender of its own claims anything."""
    app = create_app("testing", **settings)
    await create_tables(app)
    return app


async def queue_to(app: Quart, recipients: list[str]) -> None:
    """Commit one test message per recipient, in this order, waking no sender."""
    async with app.app_context(), app_database(app).sessionmaker() as session:
        for recipient in recipients:
            await queue_email(session, recipient, "Test", "mail/test", server="x")
        await session.commit()


async def all_rows(database: Database) -> list[OutboxMessage]:
    async with database.sessionmaker() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def rows_by_recipient(database: Database) -> dict[str, OutboxMessage]:
    return {row.recipient: row for row in await all_rows(database)}


def addresses(*names: str) -> list[str]:
    return [f"{name}@example.com" for name in names]


async def send_all(
    settings: dict[str, object], recipients: list[str]
) -> dict[str, OutboxMessage]:
    """Queue a message per recipient, then serve until each is sent or failed."""
    app = await idle_app(settings)
    await queue_to(app, recipients)
    async with app.test_app():
        rows = await settled_outbox(app_database(app))
    return {row.recipient: row for row in rows}


@pytest.mark.parametrize(("batch_size", "connections"), [(50, 1), (5, 3)])
async def test_pending_new_user_mail_goes_out_once_each_over_few_connections(
    app_settings: dict[str, object],
    batch_server: SmtpServer,
    batch_size: int,
    connections: int,
) -> None:
    app = await idle_app({**app_settings, "MAIL_BATCH_SIZE": batch_size})
    names = [f"user{n}" for n in range(12)]
    async with app.app_context(), app_database(app).sessionmaker() as session:
        for name in names:
            await queue_new_user_mail(session, username=name)
        await session.commit()

    async with app.test_app():
        await batch_server.wait_for(12)
        rows = await settled_outbox(app_database(app))

    joined = [mail.part("text/plain").split()[1] for mail in batch_server.received]
    assert sorted(joined) == sorted(names)
    assert handler_of(batch_server).connections == connections
    assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}


async def test_mail_queued_one_by_one_while_serving_shares_a_connection(
    app_settings: dict[str, object], batch_server: SmtpServer
) -> None:
    # Each send_email commits and wakes the sender; the woken sender waits
    # MAIL_BATCH_WAIT_MS for the rest of the burst before it claims.
    app = await idle_app({**app_settings, "MAIL_BATCH_WAIT_MS": 500})
    recipients = addresses("a", "b", "c", "d", "e")
    async with app.test_app(), app.app_context():
        for recipient in recipients:
            await send_email(recipient, "Test", "mail/test", server="x")
        await batch_server.wait_for(len(recipients))
        rows = await settled_outbox(app_database(app))

    assert sorted(mail.rcpt_tos[0] for mail in batch_server.received) == recipients
    assert handler_of(batch_server).connections == 1
    assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}


async def test_a_refused_message_fails_alone_and_the_rest_share_the_connection(
    app_settings: dict[str, object], batch_server: SmtpServer
) -> None:
    handler_of(batch_server).refusals["bounce@example.com"] = [
        "550 5.1.1 Mailbox unavailable"
    ]
    rows = await send_all(app_settings, addresses("a", "bounce", "b", "c"))

    assert sorted(mail.rcpt_tos[0] for mail in batch_server.received) == addresses(
        "a", "b", "c"
    )
    assert handler_of(batch_server).connections == 1
    bounced = rows.pop("bounce@example.com")
    assert (bounced.status, bounced.attempts) == ("failed", 1)
    assert bounced.last_error == "bounce@example.com: 550 5.1.1 Mailbox unavailable"
    assert {(row.status, row.attempts) for row in rows.values()} == {("sent", 1)}


async def test_a_temporary_refusal_is_retried_while_the_others_are_sent(
    app_settings: dict[str, object], batch_server: SmtpServer
) -> None:
    handler_of(batch_server).refusals["later@example.com"] = [
        "451 4.3.0 Try again later"
    ]
    rows = await send_all(app_settings, addresses("a", "later", "b"))

    received = [mail.rcpt_tos[0] for mail in batch_server.received]
    assert received == addresses("a", "b", "later")
    later = rows.pop("later@example.com")
    assert (later.status, later.attempts, later.last_error) == ("sent", 2, None)
    assert {(row.status, row.attempts) for row in rows.values()} == {("sent", 1)}


async def test_a_dropped_connection_is_made_again_for_the_rest_of_the_batch(
    app_settings: dict[str, object], batch_server: SmtpServer
) -> None:
    handler_of(batch_server).hang_up_on.add("b@example.com")
    rows = await send_all(app_settings, addresses("a", "b", "c", "d"))

    received = [mail.rcpt_tos[0] for mail in batch_server.received]
    assert received == addresses("a", "c", "d", "b")
    # a on the first connection, c and d on a second, b's retry on a third.
    assert handler_of(batch_server).connections == 3
    assert rows["b@example.com"].attempts == 2
    assert {row.status for row in rows.values()} == {"sent"}


async def test_an_unreachable_server_leaves_the_whole_batch_to_retry(
    app_settings: dict[str, object], batch_server: SmtpServer
) -> None:
    batch_server.stop()
    app = await idle_app({**app_settings, "MAIL_RETRY_BACKOFF": 60.0})
    await queue_to(app, addresses("a", "b", "c"))

    async with app.test_app():

        async def all_tried() -> dict[str, OutboxMessage]:
            rows = await rows_by_recipient(app_database(app))
            return rows if all(row.last_error for row in rows.values()) else {}

        rows = await eventually(all_tried)

    for row in rows.values():
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error is not None
        assert "Connect call failed" in row.last_error


async def test_concurrent_batch_claims_share_out_the_messages_without_overlap(
    app_settings: dict[str, object],
) -> None:
    app = await idle_app(app_settings)
    await queue_to(app, addresses(*(f"user{n}" for n in range(40))))
    sessionmaker = app_database(app).sessionmaker

    async def claim(name: str) -> list[int]:
        async with sessionmaker() as session:
            claims = await claim_due(session, claimed_by=name, lease=60, limit=7)
            return [claim.id for claim in claims]

    try:
        batches = await asyncio.gather(*(claim(f"sender-{n}") for n in range(8)))
    finally:
        await app_database(app).dispose()
    claimed = [message_id for batch in batches for message_id in batch]
    assert len(claimed) == len(set(claimed)) == 40
    assert all(len(batch) <= 7 for batch in batches)


async def test_two_instances_with_full_batches_send_each_message_once(
    app_settings: dict[str, object], batch_server: SmtpServer
) -> None:
    settings = {**app_settings, "MAIL_BATCH_SIZE": 10}
    async with started_app(settings) as first, started_app(settings) as second:
        await queue_to(first, addresses(*(f"user{n}" for n in range(100))))
        for app in (first, second):
            sender_of(app).notify(0)
        await batch_server.wait_for(100)
        rows = await settled_outbox(app_database(first))

    message_ids = [mail.message["Message-ID"] for mail in batch_server.received]
    assert len(message_ids) == len(set(message_ids)) == 100
    assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}


async def test_a_long_batch_records_what_it_sent_before_it_ends(
    app_settings: dict[str, object], batch_server: SmtpServer
) -> None:
    recipients = addresses("a", "b", "c", "d")
    handler_of(batch_server).slow.update(dict.fromkeys(recipients, 0.4))
    app = await idle_app(app_settings)
    await queue_to(app, recipients)

    async with app.test_app():
        await batch_server.wait_for(3)
        rows = await rows_by_recipient(app_database(app))
        await batch_server.wait_for(4)
    # The batch is still sending, but its first deliveries are on record.
    assert rows["a@example.com"].status == "sent"
    assert rows["b@example.com"].status == "sent"
    assert rows["d@example.com"].status == "sending"


async def test_shutdown_sends_the_rest_of_the_batch_in_flight(
    app_settings: dict[str, object], batch_server: SmtpServer, database_url: str
) -> None:
    recipients = addresses("a", "b", "c", "d", "e")
    handler_of(batch_server).slow.update(dict.fromkeys(recipients, 0.2))
    app = await idle_app(app_settings)
    await queue_to(app, recipients)

    async with app.test_app():
        await asyncio.to_thread(handler_of(batch_server).slow_started.wait, 10)
    # The app has stopped: the whole batch went out during its shutdown.
    assert [mail.rcpt_tos[0] for mail in batch_server.received] == recipients
    database = Database(database_url)
    try:
        rows = await rows_by_recipient(database)
    finally:
        await database.dispose()
    assert {(row.status, row.attempts) for row in rows.values()} == {("sent", 1)}


async def test_shutdown_sends_mail_queued_while_a_batch_was_in_flight(
    app_settings: dict[str, object], batch_server: SmtpServer
) -> None:
    handler = handler_of(batch_server)
    handler.slow["first@example.com"] = 0.5
    async with started_app(app_settings) as app:
        await queue_to(app, addresses("first"))
        sender_of(app).notify(0)
        await asyncio.to_thread(handler.slow_started.wait, 10)
        await queue_to(app, addresses("a", "b", "c"))
        sender_of(app).notify(0)
    # Stopped: the pass that was sending "first" went on to the rest.
    received = [mail.rcpt_tos[0] for mail in batch_server.received]
    assert received == addresses("first", "a", "b", "c")


async def test_shutdown_timeout_mid_batch_keeps_what_was_sent_and_hands_back_the_rest(
    app_settings: dict[str, object], batch_server: SmtpServer, database_url: str
) -> None:
    handler = handler_of(batch_server)
    handler.slow["slow@example.com"] = 30.0
    settings = {**app_settings, "MAIL_SHUTDOWN_TIMEOUT": 0.5}
    app = await idle_app(settings)
    await queue_to(app, addresses("a", "b", "slow", "c", "d"))

    async with app.test_app():
        await asyncio.to_thread(handler.slow_started.wait, 10)
    database = Database(database_url)
    try:
        rows = await rows_by_recipient(database)
    finally:
        await database.dispose()
    sent = [rows[address] for address in addresses("a", "b")]
    assert {(row.status, row.attempts) for row in sent} == {("sent", 1)}
    # The one cut off in DATA and those not tried yet: pending, not counted.
    handed_back = [rows[address] for address in addresses("slow", "c", "d")]
    assert {(row.status, row.attempts, row.claimed_by) for row in handed_back} == {
        ("pending", 0, None)
    }

    handler.slow.clear()
    async with started_app(settings) as again:
        await settled_outbox(app_database(again))
    received = [mail.rcpt_tos[0] for mail in batch_server.received]
    assert received == addresses("a", "b", "slow", "c", "d")
