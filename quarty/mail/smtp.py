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


class SmtpConnection:
    """One SMTP session that carries several messages, one after the other.

    `open()` connects (with STARTTLS and AUTH as configured); `send()` sends a
    message over it. A refusal of one message (a 4xx or 5xx reply) leaves the
    session usable, aiosmtplib having reset the envelope; any other failure (a
    dropped connection, a timeout, a cancellation) closes it, as its state is
    unknown, and `is_open` turns false. Used as a context manager it closes at
    the end.
    """

    def __init__(self, settings: MailSettings) -> None:
        self._settings = settings
        self._client: aiosmtplib.SMTP | None = None

    @property
    def is_open(self) -> bool:
        """Whether a message can be sent without connecting first."""
        return self._client is not None and self._client.is_connected

    async def open(self) -> None:
        """Connect and greet the server. Raises on failure."""
        settings = self._settings
        if settings.server is None:
            raise NoMailServerError("not sent: no MAIL_SERVER")
        self.close()
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
            await client.connect()
        except BaseException:
            client.close()
            raise
        self._client = client

    async def send(self, *, sender: str, recipients: list[str], message: str) -> str:
        """Send one message; return the server's reply to it. Raises on failure."""
        if self._client is None:
            raise aiosmtplib.SMTPServerDisconnected("not connected")
        try:
            _refused, reply = await self._client.sendmail(
                sender, recipients, message.encode()
            )
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
            if not self._client.is_connected:  # e.g. a 421: the server hung up
                self.close()
            raise
        except BaseException:
            self.close()
            raise
        return reply

    def close(self) -> None:
        """Drop the connection, without QUIT.

        The batch's results are recorded after this: once the server has
        accepted the last message, a QUIT round trip would only widen the
        window in which a crash or a cancelled stop makes the outbox send
        messages again. Closing is enough for SMTP.
        """
        if self._client is not None:
            self._client.close()
            self._client = None

    async def __aenter__(self) -> SmtpConnection:
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        self.close()


async def deliver(
    settings: MailSettings, *, sender: str, recipients: list[str], message: str
) -> str:
    """Send one message on a connection of its own; return the server's reply."""
    async with SmtpConnection(settings) as connection:
        await connection.open()
        return await connection.send(
            sender=sender, recipients=recipients, message=message
        )


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
