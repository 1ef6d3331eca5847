"""The deployment run, as a deployer does it: migrate, deploy, serve, stop.

`alembic upgrade head`, `quart --app quarty deploy`, then `hypercorn -c
hypercorn.toml quarty.asgi:app` with 2 workers, mail going to a real SMTP
server. In the PostgreSQL pass the database is PostgreSQL, as in a scaled-out
deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import csrf_token_in, outbox_counts
from tests.servers import (
    ALEMBIC_INI,
    Hypercorn,
    held_mail_environment,
    post_name_form,
    run_command,
)
from tests.smtp import SmtpServer, gated_handler, joined_usernames

pytestmark = pytest.mark.server


@pytest.fixture
def mail_server(gated_mail_server: SmtpServer) -> SmtpServer:
    return gated_mail_server


@pytest.fixture
async def environment(
    database_url: str, tmp_path: Path, mail_server: SmtpServer
) -> dict[str, str]:
    """A production environment on a database migrated and deployed like a release."""
    environment = held_mail_environment(database_url, mail_server.port)
    migrated = await run_command(
        "alembic",
        "-c",
        str(ALEMBIC_INI),
        "upgrade",
        "head",
        environment=environment,
        cwd=tmp_path,
    )
    assert "Running upgrade" in migrated.stderr
    deployed = await run_command(
        "quart", "--app", "quarty", "deploy", environment=environment, cwd=tmp_path
    )
    assert "roles User, Moderator, Administrator in place" in deployed.stdout
    return environment


@pytest.fixture
async def server(
    environment: dict[str, str], tmp_path: Path
) -> AsyncIterator[Hypercorn]:
    async with Hypercorn(environment, tmp_path / "hypercorn.log") as server:
        yield server


async def _form_visitor(base_url: str, name: str) -> None:
    """A browser: new name, greeting, the same name again, welcome back."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        response = await post_name_form(client, name)
        assert response.status_code == 200
        assert f"Hello, {name}!" in response.text
        assert "Pleased to meet you!" in response.text
        again = await post_name_form(client, name)
        assert "Happy to see you again!" in again.text


async def _api_client(base_url: str, username: str) -> None:
    """An API client: create, read back, and be refused a duplicate."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        created = await client.post("/api/v1/users", json={"username": username})
        assert created.status_code == 201, created.text
        assert created.json()["username"] == username
        fetched = await client.get(created.headers["location"])
        assert fetched.status_code == 200
        assert fetched.json() == created.json()
        duplicate = await client.post("/api/v1/users", json={"username": username})
        assert duplicate.status_code == 409
        assert duplicate.json()["error"] == "conflict"


async def _racer(base_url: str, name: str) -> bool:
    """Submit a name several clients submit at once; True if it was new here."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        response = await post_name_form(client, name)
        assert response.status_code == 200
        return "Pleased to meet you!" in response.text


async def test_deployment_serves_concurrent_clients_and_stops_losing_no_mail(
    server: Hypercorn, mail_server: SmtpServer, database_url: str
) -> None:
    form_names = [f"visitor{number}" for number in range(6)]
    api_names = [f"api-user{number}" for number in range(4)]
    assert len(server.worker_pids()) == 2

    results = await asyncio.gather(
        *(_form_visitor(server.url, name) for name in form_names),
        *(_api_client(server.url, name) for name in api_names),
        *(_racer(server.url, "everyone") for _ in range(4)),
    )
    assert sum(1 for result in results if result is True) == 1
    async with httpx.AsyncClient(base_url=server.url) as client:
        listing = await client.get("/api/v1/users", params={"per_page": 50})
    new_names = {*form_names, *api_names, "everyone"}
    assert {user["username"] for user in listing.json()["users"]} == new_names

    # Stop while every "New User" mail is still on its way: the workers must
    # deliver it before they exit, even once hypercorn signals them to go.
    assert mail_server.received == []
    mail_server.handler.delay = 0.2  # one worker still sends when the other is done
    server.terminate()
    await asyncio.sleep(0.5)
    gated_handler(mail_server).gate.set()
    assert await server.wait() == 0
    log = server.log
    assert "Traceback" not in log
    assert log.count("Running on") == 2

    assert sorted(joined_usernames(mail_server)) == sorted(new_names)
    counts = await outbox_counts(database_url)
    assert counts == {**counts, "sent": len(new_names), "pending": 0, "sending": 0}
    assert counts["failed"] == 0


async def test_one_visit_spread_over_two_instances_keeps_its_session(
    environment: dict[str, str], tmp_path: Path, mail_server: SmtpServer
) -> None:
    # Two servers over one database and one SECRET_KEY: nothing a request
    # needs may live in one process's memory.
    gated_handler(mail_server).gate.set()
    first = Hypercorn(environment, tmp_path / "first.log")
    second = Hypercorn(environment, tmp_path / "second.log")
    async with contextlib.AsyncExitStack() as stack:
        for instance in (first, second):
            stack.push_async_exit(instance)
        await asyncio.gather(first.start(), second.start())
        browser = await stack.enter_async_context(httpx.AsyncClient(timeout=30))

        page = await browser.get(f"{first.url}/")
        form = {"name": "Lin", "csrf_token": csrf_token_in(page.text)}
        posted = await browser.post(f"{second.url}/", data=form)
        assert posted.status_code == 302

        greeting = await browser.get(f"{first.url}/")
        assert "Hello, Lin!" in greeting.text
        assert "Pleased to meet you!" in greeting.text

        form = {"name": "Lina", "csrf_token": csrf_token_in(greeting.text)}
        renamed = await browser.post(f"{second.url}/", data=form)
        assert renamed.status_code == 302
        flashed = await browser.get(f"{first.url}/")
        assert "Looks like you have changed your name!" in flashed.text
        assert "Hello, Lina!" in flashed.text

        assert await first.stop() == 0
        assert await second.stop() == 0

    assert sorted(joined_usernames(mail_server)) == ["Lin", "Lina"]
    assert "Traceback" not in first.log + second.log
