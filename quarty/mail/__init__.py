"""Mail that is never lost: rendered into a durable outbox, sent by the app's task.

A change that causes mail queues it with `queue_email()` in the change's own
transaction and calls `notify_sender()` after the commit; the request never
waits for SMTP. `send_email()` does both for mail that stands alone.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from email.headerregistry import Address
from typing import Any

from quart import Quart, current_app
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import EXTENSION_KEY as DB_KEY
from quarty.db import get_database, writing
from quarty.mail import outbox
from quarty.mail.message import RenderedMail, render_mail
from quarty.mail.sender import OutboxSender
from quarty.mail.settings import MailSettings, config_problems, parse_address

__all__ = [
    "OutboxSender",
    "get_sender",
    "init_app",
    "notify_sender",
    "queue_email",
    "queue_new_user_mail",
    "render_email",
    "render_new_user_mail",
    "send_email",
]

EXTENSION_KEY = "quarty.mail"

logger = logging.getLogger(__name__)


def init_app(app: Quart) -> None:
    """Check the mail settings, and run the outbox sender while the app serves."""
    for problem in config_problems(app.config):
        # Production refuses these in ProductionConfig.init_app, before this.
        logger.warning("mail settings: %s", problem)
    sender = OutboxSender(app.extensions[DB_KEY], MailSettings.from_config(app.config))
    app.extensions[EXTENSION_KEY] = sender

    # while_serving ends before the after_serving hooks that close the database.
    @app.while_serving
    async def _run_outbox_sender() -> AsyncGenerator[None, None]:
        await sender.start()
        yield
        await sender.stop()


def get_sender() -> OutboxSender:
    """The current app's outbox sender."""
    sender: OutboxSender = current_app.extensions[EXTENSION_KEY]
    return sender


def notify_sender(message_id: int) -> None:
    """Wake the sender for a message whose transaction has committed."""
    get_sender().notify(message_id)


async def queue_email(
    session: AsyncSession,
    to: str | Address,
    subject: str,
    template: str,
    **context: Any,
) -> int:
    """Render a mail into the outbox in the session's transaction; return its id.

    Flushes but does not commit: the mail is stored if and only if the
    caller's change is. Raises ValueError for an invalid recipient or
    QUARTY_MAIL_SENDER.
    """
    mail = await render_email(to, subject, template, **context)
    return await _queued(session, mail)


async def render_email(
    to: str | Address, subject: str, template: str, **context: Any
) -> RenderedMail:
    """Render a mail from QUARTY_MAIL_SENDER, its subject prefixed, ready to queue.

    Raises ValueError for an invalid recipient or QUARTY_MAIL_SENDER.
    """
    settings = get_sender().settings
    if settings.sender is None:
        raise ValueError("QUARTY_MAIL_SENDER is not a valid email address")
    return await render_mail(
        sender=settings.sender,
        to=to if isinstance(to, Address) else parse_address(to),
        subject=f"{settings.subject_prefix} {subject}",
        template=template,
        **context,
    )


async def send_email(
    to: str | Address, subject: str, template: str, **context: Any
) -> int:
    """Queue a mail in a transaction of its own and wake the sender; return its id."""
    async with get_database().sessionmaker() as session, writing(session):
        message_id = await queue_email(session, to, subject, template, **context)
    notify_sender(message_id)
    return message_id


async def render_new_user_mail(*, username: str) -> RenderedMail | None:
    """The "New User" mail to QUARTY_ADMIN, or None without a valid admin address."""
    settings = get_sender().settings
    if settings.admin is None or settings.sender is None:
        return None
    return await render_mail(
        sender=settings.sender,
        to=settings.admin,
        subject=f"{settings.subject_prefix} New User",
        template="mail/new_user",
        username=username,
    )


async def queue_new_user_mail(session: AsyncSession, *, username: str) -> int | None:
    """Queue the "New User" mail to QUARTY_ADMIN, if there is a valid one; flushes."""
    mail = await render_new_user_mail(username=username)
    return None if mail is None else await _queued(session, mail)


async def _queued(session: AsyncSession, mail: RenderedMail) -> int:
    # Flushed, so that the row has its id; committed with the caller's change.
    message = outbox.add_message(session, mail)
    await session.flush()
    return message.id
