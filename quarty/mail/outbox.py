"""The outbox table's queries: queue, claim, finish, list and retry messages.

A sender claims one due message with a single UPDATE … WHERE id = (SELECT …)
… RETURNING: the row changes from pending to sending only if it is still due
when the UPDATE runs, so of two senders exactly one gets it. SQLite runs one
writer at a time; PostgreSQL adds FOR UPDATE SKIP LOCKED to the subquery so
senders pass over a row another one is claiming instead of waiting on it.
A claim is a lease: a row left in `sending` longer than MAIL_CLAIM_LEASE (its
sender crashed) is due again. A claim is named by (claimed_by, attempts), so a
sender whose lease was taken over cannot overwrite the new owner's result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

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


async def add_message(session: AsyncSession, mail: RenderedMail) -> int:
    """Put a rendered mail in the outbox, due now; return its id. Does not commit."""
    now = utc_now()
    row = OutboxMessage(
        sender=mail.sender,
        recipient=mail.recipient,
        subject=mail.subject[:SUBJECT_MAX_LENGTH],
        message=mail.message,
        status=PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    await session.flush()
    return row.id


def _due(row: Any, now: datetime, lease: float) -> ColumnElement[bool]:
    stale_before = now - timedelta(seconds=lease)
    return or_(
        and_(row.status == PENDING, row.next_attempt_at <= now),
        and_(row.status == SENDING, row.claimed_at <= stale_before),
    )


async def claim_next(
    session: AsyncSession, *, claimed_by: str, lease: float
) -> Claim | None:
    """Claim the next due message for this sender, or None. Commits."""
    now = utc_now()
    candidate_row = aliased(OutboxMessage, name="candidate")
    candidate = (
        select(candidate_row.id)
        .where(_due(candidate_row, now, lease))
        .order_by(candidate_row.next_attempt_at, candidate_row.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claim = (
        update(OutboxMessage)
        .where(OutboxMessage.id == candidate, _due(OutboxMessage, now, lease))
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
    row = (await session.execute(claim, execution_options=_NO_SYNC)).one_or_none()
    await session.commit()
    if row is None:
        return None
    return Claim(
        id=row.id,
        attempts=row.attempts,
        claimed_by=claimed_by,
        sender=row.sender,
        recipient=row.recipient,
        message=row.message,
    )


async def _finish(session: AsyncSession, claim: Claim, **values: Any) -> bool:
    held = update(OutboxMessage).where(
        OutboxMessage.id == claim.id,
        OutboxMessage.status == SENDING,
        OutboxMessage.claimed_by == claim.claimed_by,
        OutboxMessage.attempts == claim.attempts,
    )
    result = await session.execute(held.values(**values), execution_options=_NO_SYNC)
    await session.commit()
    return _rowcount(result) == 1


async def mark_sent(session: AsyncSession, claim: Claim) -> bool:
    """Record a delivery; False if the claim had been taken over. Commits."""
    return await _finish(
        session, claim, status=SENT, sent_at=utc_now(), last_error=None
    )


async def mark_retry(
    session: AsyncSession, claim: Claim, *, reason: str, delay: float
) -> bool:
    """Put the message back as pending after a delay. Commits."""
    return await _finish(
        session,
        claim,
        status=PENDING,
        next_attempt_at=utc_now() + timedelta(seconds=delay),
        claimed_by=None,
        claimed_at=None,
        last_error=reason,
    )


async def mark_failed(session: AsyncSession, claim: Claim, *, reason: str) -> bool:
    """Give up on the message, keeping the reason. Commits."""
    return await _finish(session, claim, status=FAILED, last_error=reason)


async def release(session: AsyncSession, claim: Claim) -> bool:
    """Hand an unfinished claim back as pending, the attempt not counted. Commits."""
    return await _finish(
        session,
        claim,
        status=PENDING,
        attempts=OutboxMessage.attempts - 1,
        claimed_by=None,
        claimed_at=None,
    )


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
    result = await session.execute(
        query.values(status=PENDING, attempts=0, next_attempt_at=utc_now()),
        execution_options=_NO_SYNC,
    )
    await session.commit()
    return _rowcount(result)


def _rowcount(result: Result[Any]) -> int:
    # An UPDATE's result is a CursorResult; the session's signature is wider.
    return cast("CursorResult[Any]", result).rowcount
