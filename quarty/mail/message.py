"""Rendering a templated mail into a complete, header-safe MIME message.

The message is written out directly rather than built as an EmailMessage: that
object model parsed and refolded every header through the policy machinery and
cost about a millisecond of CPU per mail, in the request that queues it. What
needs care still goes through the email package: a header value that is not
short printable ASCII is encoded (RFC 2047) and folded by the same SMTP policy
the EmailMessage used, which also refuses line breaks in it, and a body that is
not short-lined ASCII is quoted-printable.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy, quoprimime
from email.headerregistry import Address
from email.utils import format_datetime, make_msgid
from typing import Any

from quart import render_template

# Header values with CR or LF raise instead of starting a new header; the
# message is stored with "\n" line ends (SMTP clients send them as CRLF).
MESSAGE_POLICY = policy.SMTP.clone(raise_on_defect=True, cte_type="7bit", linesep="\n")

# RFC 5322's recommended line length, the policy's folding width.
MAX_LINE_LENGTH = MESSAGE_POLICY.max_line_length or 78
# RFC 2045 limits quoted-printable lines to 76 characters.
QP_LINE_LENGTH = 76


@dataclass(frozen=True)
class RenderedMail:
    """A message ready for the outbox: its envelope and its RFC 5322 text."""

    sender: str
    recipient: str
    subject: str
    message: str


def single_line(text: str) -> str:
    """Whitespace runs, line breaks included, folded into single spaces."""
    return " ".join(text.split())


async def render_mail(
    *,
    sender: Address,
    to: Address,
    subject: str,
    template: str,
    **context: Any,
) -> RenderedMail:
    """Render templates/<template>.txt and .html into a multipart/alternative mail.

    The subject is folded onto one line; the HTML part is autoescaped by Jinja.
    """
    text_body = await render_template(f"{template}.txt", **context)
    html_body = await render_template(f"{template}.html", **context)
    subject = single_line(subject)
    return RenderedMail(
        sender=sender.addr_spec,
        recipient=to.addr_spec,
        subject=subject,
        message=compose_message(
            sender=sender, to=to, subject=subject, text=text_body, html=html_body
        ),
    )


def compose_message(
    *, sender: Address, to: Address, subject: str, text: str, html: str
) -> str:
    """A multipart/alternative message with a plain and an HTML part, as text.

    The subject is folded onto one line. Raises ValueError for a header value
    that still holds a line break.
    """
    headers = "".join(
        (
            _header("Subject", single_line(subject)),
            _header("From", sender),
            _header("To", to),
            _header("Date", format_datetime(datetime.now(UTC))),
            # An explicit domain: make_msgid() would otherwise look up this
            # host's FQDN, a blocking DNS query. The id also lets a receiver
            # spot a redelivery.
            _header("Message-ID", make_msgid(domain=sender.domain)),
        )
    )
    plain = _text_part("plain", text)
    rich = _text_part("html", html)
    boundary = _boundary(plain + rich)
    return (
        f"{headers}MIME-Version: 1.0\n"
        f'Content-Type: multipart/alternative;\n boundary="{boundary}"\n'
        f"\n--{boundary}\n{plain}\n--{boundary}\n{rich}\n--{boundary}--\n"
    )


def _header(name: str, value: str | Address) -> str:
    line = f"{name}: {value}"
    if len(line) <= MAX_LINE_LENGTH and line.isascii() and line.isprintable():
        return line + "\n"
    # Encoded words, folding, and the refusal of CR/LF: the policy's own work,
    # exactly as EmailMessage does it when a header is set and written out.
    _name, header = MESSAGE_POLICY.header_store_parse(name, value)
    folded: str = header.fold(policy=MESSAGE_POLICY)
    return folded


def _text_part(subtype: str, body: str) -> str:
    # Line ends as EmailMessage.set_content() takes them: CR, LF or CRLF (the
    # bytes' splitlines, not str's, which also splits on form feeds and such).
    lines = body.encode("utf-8").splitlines()
    content = b"\n".join(lines) + b"\n"
    if content.isascii() and all(len(line) <= MAX_LINE_LENGTH for line in lines):
        encoding, payload = "7bit", content.decode("ascii")
    else:
        encoding = "quoted-printable"
        # One character per byte: quoprimime encodes by code point below 256.
        payload = quoprimime.body_encode(content.decode("latin-1"), QP_LINE_LENGTH)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\n'
        f"Content-Transfer-Encoding: {encoding}\n\n{payload}"
    )


def _boundary(bodies: str) -> str:
    # As email.generator makes them: random, and checked against the content
    # (a name in the body cannot end a part early).
    while True:
        token = random.randrange(sys.maxsize)
        boundary = f"{'=' * 15}{token:019d}=="
        if f"--{boundary}" not in bodies:
            return boundary
