"""Hostile names cannot inject headers or HTML; bad addresses are caught at start-up."""

from __future__ import annotations

import logging
from email import message_from_string, policy
from email.headerregistry import Address

import pytest
from quart.testing import QuartClient

from quarty import create_app
from quarty.config import ConfigError
from quarty.mail import get_sender, queue_email
from quarty.mail.message import compose_message
from quarty.mail.settings import parse_address
from tests.helpers import client_of, submit_name
from tests.smtp import ADMIN_ADDRESS, SmtpServer, app_database, started_app

SENDER = Address("Quarty", addr_spec="quarty@example.com")


@pytest.fixture
def app_settings(
    app_settings: dict[str, object], smtp_server: SmtpServer
) -> dict[str, object]:
    return {**app_settings, **smtp_server.app_settings()}


async def test_a_name_with_line_breaks_cannot_add_headers_or_recipients(
    client: QuartClient, smtp_server: SmtpServer
) -> None:
    name = "Eve\r\nBcc: victim@example.com\r\nSubject: pwned"
    await submit_name(client, name)

    [mail] = await smtp_server.wait_for(1)
    assert mail.rcpt_tos == [ADMIN_ADDRESS]
    message = mail.message
    assert message["Bcc"] is None
    assert message.get_all("Subject") == ["[Quarty] New User"]
    assert message.get_all("To") == ["Quarty Admin <admin@example.com>"]
    # The name stays in the body, where a line break is only text.
    assert "Bcc: victim@example.com" in mail.part("text/plain")


async def test_markup_in_a_name_is_escaped_in_the_html_part(
    client: QuartClient, smtp_server: SmtpServer
) -> None:
    name = '<script>alert("x")</script><a href="https://evil.test">win</a>'
    response = await client.post("/api/v1/users", json={"username": name})
    assert response.status_code == 201

    [mail] = await smtp_server.wait_for(1)
    html = mail.part("text/html")
    assert "<script>" not in html
    assert "<a href" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert name in mail.part("text/plain")  # plain text needs no escaping


def test_a_subject_with_line_breaks_is_folded_onto_one_line() -> None:
    text = compose_message(
        sender=SENDER,
        to=parse_address("admin@example.com"),
        subject="Hello\r\nBcc: victim@example.com\n\nbody",
        text="text",
        html="<p>html</p>",
    )
    message = message_from_string(text, policy=policy.default)
    assert message["Subject"] == "Hello Bcc: victim@example.com body"
    assert message["Bcc"] is None
    assert "\nBcc:" not in text


@pytest.mark.parametrize(
    "recipient",
    [
        "admin@example.com\r\nBcc: victim@example.com",
        "admin@example.com\nX-Injected: yes",
        "admin@example.com, victim@example.com",
        "not an address",
        "<admin@example.com",
    ],
)
async def test_queue_email_refuses_a_recipient_that_is_not_one_address(
    app_settings: dict[str, object], recipient: str
) -> None:
    app = create_app("testing", **app_settings)
    async with app.app_context(), app_database(app).sessionmaker() as session:
        with pytest.raises(ValueError):
            await queue_email(session, recipient, "Hello", "mail/test", server="x")
    await app_database(app).dispose()


@pytest.mark.parametrize(
    ("value", "addr_spec", "display_name"),
    [
        ("admin@example.com", "admin@example.com", ""),
        ("Quarty Admin <admin@example.com>", "admin@example.com", "Quarty Admin"),
        ('"Doe, Jane" <jane@example.org>', "jane@example.org", "Doe, Jane"),
        ("quarty@localhost", "quarty@localhost", ""),
    ],
)
def test_valid_addresses_parse(value: str, addr_spec: str, display_name: str) -> None:
    address = parse_address(value)
    assert (address.addr_spec, address.display_name) == (addr_spec, display_name)


@pytest.mark.parametrize(
    "value",
    ["", "admin", "admin@", "@example.com", "a@b@example.com", "x y@example.com"],
)
def test_invalid_addresses_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_address(value)


async def test_development_warns_of_an_invalid_admin_and_sends_no_new_user_mail(
    app_settings: dict[str, object],
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="quarty.mail")
    settings = {**app_settings, "QUARTY_ADMIN": "admin-at-example.com"}
    async with started_app(settings) as app:
        html = await submit_name(client_of(app), "Ada", follow=True)
        assert "Hello, Ada!" in html
        async with app.app_context():
            assert get_sender().settings.admin is None
    assert "QUARTY_ADMIN='admin-at-example.com' is not a valid email address" in (
        caplog.text
    )
    assert smtp_server.received == []


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"QUARTY_ADMIN": "admin-at-example.com"}, "QUARTY_ADMIN="),
        ({"QUARTY_MAIL_SENDER": "Quarty <quarty@>"}, "QUARTY_MAIL_SENDER="),
        ({"QUARTY_ADMIN": "a@example.com\r\nBcc: b@example.com"}, "line break"),
        ({"MAIL_USE_TLS": True, "MAIL_USE_SSL": True}, "set only one"),
    ],
)
def test_production_refuses_invalid_mail_settings(
    database_url: str, setting: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        create_app(
            "production",
            SQLALCHEMY_DATABASE_URI=database_url,
            SECRET_KEY="a-real-production-secret",
            **setting,
        )


def test_production_accepts_valid_mail_settings(database_url: str) -> None:
    app = create_app(
        "production",
        SQLALCHEMY_DATABASE_URI=database_url,
        SECRET_KEY="a-real-production-secret",
        QUARTY_ADMIN="Admin <admin@example.com>",
        QUARTY_MAIL_SENDER="Quarty <quarty@example.com>",
    )
    assert app.extensions["quarty.mail"].settings.admin.addr_spec == (
        "admin@example.com"
    )
