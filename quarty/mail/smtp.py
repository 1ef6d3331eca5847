"""Talking to the SMTP server with aiosmtplib, and what its errors mean."""

from __future__ import annotations

from dataclasses import dataclass

import aiosmtplib

from quarty.mail.settings import MailSettings


class NoMailServerError(RuntimeError):
    """MAIL_SERVER is not set, so nothing can be sent."""


@dataclass(frozen=True)
class SendFailure:
    """Why a delivery failed, and whether trying again can help."""

    reason: str
    permanent: bool


async def deliver(
    settings: MailSettings, *, sender: str, recipients: list[str], message: str
) -> str:
    """Send one message; return the server's reply to it. Raises on failure."""
    if settings.server is None:
        raise NoMailServerError("not sent: no MAIL_SERVER")
    client = aiosmtplib.SMTP(
        hostname=settings.server,
        port=settings.port,
        use_tls=settings.use_ssl,
        start_tls=settings.use_tls,
        cert_bundle=settings.ca_file,
        username=settings.username,
        password=settings.password if settings.username else None,
        timeout=settings.timeout,
    )
    try:
        await client.connect()  # with STARTTLS and AUTH as configured
        _refused, reply = await client.sendmail(sender, recipients, message.encode())
    finally:
        # No QUIT: once the server has accepted the message, every further
        # round trip only widens the window in which a stop or a cancelled
        # send makes the outbox send it again. Closing is enough for SMTP.
        client.close()
    return reply


def describe_failure(error: BaseException) -> SendFailure:
    """Classify a delivery error: a 5xx reply is permanent, anything else is not.

    4xx replies, refused or dropped connections, timeouts and TLS trouble may
    pass (or be fixed by the operator), so those are retried.
    """
    if isinstance(error, aiosmtplib.SMTPResponseException):
        reason = f"{error.code} {error.message}"
        return SendFailure(reason, permanent=500 <= error.code < 600)
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
        reason = "; ".join(
            f"{refused.recipient}: {refused.code} {refused.message}"
            for refused in error.recipients
        )
        return SendFailure(reason, permanent=all(500 <= c < 600 for c in codes))
    if isinstance(error, TimeoutError):
        return SendFailure(f"timed out: {str(error) or 'no reply'}", permanent=False)
    return SendFailure(f"{error.__class__.__name__}: {error}", permanent=False)
