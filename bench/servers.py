"""Start an ASGI server on loopback, find its workers, read their peak memory, stop it.

Each server runs in a process group of its own, so stopping it (also on Ctrl-C
or an error) ends its workers too.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent

SERVERS = ("hypercorn-asyncio", "hypercorn-uvloop", "uvicorn", "granian")
# The ASGI targets of the apps a server is started with.
APP_TARGETS = {
    "quarty": "quarty.asgi:app",
    "quart": "ceiling_apps:quart_app",
    "raw": "ceiling_apps:raw_app",
}
# The deployment's settings the bench starts hypercorn with (--hypercorn-config).
HYPERCORN_TOML = ROOT / "hypercorn.toml"
# Settings of the deployment file the bench replaces with its own.
HYPERCORN_OVERRIDDEN = {"bind", "workers", "worker_class", "accesslog", "errorlog"}


def _free_port() -> int:
    """A TCP port that nothing is bound to on 127.0.0.1 at this moment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_on_a_free_port(start: Callable[[int], T], *, attempts: int = 3) -> T:
    """Return start(port) on a free port; on EADDRINUSE, again on another one.

    The servers here bind their own port (a process, aiosmtpd's Controller, which
    cannot take port 0): another process may take it between its pick and their
    bind. `start` raises OSError(EADDRINUSE) when that happened.
    """
    for attempt in range(1, attempts + 1):
        try:
            return start(_free_port())
        except OSError as error:
            if error.errno != errno.EADDRINUSE or attempt == attempts:
                raise
    raise AssertionError("not reached")


def raise_if_address_in_use(output: str) -> None:
    """Raise OSError(EADDRINUSE) if a server's output says its port was taken."""
    if "address already in use" in output.lower():
        raise OSError(errno.EADDRINUSE, "address already in use", output)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def hypercorn_config(
    path: Path, *, port: int, workers: int, worker_class: str, access_log: bool
) -> Path:
    """The deployment's hypercorn.toml with the bench's bind, workers and loop."""
    settings: dict[str, object] = {}
    deployment = HYPERCORN_TOML
    if deployment.exists():
        settings = tomllib.loads(deployment.read_text())
    for key in HYPERCORN_OVERRIDDEN:
        settings.pop(key, None)
    settings.update(
        bind=[f"127.0.0.1:{port}"], workers=workers, worker_class=worker_class
    )
    if access_log:
        settings["accesslog"] = "-"
    path.write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in settings.items()))
    return path


