"""The app's one outbox sender: an asyncio task started and awaited by the app."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database
from quarty.mail import outbox
from quarty.mail.outbox import Claim
from quarty.mail.settings import MailSettings
from quarty.mail.smtp import deliver, describe_failure

logger = logging.getLogger(__name__)

# The shortest wait between two passes, so that a due row another sender holds
# locked for a moment does not make this one spin.
MIN_WAIT = 0.01


class OutboxSender:
    """Sends due outbox messages one by one, from a task owned by the app.

    `notify()` wakes it after a commit queued mail; otherwise it wakes when the
    next retry is due, or every MAIL_POLL_INTERVAL to pick up what other
    instances left. `stop()` lets it send what is due, within
    MAIL_SHUTDOWN_TIMEOUT, and hands back an unfinished send as pending.
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
            async with self.database.sessionmaker() as session:
                claim = await outbox.claim_next(
                    session, claimed_by=self.name, lease=self.settings.claim_lease
                )
            if claim is None:
                return sent
            sent += await self._send(claim)

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
                pass
            self._wake.clear()

    async def _send(self, claim: Claim) -> int:
        if claim.attempts > self.settings.max_attempts:
            # Its earlier senders died mid-send each time; stop the crash loop.
            reason = f"gave up after {claim.attempts - 1} interrupted attempts"
            await self._finish(
                claim, lambda s: outbox.mark_failed(s, claim, reason=reason)
            )
            logger.error("mail %d failed: %s", claim.id, reason)
            return 0
        try:
            async with asyncio.timeout(self.settings.send_deadline):
                reply = await deliver(
                    self.settings,
                    sender=claim.sender,
                    recipients=[claim.recipient],
                    message=claim.message,
                )
        except asyncio.CancelledError:
            # Shutdown ran out of time: the message goes back to pending.
            await self._finish(claim, lambda s: outbox.release(s, claim))
            raise
        except Exception as error:
            await self._record_failure(claim, error)
            return 0
        await self._finish(claim, lambda s: outbox.mark_sent(s, claim))
        logger.info("mail %d sent to %s: %s", claim.id, claim.recipient, reply)
        return 1

    async def _record_failure(self, claim: Claim, error: Exception) -> None:
        failure = describe_failure(error)
        if failure.permanent or claim.attempts >= self.settings.max_attempts:
            await self._finish(
                claim, lambda s: outbox.mark_failed(s, claim, reason=failure.reason)
            )
            logger.error(
                "mail %d to %s failed after %d attempts: %s",
                claim.id,
                claim.recipient,
                claim.attempts,
                failure.reason,
            )
            return
        delay = self.settings.retry_delay(claim.attempts)
        await self._finish(
            claim,
            lambda s: outbox.mark_retry(s, claim, reason=failure.reason, delay=delay),
        )
        logger.warning(
            "mail %d to %s not sent (attempt %d of %d), retrying in %.1f s: %s",
            claim.id,
            claim.recipient,
            claim.attempts,
            self.settings.max_attempts,
            delay,
            failure.reason,
        )

    async def _finish(
        self, claim: Claim, record: Callable[[AsyncSession], Awaitable[bool]]
    ) -> None:
        async with self.database.sessionmaker() as session:
            held = await record(session)
        if not held:
            logger.warning(
                "mail %d: the claim expired and another sender took the message "
                "over; it may be delivered twice",
                claim.id,
            )

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
