"""Drive load at a server over loopback: wrk when installed, else the Python client.

Both return the same LoadResult. Every run is bounded: wrk by its duration, the
Python client by its duration and a request cap; and run_load() kills a
generator that outlives its time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from scenarios import SEED_NAME_FORMAT, Scenario

HERE = Path(__file__).resolve().parent
LUA_SCRIPT = HERE / "load.lua"
RESULT_MARKER = "BENCH_RESULT "


@dataclass
class LoadResult:
    """What one load run measured (latencies in microseconds)."""

    requests: int
    duration_s: float
    connect_errors: int
    read_errors: int
    write_errors: int
    status_errors: int
    # 5xx responses; None when wrk ran without a Lua check and did not look
    server_errors: int | None
    timeouts: int
    unexpected: int
    flows: int
    checked: bool
    p50_us: float
    p90_us: float
    p99_us: float
    max_us: float
    mean_us: float
    generator: str

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def dropped(self) -> int:
        """Connections refused, reset or closed before their response ended."""
        return self.connect_errors + self.read_errors + self.write_errors

    @property
    def errors(self) -> int:
        """Failed requests other than timeouts: socket errors and wrong statuses."""
        wrong = self.unexpected if self.checked else self.status_errors
        return self.dropped + wrong

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data.update(rps=round(self.rps, 1), errors=self.errors, dropped=self.dropped)
        return data


def wrk_path() -> str | None:
    return shutil.which("wrk")


def lua_config(scenario: Scenario) -> str:
    """The `CONFIG = {...}` header load.lua reads."""
    values: dict[str, str | int | bool | tuple[str, ...]] = {
        "kind": scenario.kind,
        "method": scenario.method,
        "path": scenario.path,
        "expect": scenario.expect,
        "path_format": scenario.path_format,
        "first": scenario.first,
        "last": scenario.last,
        "names": scenario.names,
        "name_format": SEED_NAME_FORMAT,
        "seeded_users": max(scenario.seeded_users, 1),
        "name_prefix": scenario.name_prefix,
        "cookie": scenario.cookie,
        "token": scenario.token,
        "email": scenario.email,
        "password": scenario.password,
        "expect_texts": scenario.expect_texts,
        "post_body": scenario.post_body,
        # A status the default 2xx/3xx rule would misjudge (a 404 expected; a
        # 200 where a write redirects), or a body that must say something,
        # needs a Lua check.
        "check_status": scenario.expect >= 400
        or scenario.kind == "write"
        or bool(scenario.expect_texts),
    }
    fields = []
    for key, value in values.items():
        if isinstance(value, tuple):
            items = ", ".join(json.dumps(item) for item in value)
            fields.append(f"{key} = {{{items}}}")
        elif isinstance(value, bool):
            fields.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            fields.append(f"{key} = {value}")
        else:
            fields.append(f"{key} = {json.dumps(value)}")
    return "CONFIG = {\n  " + ",\n  ".join(fields) + "\n}\n"


def run_wrk(
    base_url: str,
    scenario: Scenario,
    *,
    connections: int,
    duration: float,
    timeout: float,
    threads: int,
) -> LoadResult:
    """One wrk run; raises RuntimeError when wrk fails or prints no result."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_config(scenario))
        script.write(LUA_SCRIPT.read_text())
    try:
        command = [
            wrk_path() or "wrk",
            f"--threads={min(threads, connections)}",
            f"--connections={connections}",
            f"--duration={max(1, round(duration))}s",
            f"--timeout={max(1, round(timeout))}s",
            f"--script={script.name}",
            base_url + scenario.path,
        ]
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=duration + timeout + 30,
            check=False,
        )
    finally:
        Path(script.name).unlink(missing_ok=True)
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            data = json.loads(line[len(RESULT_MARKER) :])
            return LoadResult(
                requests=data["requests"],
                duration_s=data["duration_us"] / 1e6,
                connect_errors=data["connect_errors"],
                read_errors=data["read_errors"],
                write_errors=data["write_errors"],
                status_errors=data["status_errors"],
                server_errors=data["server_errors"] if data["checked"] else None,
                timeouts=data["timeouts"],
                unexpected=data["unexpected"],
                flows=data["flows"],
                checked=data["checked"],
                p50_us=data["p50_us"],
                p90_us=data["p90_us"],
                p99_us=data["p99_us"],
                max_us=data["max_us"],
                mean_us=data["mean_us"],
                generator="wrk",
            )
    raise RuntimeError(
        f"wrk gave no result (exit {completed.returncode}): "
        f"{completed.stderr.strip() or completed.stdout.strip()}"
    )


def run_python_client(
    base_url: str,
    scenario: Scenario,
    *,
    connections: int,
    duration: float,
    timeout: float,
    threads: int,
) -> LoadResult:
    """The bundled asyncio client, one process per thread, results merged."""
    processes = max(1, min(threads, connections))
    shares = [connections // processes] * processes
    for index in range(connections % processes):
        shares[index] += 1
    spec = asdict(scenario)
    children = []
    for index, share in enumerate(shares):
        job = {
            "base_url": base_url,
            "scenario": spec,
            "connections": share,
            "duration": duration,
            "timeout": timeout,
            "worker": index + 1,
        }
        children.append(
            subprocess.Popen(
                [sys.executable, str(HERE / "pyload.py"), json.dumps(job)],
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    outputs = []
    try:
        for child in children:
            out, _ = child.communicate(timeout=duration + timeout + 30)
            outputs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    from pyload import merge_results

    return merge_results(outputs)


def run_load(
    base_url: str,
    scenario: Scenario,
    *,
    connections: int,
    duration: float,
    timeout: float,
    threads: int,
    generator: str,
) -> LoadResult:
    """Run the chosen generator ("wrk" or "python")."""
    runner = run_wrk if generator == "wrk" else run_python_client
    return runner(
        base_url,
        scenario,
        connections=connections,
        duration=duration,
        timeout=timeout,
        threads=threads,
    )
