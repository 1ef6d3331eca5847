"""Real hypercorn and uvicorn processes (and a deployer's commands) for the tests."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from tests.helpers import csrf_token_in, raise_if_address_in_use, start_on_a_free_port
from tests.smtp import ADMIN, HOST

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HYPERCORN_TOML = ROOT / "hypercorn.toml"
ALEMBIC_INI = ROOT / "alembic.ini"
SECRET_KEY = "deployment-test-secret-key"

# Settings a developer's shell may carry; the servers get only what a test gives.
_INHERITED_BLOCKLIST = re.compile(r"^(QUARTY_|MAIL_|SECRET_KEY$|.*DATABASE_URL$)")


def deployment_environment(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a production deployment on this database."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not _INHERITED_BLOCKLIST.match(key)
    }
    environment.update(
        QUARTY_CONFIG="production",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=database_url,
        # The test servers speak plain HTTP on 127.0.0.1.
        SESSION_COOKIE_SECURE="false",
        PYTHONUNBUFFERED="1",
    )
    environment.update(settings)
    return environment


def held_mail_environment(database_url: str, mail_port: int) -> dict[str, str]:
    """A deployment whose New User mail goes to a gated SMTP server on this port."""
    return deployment_environment(
        database_url,
        MAIL_SERVER=HOST,
        MAIL_PORT=str(mail_port),
        QUARTY_ADMIN=ADMIN,
        QUARTY_MAIL_SENDER="Quarty <quarty@example.com>",
        MAIL_RETRY_BACKOFF="1",
        # Longer than the gate holds a message: a timed-out send would be retried
        # and then delivered twice.
        MAIL_TIMEOUT="60",
        MAIL_SHUTDOWN_TIMEOUT="10",
    )


async def deploy(environment: dict[str, str], cwd: Path) -> None:
    """`quart --app quarty deploy`, as a release runs it."""
    await run_command(
        "quart", "--app", "quarty", "deploy", environment=environment, cwd=cwd
    )


async def run_command(
    *args: str, environment: dict[str, str], cwd: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run one of the project's console scripts as a deployer would.

    With check (the default) the command must succeed.
    """
    result = await asyncio.to_thread(
        subprocess.run,
        [str(BIN / args[0]), *args[1:]],
        env=environment,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check:
        assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result


async def run_server_to_end(
    module: str, environment: dict[str, str], cwd: Path, *arguments: str
) -> tuple[int, str]:
    """Run `python -m <module> …` (a server that should not start) to its end;
    its exit code and output."""
    result = await run_command(
        "python",
        "-m",
        module,
        *arguments,
        environment=environment,
        cwd=cwd,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


async def poll_until(condition: Callable[[], bool], *, seconds: float = 30) -> None:
    """Wait until a condition on another process holds; TimeoutError after `seconds`."""
    async with asyncio.timeout(seconds):
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)


async def post_name_form(
    client: httpx.AsyncClient, name: str, *, follow: bool = True
) -> httpx.Response:
    """GET the name form and POST a name with its CSRF token, as a browser does."""
    page = await client.get("/")
    assert page.status_code == 200
    form = {"name": name, "csrf_token": csrf_token_in(page.text)}
    return await client.post("/", data=form, follow_redirects=follow)


def configured_workers() -> int:
    """How many workers hypercorn.toml asks for."""
    with HYPERCORN_TOML.open("rb") as file:
        workers: int = tomllib.load(file).get("workers", 1)
        return workers


class Hypercorn:
    """`python -m quarty.serving` (hypercorn with hypercorn.toml's settings, as
    deployed) on 127.0.0.1 and a free port."""

    def __init__(self, environment: dict[str, str], log_path: Path) -> None:
        self.environment = environment
        self.log_path = log_path
        self.workers = configured_workers()
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        """Everything the server wrote: access log, error log, tracebacks."""
        return self.log_path.read_text(errors="replace")

    async def start(self) -> None:
        """Start the server and wait until every worker listens."""
        await asyncio.to_thread(start_on_a_free_port, self._start_on)

    def worker_pids(self) -> set[int]:
        """The live worker processes (spawned with multiprocessing)."""
        assert self.process is not None
        return {
            pid
            for pid in _live_children(self.process.pid)
            if b"spawn_main" in _cmdline(pid)
        }

    def terminate(self) -> None:
        """Send SIGTERM, as a process manager stopping the service does."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    async def wait(self, seconds: float = 60) -> int:
        """Wait for the server to exit; return its exit code."""
        assert self.process is not None
        return await asyncio.to_thread(self.process.wait, seconds)

    async def stop(self) -> int:
        """SIGTERM, then wait for the exit code."""
        self.terminate()
        return await self.wait()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)

    def command(self) -> list[str]:
        """The command line that starts the server on self.port."""
        return [sys.executable, "-m", "quarty.serving", "--port", str(self.port)]

    def listening(self) -> bool:
        """Whether the log says that every worker listens."""
        return self.log.count(f"Running on {self.url} ") >= self.workers

    def _start_on(self, port: int) -> None:
        """Start on this port and wait until every worker listens (blocks)."""
        self.port = port
        # A log of its own per attempt: only this one's output says why it failed.
        with self.log_path.open("wb") as log:
            process = subprocess.Popen(
                self.command(),
                env=self.environment,
                cwd=self.log_path.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.process = process
        deadline = time.monotonic() + 60
        while not self.listening():
            if process.poll() is not None:
                raise_if_address_in_use(self.log)
                raise AssertionError(f"{type(self).__name__} exited:\n{self.log}")
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise AssertionError(
                    f"{type(self).__name__} did not start:\n{self.log}"
                )
            time.sleep(0.05)


class Uvicorn(Hypercorn):
    """`python -m quarty.serving.uvicorn` (2 workers) on 127.0.0.1 and a free port."""

    def __init__(self, environment: dict[str, str], log_path: Path) -> None:
        super().__init__(environment, log_path)
        self.workers = 2

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "quarty.serving.uvicorn",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]

    def listening(self) -> bool:
        return self.log.count("Application startup complete.") >= self.workers


def _live_children(parent_pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid …": comm may hold spaces, so split after it.
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if int(ppid) == parent_pid and state != "Z":
            children.append(int(stat.parent.name))
    return children


def _cmdline(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""