def server_command(
    server: str,
    target: str,
    *,
    port: int,
    workers: int,
    workdir: Path,
    access_log: bool,
) -> list[str]:
    """The command line that serves an ASGI target on 127.0.0.1:port."""
    if server.startswith("hypercorn-"):
        worker_class = server.removeprefix("hypercorn-")
        config = hypercorn_config(
            workdir / f"hypercorn-{worker_class}-{port}.toml",
            port=port,
            workers=workers,
            worker_class=worker_class,
            access_log=access_log,
        )
        return [str(BIN / "hypercorn"), "--config", str(config), target]
    if server == "uvicorn":
        command = [
            str(BIN / "uvicorn"), target, "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--loop", "uvloop", "--http", "httptools",
            "--log-level", "warning",
            # As python -m quarty.serving.uvicorn runs it: X-Forwarded-* not believed.
            "--no-proxy-headers",
        ]  # fmt: skip
        return command + ([] if access_log else ["--no-access-log"])
    if server == "granian":
        command = [
            str(BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--loop", "uvloop",
            "--no-ws", "--log-level", "warning", target,
        ]  # fmt: skip
        return command + (["--access-log"] if access_log else [])
    raise ValueError(f"unknown server {server!r}; choose from {', '.join(SERVERS)}")


@dataclass
class MemoryPeak:
    """Peak resident memory (VmHWM) of a server's processes, in KiB."""

    workers_kib: list[int]
    supervisor_kib: int

    @property
    def total_kib(self) -> int:
        return sum(self.workers_kib) + self.supervisor_kib

    @property
    def max_worker_kib(self) -> int:
        return max(self.workers_kib, default=0)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses; fields follow the last ')'.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            found.append(int(entry.name))
    return found


def _descendants(pid: int) -> list[int]:
    pending, found = [pid], []
    while pending:
        for child in _children(pending.pop()):
            found.append(child)
            pending.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return (
            (Path("/proc") / str(pid) / "cmdline")
            .read_bytes()
            .replace(b"\0", b" ")
            .decode()
        )
    except OSError:
        return ""


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return 0
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime of all its threads


def machine_busy_seconds() -> float:
    """CPU seconds every core has spent busy since boot (from /proc/stat)."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, first[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


class Server:
    """One server process (and its workers) serving one app."""

    def __init__(
        self,
        server: str,
        app: str,
        *,
        workers: int,
        env: Mapping[str, str],
        workdir: Path,
        access_log: bool = False,
    ) -> None:
        self.server = server
        self.app = app
        self.workers = workers
        self.access_log = access_log
        self.env = dict(env)
        self.workdir = workdir
        self.port = 0  # chosen by start()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.server}-{self.app}-{self.port}.log"

    def start(self, *, ready_timeout: float = 60.0) -> None:
        """Start the server on a free port; wait until it answers and all workers
        are up."""
        start_on_a_free_port(lambda port: self._start_on(port, ready_timeout))

    def _start_on(self, port: int, ready_timeout: float) -> None:
        self.port = port
        command = server_command(
            self.server,
            APP_TARGETS[self.app],
            port=port,
            workers=self.workers,
            workdir=self.workdir,
            access_log=self.access_log,
        )
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.log_path.read_text()
                raise_if_address_in_use(output)
                raise RuntimeError(
                    f"{self.server} serving {self.app} exited at start:\n"
                    + output[-3000:]
                )
            if self._answers() and len(self.worker_pids()) >= self.workers:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.server} serving {self.app} did not start in time")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + "/", timeout=2) as response:
                return bool(response.status)
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        """The processes that serve requests (the supervisor itself if none)."""
        if self.process is None:
            return []
        helpers = ("resource_tracker", "semaphore_tracker")
        workers = [
            pid
            for pid in _descendants(self.process.pid)
            if not any(name in _cmdline(pid) for name in helpers)
        ]
        return workers or [self.process.pid]

    def reset_peaks(self) -> bool:
        """Reset VmHWM of every process (Linux clear_refs 5); False if refused."""
        if self.process is None:
            return False
        ok = True
        for pid in {self.process.pid, *self.worker_pids()}:
            try:
                (Path("/proc") / str(pid) / "clear_refs").write_text("5")
            except OSError:
                ok = False
        return ok

    def cpu_seconds(self) -> float:
        """CPU time the supervisor and its workers have used so far."""
        if self.process is None:
            return 0.0
        pids = {self.process.pid, *self.worker_pids()}
        return sum(_cpu_ticks(pid) for pid in pids) / CLOCK_TICKS

    def worker_cpu_seconds(self) -> dict[int, float]:
        """CPU time each worker has used so far, by pid."""
        return {pid: _cpu_ticks(pid) / CLOCK_TICKS for pid in self.worker_pids()}

    def memory_peak(self) -> MemoryPeak:
        assert self.process is not None
        workers = self.worker_pids()
        supervisor = 0
        if workers != [self.process.pid]:
            supervisor = _status_kib(self.process.pid, "VmHWM")
        return MemoryPeak([_status_kib(pid, "VmHWM") for pid in workers], supervisor)

    def stop(self, *, grace: float = 10.0) -> None:
        """SIGTERM the server's process group, SIGKILL what is left after the grace."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.process = None


@contextlib.contextmanager
def serving(
    server: str,
    app: str,
    *,
    workers: int,
    env: Mapping[str, str],
    workdir: Path,
    access_log: bool = False,
) -> Iterator[Server]:
    """A started server, stopped on the way out whatever happens."""
    running = Server(
        server, app, workers=workers, env=env, workdir=workdir, access_log=access_log
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()
