"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, in a thread of its own.

The handler records every message it accepts; tests can make it slow, make it
answer with an error code, and read what it received.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from quarty.db import Database
from quarty.mail import outbox
from quarty.models import OutboxMessage

# Re-exported for the mail tests, which reach everything app-related from here.
from tests.helpers import (
    app_database,
    create_tables,
    reserved_port,
    start_on_a_free_port,
    started_app,
)

T = TypeVar("T")

HOST = "127.0.0.1"
ADMIN = "Quarty Admin <admin@example.com>"
ADMIN_ADDRESS = "admin@example.com"


@dataclass(frozen=True)
class ReceivedMail:
    """One message the server accepted: its envelope and its parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    # Whether the session was encrypted and authenticated when DATA came.
    tls: bool = False
    authenticated: bool = False

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def part(self, content_type: str) -> str:
        """The decoded text of the text/plain or text/html part."""
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                assert isinstance(part, EmailMessage)
                text: str = part.get_content()
                return text
        raise AssertionError(f"no {content_type} part")


class RecordingHandler:
    """Accepts (or refuses) messages and records them; thread-safe to read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[ReceivedMail] = []
        self.data_attempts = 0
        self.data_started = threading.Event()
        # Seconds the server waits before it answers DATA.
        self.delay = 0.0
        # An SMTP reply to DATA instead of accepting, e.g. "451 4.3.0 Try later".
        self.reply: str | None = None

    @property
    def received(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._received)

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        with self._lock:
            self.data_attempts += 1
        self.data_started.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.reply is not None:
            return self.reply
        assert isinstance(envelope.content, bytes)
        transport = server.transport
        assert transport is not None
        mail = ReceivedMail(
            mail_from=str(envelope.mail_from),
            rcpt_tos=list(envelope.rcpt_tos),
            content=envelope.content,
            tls=transport.get_extra_info("ssl_object") is not None,
            authenticated=bool(session.authenticated),
        )
        with self._lock:
            self._received.append(mail)
        return "250 2.0.0 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd's threaded Controller on 127.0.0.1: on a free port, or on a
    port from `reserved_port()` when the app must know it before the start."""

    def __init__(
        self, handler: RecordingHandler | None = None, *, port: int | None = None
    ) -> None:
        self.handler = handler or RecordingHandler()
        self._reserved_port = port
        self.port = port or 0
        self._controller: Controller | None = None

    def start(self, **smtp_options: Any) -> SmtpServer:
        """Start listening (blocks until the server is up: call off the loop)."""

        def start_on(port: int) -> Controller:
            controller = Controller(
                self.handler,
                hostname=HOST,
                port=port,
                # Named, so aiosmtpd does not look up this host's FQDN.
                server_hostname="smtp.test",
                **smtp_options,
            )
            try:
                controller.start()
            except OSError:
                controller.loop.close()  # its thread ended without serving
                raise
            return controller

        if self._reserved_port is None:
            self._controller = start_on_a_free_port(start_on)
        else:
            self._controller = start_on(self._reserved_port)
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def app_settings(self) -> dict[str, object]:
        """create_app overrides that send mail here, with fast retries."""
        return {
            "MAIL_SERVER": HOST,
            "MAIL_PORT": self.port,
            "MAIL_TIMEOUT": 5.0,
            "QUARTY_ADMIN": ADMIN,
            "QUARTY_MAIL_SENDER": "Quarty <quarty@example.com>",
            "MAIL_RETRY_BACKOFF": 0.05,
            "MAIL_MAX_ATTEMPTS": 3,
            "MAIL_SHUTDOWN_TIMEOUT": 4.0,
        }

    @property
    def received(self) -> list[ReceivedMail]:
        return self.handler.received

    async def wait_for(self, count: int, *, seconds: float = 10) -> list[ReceivedMail]:
        """Wait until at least `count` messages arrived; return them all."""

        async def arrived() -> list[ReceivedMail]:
            received = self.handler.received
            return received if len(received) >= count else []

        return await eventually(arrived, seconds=seconds)


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, seconds: float = 10
) -> T:
    """Poll an async check until it returns something truthy; return that.

    What it watches changes in another task, thread or process (the app's
    sender, the SMTP server's thread), so there is no event to await.
    """
    async with asyncio.timeout(seconds):
        while not (result := await check()):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    return result


class GatedHandler(RecordingHandler):
    """Holds every message at DATA until the test opens `gate`; counts those held."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self._held_lock = threading.Lock()
        self.held = 0

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        with self._held_lock:
            self.held += 1
        await asyncio.to_thread(self.gate.wait)
        return await super().handle_DATA(server, session, envelope)


async def settled_outbox(database: Database) -> list[OutboxMessage]:
    """The outbox's rows, once it holds mail and none of it is pending or sending.

    No sender has anything left to send then: the SMTP server holds all the mail
    it will get, one message per sent row unless one went twice. Waiting for this
    state, rather than for a while, is what shows that no duplicate follows.
    """

    async def settled() -> list[OutboxMessage]:
        async with database.sessionmaker() as session:
            rows = list((await session.scalars(select(OutboxMessage))).all())
        finished = all(row.status in {outbox.SENT, outbox.FAILED} for row in rows)
        return rows if rows and finished else []

    return await eventually(settled)


NEW_USER_MAIL = re.compile(r"User (\S+) has joined\.")


def joined_usernames(server: SmtpServer) -> list[str]:
    """The usernames of the "New User" mails received, in arrival order."""
    names = []
    for mail in server.received:
        assert mail.rcpt_tos == [ADMIN_ADDRESS]
        match = NEW_USER_MAIL.search(mail.part("text/plain"))
        assert match, mail.part("text/plain")
        names.append(match[1])
    return names


def gated_handler(server: SmtpServer) -> GatedHandler:
    """The GatedHandler of a server from `gated_mail_server`."""
    assert isinstance(server.handler, GatedHandler)
    return server.handler


@pytest.fixture
def gated_mail_server() -> Iterator[SmtpServer]:
    """A real SMTP server that holds the mail until its gate opens."""
    handler = GatedHandler()
    server = SmtpServer(handler).start()
    yield server
    handler.gate.set()
    server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server that accepts everything (sync fixture: off the loop)."""
    server = SmtpServer().start()
    yield server
    server.stop()


__all__ = [
    "app_database",
    "create_tables",
    "reserved_port",
    "started_app",
]
