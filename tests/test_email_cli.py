"""`quart --app quarty mail list | retry | send-test`, run as an operator runs them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select, update

from quarty import create_app
from quarty.mail import queue_email
from quarty.models import OutboxMessage
from tests.helpers import session_on
from tests.servers import run_command
from tests.smtp import ADMIN, SmtpServer, app_database, reserved_port

ROOT = Path(__file__).resolve().parent.parent


async def quart(
    database_url: str, *args: str, **settings: str
) -> subprocess.CompletedProcess[str]:
    """`quart --app quarty ARGS` with the testing config on this database."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MAIL_", "QUARTY_"))
    }
    environment.update(
        QUARTY_CONFIG="testing", TEST_DATABASE_URL=database_url, **settings
    )
    return await run_command(
        "quart",
        "--app",
        "quarty",
        *args,
        environment=environment,
        cwd=ROOT,
        check=False,
    )


def smtp_environment(server: SmtpServer) -> dict[str, str]:
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(server.port),
        "QUARTY_MAIL_SENDER": "Quarty <quarty@example.com>",
    }


@pytest.fixture
async def outbox(database_url: str) -> dict[str, int]:
    """A deployed database whose outbox holds one message of each end state."""
    deployed = await quart(database_url, "deploy")
    assert deployed.returncode == 0, deployed.stderr
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    states: dict[str, dict[str, object]] = {
        "pending": {},
        "sent": {"attempts": 1},
        "failed": {"attempts": 1, "last_error": "550 5.1.1 Mailbox unavailable"},
    }
    ids = {}
    try:
        async with app.app_context(), app_database(app).sessionmaker() as session:
            for status, values in states.items():
                ids[status] = await queue_email(
                    session, ADMIN, f"About {status}", "mail/test", server="x"
                )
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == ids[status])
                    .values(status=status, **values)
                )
            await session.commit()
    finally:
        await app_database(app).dispose()
    return ids


async def stored(database_url: str, message_id: int) -> OutboxMessage:
    async with session_on(database_url) as session:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.id == message_id)
        )
        assert row is not None
        return row


async def test_list_shows_counts_messages_and_the_last_error(
    database_url: str, outbox: dict[str, int]
) -> None:
    result = await quart(database_url, "mail", "list")
    assert result.returncode == 0, result.stderr
    assert "pending: 1, sending: 0, sent: 1, failed: 1" in result.stdout
    assert "[Quarty] About failed" in result.stdout
    assert "last error: 550 5.1.1 Mailbox unavailable" in result.stdout

    failed_only = await quart(database_url, "mail", "list", "--status", "failed")
    assert "[Quarty] About failed" in failed_only.stdout
    assert "[Quarty] About sent" not in failed_only.stdout


async def test_retry_makes_failed_mail_pending_again(
    database_url: str, outbox: dict[str, int]
) -> None:
    result = await quart(database_url, "mail", "retry")
    assert result.returncode == 0, result.stderr
    assert "1 failed message(s) pending again" in result.stdout
    row = await stored(database_url, outbox["failed"])
    assert (row.status, row.attempts) == ("pending", 0)
    assert (await stored(database_url, outbox["sent"])).status == "sent"

    again = await quart(database_url, "mail", "retry", str(outbox["failed"]))
    assert "0 failed message(s) pending again" in again.stdout


async def test_send_test_delivers_now_and_reports_the_reply(
    database_url: str, smtp_server: SmtpServer
) -> None:
    result = await quart(
        database_url,
        "mail",
        "send-test",
        "ops@example.com",
        **smtp_environment(smtp_server),
    )
    assert result.returncode == 0, result.stderr
    assert "Sent to ops@example.com via 127.0.0.1" in result.stdout
    assert "Message accepted for delivery" in result.stdout
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["ops@example.com"]
    assert mail.message["Subject"] == "[Quarty] Test message"
    assert f"127.0.0.1:{smtp_server.port}" in mail.part("text/plain")


async def test_send_test_reports_an_unreachable_server_without_a_traceback(
    database_url: str,
) -> None:
    with reserved_port() as port:
        closed_port = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(port)}
        result = await quart(
            database_url, "mail", "send-test", "ops@example.com", **closed_port
        )
    assert result.returncode == 1
    assert "Error: not sent: SMTPConnectError" in result.stderr
    assert "Traceback" not in result.stderr


async def test_send_test_refuses_without_a_mail_server_or_a_valid_address(
    database_url: str,
) -> None:
    no_server = await quart(database_url, "mail", "send-test", "ops@example.com")
    assert no_server.returncode == 1
    assert "no MAIL_SERVER" in no_server.stderr

    bad_address = await quart(database_url, "mail", "send-test", "ops-at-example")
    assert bad_address.returncode == 1
    assert "'ops-at-example' is not a valid email address" in bad_address.stderr
