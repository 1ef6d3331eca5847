"""`quart --app quarty mail …`: look at the outbox, retry failed mail, test SMTP."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import click
from quart import Quart
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.cli.running import fail, in_session
from quarty.mail import EXTENSION_KEY, OutboxSender, outbox
from quarty.mail.message import render_mail
from quarty.mail.settings import MailSettings, parse_address
from quarty.mail.smtp import deliver, describe_failure
from quarty.models import OutboxMessage

T = TypeVar("T")


def init_app(app: Quart) -> None:
    """Add the `mail` command group to the app's CLI."""

    @app.cli.group("mail")
    def mail() -> None:
        """The outbox: list messages, retry failed ones, send a test message."""

    @mail.command("list")
    @click.option(
        "--status", type=click.Choice(outbox.STATUSES), help="Only this status."
    )
    @click.option("--limit", default=50, show_default=True, help="At most this many.")
    def list_command(status: str | None, limit: int) -> None:
        """Show the newest outbox messages and how many are in each status."""

        async def query(
            session: AsyncSession,
        ) -> tuple[dict[str, int], Sequence[OutboxMessage]]:
            counts = await outbox.count_by_status(session)
            rows = await outbox.list_messages(session, status=status, limit=limit)
            return counts, rows

        counts, rows = _run_in_session(app, query)
        click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))
        for row in rows:
            created = outbox.as_utc(row.created_at).strftime("%Y-%m-%d %H:%M:%SZ")
            click.echo(
                f"{row.id:>6}  {row.status:<8} {row.attempts:>2} attempt(s)  "
                f"{created}  to {row.recipient}  {row.subject}"
            )
            if row.last_error:
                click.echo(f"        last error: {row.last_error}")

    @mail.command("retry")
    @click.argument("ids", nargs=-1, type=int)
    def retry_command(ids: tuple[int, ...]) -> None:
        """Make failed messages pending again (all of them, or these IDS)."""

        async def requeue(session: AsyncSession) -> int:
            return await outbox.retry_failed(session, ids=ids or None)

        count = _run_in_session(app, requeue)
        click.echo(
            f"{count} failed message(s) pending again; the running app sends them "
            "within MAIL_POLL_INTERVAL, or at its next start."
        )

    @mail.command("send-test")
    @click.argument("to")
    def send_test_command(to: str) -> None:
        """Send a test message to TO now, bypassing the outbox; show the reply."""
        try:
            recipient = parse_address(to)
        except ValueError as exc:
            fail(f"{to!r} is not a valid email address: {exc}")
        settings = _settings(app)
        if settings.server is None:
            fail("not sent: no MAIL_SERVER is configured")
        try:
            reply = asyncio.run(_send_test(app, settings, recipient.addr_spec))
        except Exception as exc:
            fail(f"not sent: {describe_failure(exc).reason}")
        click.echo(f"Sent to {recipient.addr_spec} via {settings.server}: {reply}")


def _settings(app: Quart) -> MailSettings:
    sender: OutboxSender = app.extensions[EXTENSION_KEY]
    return sender.settings


async def _send_test(app: Quart, settings: MailSettings, to: str) -> str:
    if settings.sender is None:
        raise ValueError("QUARTY_MAIL_SENDER is not a valid email address")
    async with app.app_context():
        mail = await render_mail(
            sender=settings.sender,
            to=parse_address(to),
            subject=f"{settings.subject_prefix} Test message",
            template="mail/test",
            server=f"{settings.server}:{settings.port}",
        )
        return await deliver(
            settings, sender=mail.sender, recipients=[to], message=mail.message
        )


def _run_in_session(app: Quart, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    try:
        return asyncio.run(in_session(app, work))
    except (SQLAlchemyError, OSError) as exc:
        fail(f"cannot read the outbox: {exc.__class__.__name__}: {exc}")
