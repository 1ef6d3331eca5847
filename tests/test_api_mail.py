"""A user made through the API gets the name form's "New User" mail, once."""

from __future__ import annotations

import pytest
from quart.testing import QuartClient

from quarty.db import Database
from tests.smtp import SmtpServer, settled_outbox

USERS = "/api/v1/users"


@pytest.fixture
def app_settings(
    app_settings: dict[str, object], smtp_server: SmtpServer
) -> dict[str, object]:
    return {**app_settings, **smtp_server.app_settings()}


async def test_user_created_by_the_api_is_announced_to_the_admin(
    client: QuartClient, smtp_server: SmtpServer
) -> None:
    response = await client.post(USERS, json={"username": " Hedy "})
    assert response.status_code == 201

    [mail] = await smtp_server.wait_for(1)
    assert mail.message["Subject"] == "[Quarty] New User"
    assert mail.part("text/plain").strip() == "User Hedy has joined."


async def test_rejected_or_duplicate_posts_send_no_mail(
    client: QuartClient, smtp_server: SmtpServer, database: Database
) -> None:
    assert (await client.post(USERS, json={"username": "Hedy"})).status_code == 201
    await smtp_server.wait_for(1)

    assert (await client.post(USERS, json={"username": "Hedy"})).status_code == 409
    assert (await client.post(USERS, json={"username": " "})).status_code == 400
    # Both answered: a wrongly queued mail is in the outbox now, and would be
    # on the server once the outbox has settled.
    assert len(await settled_outbox(database)) == 1
    assert len(smtp_server.received) == 1
