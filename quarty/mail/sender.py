"""The app's one outbox sender: an asyncio task started and awaited by the app."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket

from quarty.db import Database
from quarty.mail import outbox
from quarty.mail.batch import send_batch
from quarty.mail.settings import MailSettings

logger = logging.getLogger(__name__)

# The shortest wait between two passes, so that a due row another sender holds
# locked for a moment does not make this one spin.
MIN_WAIT = 0.01


class OutboxSender:
    """Sends due outbox messages, from a task owned by the app.

    It claims up to MAIL_BATCH_SIZE due messages at a time and sends them over
    one SMTP connection (quarty.mail.batch). `notify()` wakes it after a commit
    queued mail; otherwise it wakes when the next retry is due, or every
    MAIL_POLL_INTERVAL to pick up what other instances left. `stop()` lets it
    send what is due, within MAIL_SHUTDOWN_TIMEOUT, and hands back unfinished
    sends as pending.
    """

    def __init__(self, database: Database, settings: MailSettings) -> None:
        self.database = database
        self.settings = settings
        # Names this process's claims in the outbox; readable for `mail list`.
        self.name = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the sending task is alive."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start sending: what is pending now goes out first."""
        if self.settings.server is None:
            await self._report_unsendable()
            return
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"outbox {self.name}")

    def notify(self, message_id: int) -> None:
        """Tell the sender a message was committed to the outbox."""
        if self.settings.server is None:
            logger.warning(
                "mail %d is in the outbox, not sent: no MAIL_SERVER", message_id
            )
        elif not self.running:
            logger.info(
                "mail %d is in the outbox; it is sent when the app serves", message_id
            )
        else:
            self._wake.set()

    async def stop(self) -> None:
        """Send what is due, within the shutdown timeout; leave the rest pending."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(self._task, timeout=self.settings.shutdown_timeout)
        except TimeoutError:
            logger.warning(
                "outbox: shutdown timeout (%.1f s) reached; unsent mail stays "
                "pending for the next start",
                self.settings.shutdown_timeout,
            )
        finally:
            self._task = None

    async def send_due(self) -> int:
        """Claim and send due messages until none is left; return how many sent."""
        sent = 0
        while True:
            # A commit notified from here on is either seen by this claim or
            # sets the event again, and the pass goes on.
            self._wake.clear()
            async with self.database.sessionmaker() as session:
                claims = await outbox.claim_due(
                    session,
                    claimed_by=self.name,
                    lease=self.settings.claim_lease,
                    limit=self.settings.batch_size,
                )
            if not claims:
                return sent
            sent += await send_batch(self.database, self.settings, claims)
            # A short batch took all that was due when it was claimed; unless
            # mail was queued (or a stop asked for) since, nothing is left, and
            # the empty claim that would show it, a write, is not needed.
            if len(claims) < self.settings.batch_size and not self._wake.is_set():
                return sent

    async def _run(self) -> None:
        while True:
            try:
                await self.send_due()
            except Exception:
                # Most likely the database is unreachable: a claim made so far
                # expires with its lease, and the next pass tries again.
                logger.exception("outbox: the sending pass stopped")
            if self._stopping:
                return
            wait = await self._seconds_to_next_due()
            try:
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                continue
            if not self._stopping:
                # Mail comes in bursts under load: what is committed meanwhile
                # joins this batch, instead of each message costing a claim, a
                # connection and a record of its own.
                await asyncio.sleep(self.settings.batch_wait)

    async def _seconds_to_next_due(self) -> float:
        try:
            async with self.database.sessionmaker() as session:
                due_at = await outbox.next_due_at(
                    session, lease=self.settings.claim_lease
                )
        except Exception:
            logger.exception("outbox: cannot read the outbox")
            return self.settings.poll_interval
        if due_at is None:
            return self.settings.poll_interval
        wait = (due_at - outbox.utc_now()).total_seconds()
        return min(max(wait, MIN_WAIT), self.settings.poll_interval)

    async def _report_unsendable(self) -> None:
        try:
            async with self.database.sessionmaker() as session:
                counts = await outbox.count_by_status(session)
        except Exception as error:
            # Start-up goes on: this is a report, the sender is not running.
            logger.warning("outbox: cannot read the outbox: %s", error)
            return
        waiting = counts[outbox.PENDING] + counts[outbox.SENDING]
        if waiting:
            logger.warning(
                "%d mail(s) in the outbox, not sent: no MAIL_SERVER", waiting
            )
