"""The composed mail reads exactly as the EmailMessage it replaced would have."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_string, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from functools import partial

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quarty.mail.message import MESSAGE_POLICY, compose_message, single_line

SENDER = Address("Quarty", addr_spec="quarty@example.com")
ADMIN = Address("Quarty Admin", addr_spec="admin@example.com")

# Printable ASCII: the header values written without the policy's help.
printable_ascii = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E))


def reference_message(
    *, sender: Address, to: Address, subject: str, text: str, html: str
) -> str:
    """The message as quarty built it before: EmailMessage under the SMTP policy."""
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["Subject"] = single_line(subject)
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_string()


def parse(text: str) -> EmailMessage:
    message = message_from_string(text, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def readable(text: str) -> dict[str, object]:
    """What a mail client shows of a message, and whether it parsed cleanly."""
    message = parse(text)
    parts = []
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        assert not part.defects
        parts.append(
            (part.get_content_type(), part.get_content_charset(), part.get_content())
        )
    assert not message.defects
    return {
        "subject": message["Subject"],
        "from": [(a.display_name, a.addr_spec) for a in message["From"].addresses],
        "to": [(a.display_name, a.addr_spec) for a in message["To"].addresses],
        "mime": (message["MIME-Version"], message.get_content_type()),
        "message_id_domain": message["Message-ID"].rpartition("@")[2],
        "parts": parts,
    }


def assert_reads_like_the_reference(
    *, sender: Address, to: Address, subject: str, text: str, html: str
) -> str:
    compose = partial(
        compose_message, sender=sender, to=to, subject=subject, text=text, html=html
    )
    try:
        expected = reference_message(
            sender=sender, to=to, subject=subject, text=text, html=html
        )
    except ValueError:
        with pytest.raises(ValueError):
            compose()
        return ""
    composed = compose()
    assert readable(composed) == readable(expected)
    sent_at = parsedate_to_datetime(parse(composed)["Date"])
    assert abs(sent_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert composed.isascii()
    # Lines within 78 columns where the reference kept them there (it cannot
    # fold a header's long unbroken word either), and never past SMTP's 998.
    assert longest_line(composed) <= max(78, longest_line(expected))
    assert longest_line(composed) <= 998
    return composed


def longest_line(text: str) -> int:
    return max(len(line) for line in text.split("\n"))


def test_the_new_user_mail_is_plain_seven_bit_text_within_78_columns() -> None:
    composed = assert_reads_like_the_reference(
        sender=SENDER,
        to=ADMIN,
        subject="[Quarty] New User",
        text="User Grace has joined.\n",
        html="<p>User <b>Grace</b> has joined.</p>\n",
    )
    assert longest_line(composed) <= 78
    assert composed.count("Content-Transfer-Encoding: 7bit") == 2
    assert "User <b>Grace</b> has joined." in composed


@pytest.mark.parametrize(
    ("subject", "display_name", "body"),
    [
        ("[Quarty] Nouvel utilisateur: José", "Équipe Quarty", "Åsa a rejoint.\n"),
        ("[Quarty] " + "long " * 40, "Doe, Jane", "x" * 200),
        ("=?utf-8?q?caf=C3=A9?=", 'A "quoted" name', "line\r\nline\rline\nend"),
        ("tab\there", "", "trailing spaces   \n\ttab\n.dot\nFrom here\n"),
        ("日本語の件名", "名前", "本文\u2028separator\x0cform feed\x85next"),
        ("", "x" * 90, ""),
    ],
)
def test_unusual_mail_reads_like_the_reference(
    subject: str, display_name: str, body: str
) -> None:
    assert_reads_like_the_reference(
        sender=SENDER,
        to=Address(display_name, addr_spec="admin@example.com"),
        subject=subject,
        text=body,
        html=f"<p>{body}</p>",
    )


def test_a_body_cannot_close_the_multipart_early() -> None:
    body = "--===============0000000000000000000==--\n--x\n"
    composed = assert_reads_like_the_reference(
        sender=SENDER, to=ADMIN, subject="s", text=body, html=body
    )
    assert len(parse(composed).get_payload()) == 2


@pytest.mark.parametrize(
    "subject", ["Hello\x00there", "bell\x07", "ctrl\x1b[31m", "\udcff surrogate"]
)
def test_odd_subjects_are_refused_or_kept_as_the_reference_does(subject: str) -> None:
    assert_reads_like_the_reference(
        sender=SENDER, to=ADMIN, subject=subject, text="t", html="h"
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=st.text(max_size=200),
    display_name=st.one_of(printable_ascii, st.text()).filter(
        lambda name: "\r" not in name and "\n" not in name
    ),
    text=st.text(max_size=400),
    html=st.text(max_size=400),
)
@example(subject="a" * 69, display_name="", text="", html="")
@example(subject="a" * 70, display_name="b" * 60, text="é", html="\r")
def test_any_mail_reads_like_the_reference(
    subject: str, display_name: str, text: str, html: str
) -> None:
    assert_reads_like_the_reference(
        sender=SENDER,
        to=Address(display_name, addr_spec="admin@example.com"),
        subject=subject,
        text=text,
        html=html,
    )
