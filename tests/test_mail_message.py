"""The composed mail: what a mail client reads of it, whatever the text holds."""

from __future__ import annotations

from email import message_from_string, policy
from email.headerregistry import Address
from email.message import EmailMessage

from quarty.mail.message import compose_message

SENDER = Address("Quarty", addr_spec="quarty@example.com")
ADMIN = Address("Quarty Admin", addr_spec="admin@example.com")


def parse(text: str) -> EmailMessage:
    message = message_from_string(text, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


def parts(message: EmailMessage) -> dict[str, str]:
    """Each part's content by its type, checked to have parsed cleanly."""
    contents = {}
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        assert not part.defects
        contents[part.get_content_type()] = part.get_content()
    return contents


def test_the_new_user_mail_is_plain_seven_bit_text_within_78_columns() -> None:
    composed = compose_message(
        sender=SENDER,
        to=ADMIN,
        subject="[Quarty] New User",
        text="User Grace has joined.\n",
        html="<p>User <b>Grace</b> has joined.</p>\n",
    )
    assert max(len(line) for line in composed.splitlines()) <= 78
    assert composed.count("Content-Transfer-Encoding: 7bit") == 2
    message = parse(composed)
    assert message["Subject"] == "[Quarty] New User"
    assert message.get_content_type() == "multipart/alternative"
    assert parts(message) == {
        "text/plain": "User Grace has joined.\n",
        "text/html": "<p>User <b>Grace</b> has joined.</p>\n",
    }


def test_unicode_names_subjects_and_long_lines_read_back_unchanged() -> None:
    body = "Zoë joined — " + "ünïcödé " * 30 + "\n"
    composed = compose_message(
        sender=SENDER,
        to=Address("Jürgen Ærø", addr_spec="admin@example.com"),
        subject="[Quarty] Nouvel utilisateur : Zoë " + "très long " * 10,
        text=body,
        html=f"<p>{body}</p>\n",
    )
    assert composed.isascii()
    assert max(len(line) for line in composed.splitlines()) <= 78
    message = parse(composed)
    assert message["Subject"].startswith("[Quarty] Nouvel utilisateur : Zoë")
    assert message["To"].addresses[0].display_name == "Jürgen Ærø"
    assert parts(message) == {"text/plain": body, "text/html": f"<p>{body}</p>\n"}


def test_a_body_cannot_close_the_multipart_early() -> None:
    body = "--===============0000000000000000000==--\n--x\n"
    composed = compose_message(
        sender=SENDER, to=ADMIN, subject="s", text=body, html=body
    )
    assert parts(parse(composed)) == {"text/plain": body, "text/html": body}


def test_a_subject_with_line_breaks_is_folded_onto_one_line() -> None:
    composed = compose_message(
        sender=SENDER, to=ADMIN, subject="Hi\r\nBcc: x@evil.example", text="t", html="h"
    )
    message = parse(composed)
    assert message["Subject"] == "Hi Bcc: x@evil.example"
    assert message["Bcc"] is None
