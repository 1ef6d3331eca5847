"""Mail over STARTTLS and implicit TLS with AUTH, verified against a test CA."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select

from quarty.models import OutboxMessage
from tests.helpers import client_of, submit_name
from tests.smtp import SmtpServer, app_database, eventually, started_app

LOGIN = "quarty"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    """A CA made for these tests; its certificate is the only one trusted."""
    return trustme.CA()


@pytest.fixture
def ca_file(certificate_authority: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "test-ca.pem"
    certificate_authority.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def server_tls(certificate_authority: trustme.CA) -> ssl.SSLContext:
    """The server side: a certificate for 127.0.0.1, signed by the test CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def authenticate(
    _server: SMTP,
    _session: Session,
    _envelope: Envelope,
    _mechanism: str,
    auth_data: object,
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == LOGIN.encode()
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False: aiosmtpd itself then answers a failure with 535.
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def starttls_server(server_tls: ssl.SSLContext) -> Iterator[SmtpServer]:
    """Plain at first; refuses mail until STARTTLS, and AUTH until it is encrypted."""
    server = SmtpServer().start(
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=True,
    )
    yield server
    server.stop()


@pytest.fixture
def implicit_tls_server(server_tls: ssl.SSLContext) -> Iterator[SmtpServer]:
    """TLS from the first byte. aiosmtpd only offers AUTH under STARTTLS when it
    requires TLS for AUTH; the connection here is already encrypted, so that
    check is off and the handler records whether the client authenticated."""
    server = SmtpServer().start(
        ssl_context=server_tls,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    yield server
    server.stop()


def tls_settings(
    app_settings: dict[str, object], server: SmtpServer, ca_file: str | None
) -> dict[str, object]:
    return {
        **app_settings,
        **server.app_settings(),
        "MAIL_USERNAME": LOGIN,
        "MAIL_PASSWORD": PASSWORD,
        "MAIL_CA_FILE": ca_file,
    }


async def register_and_wait(settings: dict[str, object]) -> OutboxMessage:
    """Register a name on a serving app; return its mail's row after one attempt."""
    async with started_app(settings) as app:
        await submit_name(client_of(app), "Ada")
        async with app_database(app).sessionmaker() as session:

            async def attempted() -> OutboxMessage | None:
                await session.rollback()  # a fresh snapshot, fresh rows
                row = await session.scalar(select(OutboxMessage))
                done = row is not None and (row.status == "sent" or row.last_error)
                return row if done else None

            return await eventually(attempted)


@pytest.mark.parametrize(
    ("server_fixture", "switch"),
    [("starttls_server", "MAIL_USE_TLS"), ("implicit_tls_server", "MAIL_USE_SSL")],
)
async def test_tls_with_auth_delivers_the_mail(
    app_settings: dict[str, object],
    ca_file: str,
    request: pytest.FixtureRequest,
    server_fixture: str,
    switch: str,
) -> None:
    server: SmtpServer = request.getfixturevalue(server_fixture)
    settings = {**tls_settings(app_settings, server, ca_file), switch: True}
    row = await register_and_wait(settings)
    assert row.status == "sent"
    [mail] = server.received
    assert mail.tls
    assert mail.authenticated
    assert mail.message["Subject"] == "[Quarty] New User"
    assert "User Ada has joined." in mail.part("text/plain")


async def test_a_wrong_password_fails_the_mail_with_the_servers_reply(
    app_settings: dict[str, object], starttls_server: SmtpServer, ca_file: str
) -> None:
    settings = tls_settings(app_settings, starttls_server, ca_file)
    settings.update(MAIL_USE_TLS=True, MAIL_PASSWORD="wrong")
    row = await register_and_wait(settings)
    assert row.status == "failed"
    assert row.attempts == 1
    assert row.last_error is not None
    assert row.last_error.startswith("535 ")
    assert starttls_server.received == []


async def test_a_certificate_from_an_untrusted_ca_is_refused(
    app_settings: dict[str, object], implicit_tls_server: SmtpServer
) -> None:
    # Without MAIL_CA_FILE only the system's CAs are trusted, not the test CA.
    settings = tls_settings(app_settings, implicit_tls_server, None)
    settings.update(MAIL_USE_SSL=True, MAIL_RETRY_BACKOFF=60.0)
    row = await register_and_wait(settings)
    assert row.status == "pending"  # an operator can fix the setting; it retries
    assert row.last_error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert implicit_tls_server.received == []


async def test_starttls_required_by_the_server_but_not_configured_is_retried(
    app_settings: dict[str, object], starttls_server: SmtpServer, ca_file: str
) -> None:
    settings = tls_settings(app_settings, starttls_server, ca_file)
    settings.update(MAIL_USE_TLS=False, MAIL_RETRY_BACKOFF=60.0)
    row = await register_and_wait(settings)
    assert row.last_error is not None
    assert starttls_server.received == []
