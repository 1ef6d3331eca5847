"""One batch of claimed messages: sent over one connection, recorded together."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable, Sequence

from quarty.db import Database
from quarty.mail import outbox
from quarty.mail.outbox import RELEASED_OUTCOME, SENT_OUTCOME, Claim, Outcome
from quarty.mail.settings import MailSettings
from quarty.mail.smtp import SmtpConnection, describe_failure

logger = logging.getLogger(__name__)

# Outcomes wait at most this long (plus one send) to be recorded. A crash loses
# only the record, not the mail: a message sent but not yet recorded as sent is
# sent again once its lease runs out, so this bounds the duplicates a crash can
# cause, against one write transaction per message.
RECORD_INTERVAL = 0.25


async def send_batch(
    database: Database, settings: MailSettings, claims: Sequence[Claim]
) -> int:
    """Send claimed messages over one connection; return how many went out.

    A refusal of one message affects only that message. If the connection
    cannot be made (or made again after it dropped), every message left fails
    with that reason. All must be done before the claims can be taken over:
    past half the lease, what is left is handed back unsent, as it is when the
    task is cancelled (shutdown ran out of time).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.send_deadline
    results = _Results(database, settings)
    remaining = deque(claims)
    try:
        async with SmtpConnection(settings) as connection:
            while remaining and loop.time() < deadline:
                await _send_next(connection, remaining, deadline, results)
                if results.age > RECORD_INTERVAL:
                    await results.record()
    except asyncio.CancelledError:
        results.release(remaining)
        await results.record()
        raise
    results.release(remaining)
    await results.record()
    return results.sent


async def _send_next(
    connection: SmtpConnection,
    remaining: deque[Claim],
    deadline: float,
    results: _Results,
) -> None:
    """Send the first message left, taking it (or all, failed) off `remaining`."""
    claim = remaining[0]
    if claim.attempts > results.settings.max_attempts:
        # Its earlier senders died mid-send each time; stop the crash loop.
        results.give_up(claim)
        remaining.popleft()
        return
    try:
        async with asyncio.timeout_at(deadline):
            if not connection.is_open:
                await connection.open()
    except Exception as error:
        results.failures(remaining, error)
        remaining.clear()
        return
    try:
        async with asyncio.timeout_at(deadline):
            reply = await connection.send(
                sender=claim.sender, recipients=[claim.recipient], message=claim.message
            )
    except Exception as error:
        # The next message goes on the same connection, or on a new one if
        # this failure closed it.
        results.failures([claim], error)
    else:
        results.delivered(claim, reply)
    remaining.popleft()


class _Results:
    """A batch's outcomes not yet recorded, logged as they happen."""

    def __init__(self, database: Database, settings: MailSettings) -> None:
        self.database = database
        self.settings = settings
        self.sent = 0
        self._outcomes: list[tuple[Claim, Outcome]] = []
        self._since = 0.0

    @property
    def age(self) -> float:
        """Seconds since the oldest outcome not yet recorded (0 if none)."""
        if not self._outcomes:
            return 0.0
        return asyncio.get_running_loop().time() - self._since

    def _add(self, claim: Claim, outcome: Outcome) -> None:
        if not self._outcomes:
            self._since = asyncio.get_running_loop().time()
        self._outcomes.append((claim, outcome))

    def delivered(self, claim: Claim, reply: str) -> None:
        self._add(claim, SENT_OUTCOME)
        self.sent += 1
        logger.info("mail %d sent to %s: %s", claim.id, claim.recipient, reply)

    def failures(self, claims: Iterable[Claim], error: Exception) -> None:
        failure = describe_failure(error)
        for claim in claims:
            if failure.permanent or claim.attempts >= self.settings.max_attempts:
                self._add(claim, Outcome("failed", reason=failure.reason))
                logger.error(
                    "mail %d to %s failed after %d attempts: %s",
                    claim.id,
                    claim.recipient,
                    claim.attempts,
                    failure.reason,
                )
                continue
            delay = self.settings.retry_delay(claim.attempts)
            self._add(claim, Outcome("retry", reason=failure.reason, delay=delay))
            logger.warning(
                "mail %d to %s not sent (attempt %d of %d), retrying in %.1f s: %s",
                claim.id,
                claim.recipient,
                claim.attempts,
                self.settings.max_attempts,
                delay,
                failure.reason,
            )

    def give_up(self, claim: Claim) -> None:
        reason = f"gave up after {claim.attempts - 1} interrupted attempts"
        self._add(claim, Outcome("failed", reason=reason))
        logger.error("mail %d failed: %s", claim.id, reason)

    def release(self, claims: Iterable[Claim]) -> None:
        for claim in claims:
            self._add(claim, RELEASED_OUTCOME)

    async def record(self) -> None:
        """Write the outcomes so far in one transaction."""
        if not self._outcomes:
            return
        async with self.database.sessionmaker() as session:
            lost = await outbox.record(session, self._outcomes)
        self._outcomes = []
        for claim in lost:
            logger.warning(
                "mail %d: the claim expired and another sender took the message "
                "over; it may be delivered twice",
                claim.id,
            )
