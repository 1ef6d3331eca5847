"""Both servers' commands refuse to start on a bad configuration or a taken port."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.servers import deployment_environment, run_server_to_end

pytestmark = [
    pytest.mark.server,
    pytest.mark.parametrize("module", ["quarty.serving", "quarty.serving.uvicorn"]),
]

# What both commands exit with when they cannot start.
STARTUP_FAILURE = 3


async def test_production_without_secret_key_exits_3_saying_why(
    module: str, database_url: str, tmp_path: Path
) -> None:
    environment = deployment_environment(database_url)
    del environment["SECRET_KEY"]
    # Port 0: the kernel's pick; nothing connects to it.
    code, output = await run_server_to_end(module, environment, tmp_path, "--port", "0")
    assert code == STARTUP_FAILURE
    assert "SECRET_KEY is not set" in output
    assert "Traceback" not in output
    assert "Running on" not in output
    assert "Started server process" not in output


async def test_a_port_in_use_exits_3_saying_why(
    module: str, database_url: str, tmp_path: Path
) -> None:
    environment = deployment_environment(database_url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output = await run_server_to_end(
            module, environment, tmp_path, "--port", str(port)
        )
    assert code == STARTUP_FAILURE
    assert "Address already in use" in output
    assert "Traceback" not in output
