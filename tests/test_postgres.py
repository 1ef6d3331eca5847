"""PostgreSQL: the integration config, an unreachable server, the throwaway cluster.

The rest of the suite runs on PostgreSQL in the second pass of `./dev.sh test`;
these tests cover what only a PostgreSQL server shows.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from quarty.db import migrations
from quarty.services import roles as roles_service
from tests import pg
from tests.helpers import reserved_port, session_on
from tests.servers import deployment_environment, run_command

needs_postgres = pytest.mark.skipif(
    pg.admin_url_from_environment() is None, reason="runs in the PostgreSQL pass"
)


def _accepts_connections(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def _role_names(database_url: str) -> list[str]:
    async with session_on(database_url) as session:
        return [role.name for role in await roles_service.list_roles(session)]


@needs_postgres
async def test_integration_config_deploys_to_int_database_url(
    database_url: str, tmp_path: Path
) -> None:
    assert database_url.startswith("postgresql+asyncpg://")
    environment = deployment_environment(
        "sqlite+aiosqlite:///never-used.sqlite",
        QUARTY_CONFIG="integration",
        INT_DATABASE_URL=database_url,
    )
    result = await run_command(
        "quart", "--app", "quarty", "deploy", environment=environment, cwd=tmp_path
    )
    assert "roles User, Moderator, Administrator in place" in result.stdout
    assert await _role_names(database_url) == ["User", "Moderator", "Administrator"]
    assert not (tmp_path / "never-used.sqlite").exists()


async def test_deploy_names_an_unreachable_postgresql_server(tmp_path: Path) -> None:
    with reserved_port() as nobody_listens:
        url = f"postgresql+asyncpg://quarty@127.0.0.1:{nobody_listens}/quarty"
        result = await run_command(
            "quart",
            "--app",
            "quarty",
            "deploy",
            environment=deployment_environment(url),
            cwd=tmp_path,
            check=False,
        )
    assert result.returncode == 1
    assert "Error: cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_throwaway_server_serves_then_leaves_nothing_behind() -> None:
    with pg.ThrowawayPostgres() as server:
        assert server.data_dir is not None and server.port is not None
        root, port = server.data_dir.parent, server.port
        assert _accepts_connections(port)
        with pg.fresh_database(server.admin_url) as url:
            migrations.upgrade(url)
            assert asyncio.run(_role_names(url)) == [
                "User",
                "Moderator",
                "Administrator",
            ]
    assert not root.exists()
    assert not _accepts_connections(port)
