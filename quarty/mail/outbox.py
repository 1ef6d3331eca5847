"""The outbox table's queries: queue, claim, finish, list and retry messages.

A sender claims a batch of due messages with a single WITH candidates AS
(SELECT … LIMIT n) UPDATE … WHERE id IN candidates … RETURNING: a row changes
from pending to sending only if it is still due when the UPDATE runs, so of two
senders exactly one gets it. SQLite runs one writer at a time; PostgreSQL adds
FOR UPDATE SKIP LOCKED to the candidates so senders pass over rows another one
is claiming instead of waiting on them. A claim is a lease: a row left in
`sending` longer than MAIL_CLAIM_LEASE (its sender crashed) is due again. A
claim is named by (claimed_by, attempts), so a sender whose lease was taken
over cannot overwrite the new owner's result. What became of a batch is
recorded in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Result,
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from quarty.db import writing
from quarty.mail.message import RenderedMail
from quarty.models import OutboxMessage

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
STATUSES = (PENDING, SENDING, SENT, FAILED)

SUBJECT_MAX_LENGTH = 255

# ORM-enabled UPDATEs here change rows the session has not loaded.
_NO_SYNC = {"synchronize_session": False}


@dataclass(frozen=True)
class Claim:
    """One message a sender holds: what to send and who holds it."""

    id: int
    attempts: int
    claimed_by: str
    sender: str
    recipient: str
    message: str


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time as aware UTC (SQLite gives back naive UTC values)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def add_message(session: AsyncSession, mail: RenderedMail) -> OutboxMessage:
    """Put a rendered mail in the outbox, due now. Does not flush or commit.

    The row is written with the session's next flush, in the caller's
    transaction: the mail is stored if and only if the caller's change is.
    """
    now = utc_now()
    message = OutboxMessage(
        sender=mail.sender,
        recipient=mail.recipient,
        subject=mail.subject[:SUBJECT_MAX_LENGTH],
        message=mail.message,
        status=PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    return message


def _due(row: Any, now: datetime, lease: float) -> ColumnElement[bool]:
    stale_before = now - timedelta(seconds=lease)
    return or_(
        and_(row.status == PENDING, row.next_attempt_at <= now),
        and_(row.status == SENDING, row.claimed_at <= stale_before),
    )


async def claim_due(
    session: AsyncSession, *, claimed_by: str, lease: float, limit: int
) -> list[Claim]:
    """Claim up to `limit` due messages for this sender, by id. Commits."""
    now = utc_now()
    candidate_row = aliased(OutboxMessage, name="candidate")
    candidates = (
        select(candidate_row.id)
        .where(_due(candidate_row, now, lease))
        .order_by(candidate_row.next_attempt_at, candidate_row.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        # Evaluated once: PostgreSQL may run an IN (subquery) again per row,
        # and with SKIP LOCKED each run can pick other rows, past the LIMIT.
        .cte("candidates")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    claim = (
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(select(candidates.c.id)),
            _due(OutboxMessage, now, lease),
        )
        .values(
            status=SENDING,
            claimed_by=claimed_by,
            claimed_at=now,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(
            OutboxMessage.id,
            OutboxMessage.attempts,
            OutboxMessage.sender,
            OutboxMessage.recipient,
            OutboxMessage.message,
        )
    )
    async with writing(session):
        rows = (await session.execute(claim, execution_options=_NO_SYNC)).all()
    # RETURNING gives no order; the oldest messages go first.
    return [
        Claim(
            id=row.id,
            attempts=row.attempts,
            claimed_by=claimed_by,
            sender=row.sender,
            recipient=row.recipient,
            message=row.message,
        )
        for row in sorted(rows, key=lambda row: row.id)
    ]


@dataclass(frozen=True)
class Outcome:
    """What became of a claimed message, to be recorded in its row.

    `sent`; `retry` after `delay` seconds (the attempt counted); `failed` for
    good; or `released` unfinished, pending at once, the attempt not counted.
    """

    kind: Literal["sent", "retry", "failed", "released"]
    reason: str | None = None
    delay: float = 0.0

    def values(self, now: datetime) -> dict[str, Any]:
        """The row's new column values."""
        if self.kind == "sent":
            # When recorded: a sender records within a fraction of a second.
            return {"status": SENT, "sent_at": now, "last_error": None}
        if self.kind == "failed":
            return {"status": FAILED, "last_error": self.reason}
        unclaimed = {"status": PENDING, "claimed_by": None, "claimed_at": None}
        if self.kind == "retry":
            return {
                **unclaimed,
                "next_attempt_at": now + timedelta(seconds=self.delay),
                "last_error": self.reason,
            }
        return {**unclaimed, "attempts": OutboxMessage.attempts - 1}


SENT_OUTCOME = Outcome("sent")
RELEASED_OUTCOME = Outcome("released")


async def record(
    session: AsyncSession, outcomes: Sequence[tuple[Claim, Outcome]]
) -> list[Claim]:
    """Record what became of claimed messages, in one transaction. Commits.

    A row changes only while its claim holds, so a sender whose lease was
    taken over cannot overwrite the new owner's result; the claims that had
    been taken over are returned. One UPDATE covers every claim with the same
    outcome and attempt number: a batch that all went out is one statement.
    """
    now = utc_now()
    groups: dict[tuple[str, int, Outcome], list[int]] = defaultdict(list)
    for claim, outcome in outcomes:
        groups[claim.claimed_by, claim.attempts, outcome].append(claim.id)
    statements = [
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.status == SENDING,
            OutboxMessage.claimed_by == claimed_by,
            OutboxMessage.attempts == attempts,
        )
        .values(**outcome.values(now))
        .returning(OutboxMessage.id)
        for (claimed_by, attempts, outcome), ids in groups.items()
    ]

    held: set[int] = set()
    async with writing(session):
        for statement in statements:
            result = await session.execute(statement, execution_options=_NO_SYNC)
            held.update(result.scalars())
    return [claim for claim, _outcome in outcomes if claim.id not in held]


async def next_due_at(session: AsyncSession, *, lease: float) -> datetime | None:
    """When the earliest message becomes due (a pending retry or a stale claim)."""
    pending = await session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == PENDING
        )
    )
    claimed = await session.scalar(
        select(func.min(OutboxMessage.claimed_at)).where(
            OutboxMessage.status == SENDING
        )
    )
    moments = [as_utc(pending)] if pending is not None else []
    if claimed is not None:
        moments.append(as_utc(claimed) + timedelta(seconds=lease))
    return min(moments, default=None)


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    """How many messages are in each status (every status present, maybe 0)."""
    counts = dict.fromkeys(STATUSES, 0)
    rows = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    for status, count in rows:
        counts[status] = count
    return counts


async def list_messages(
    session: AsyncSession, *, status: str | None = None, limit: int = 50
) -> Sequence[OutboxMessage]:
    """The newest messages first, optionally of one status."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return (await session.scalars(query)).all()


async def retry_failed(
    session: AsyncSession, *, ids: Sequence[int] | None = None
) -> int:
    """Make failed messages pending again, due now, attempts reset. Commits."""
    query = update(OutboxMessage).where(OutboxMessage.status == FAILED)
    if ids:
        query = query.where(OutboxMessage.id.in_(ids))
    async with writing(session):
        result = await session.execute(
            query.values(status=PENDING, attempts=0, next_attempt_at=utc_now()),
            execution_options=_NO_SYNC,
        )
    return _rowcount(result)


def _rowcount(result: Result[Any]) -> int:
    # An UPDATE's result is a CursorResult; the session's signature is wider.
    return cast("CursorResult[Any]", result).rowcount
