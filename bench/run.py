"""quarty's load benchmark: `python bench/run.py` (see `--help` and the README).

It makes a fresh database (SQLite, or PostgreSQL with --db postgresql), migrates
and seeds it with 1,000 users, starts a real SMTP sink, then on each server:
serves the two ceilings (a raw ASGI page and a Quart hello page) and quarty with
the production config, drives each scenario at each connection count over
127.0.0.1 with wrk (or the bundled Python client), and reports requests/s,
latency percentiles, errors, timeouts and peak worker memory, each as a fraction
of the Quart-hello ceiling on the same server. Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(ROOT) not in sys.path:  # run from a checkout that is not pip-installed
    sys.path.insert(1, str(ROOT))

import report  # noqa: E402
import store  # noqa: E402
from loadgen import LoadResult, run_load, wrk_path  # noqa: E402
from report import say  # noqa: E402
from scenarios import (  # noqa: E402
    CEILINGS,
    Scenario,
    flask_comparison_scenarios,
    quarty_scenarios,
)
from servers import SERVERS, Server, free_port, serving  # noqa: E402
from smtp_sink import SmtpSink  # noqa: E402

RESULTS = HERE / "results"
DEFAULT_SERVERS = "hypercorn-asyncio,hypercorn-uvloop,uvicorn"
QUICK_SERVERS = "hypercorn-uvloop"
SEEDED_USERS = 1000
FLASK_CONNECTIONS = 50
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ADMIN_ADDRESS = "admin@quarty.example.com"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/run.py",
        description="Load-benchmark quarty against a raw ASGI and a Quart ceiling.",
    )
    parser.add_argument(
        "--servers",
        help=f"comma-separated, from {', '.join(SERVERS)} "
        f"(default {DEFAULT_SERVERS}; with --quick {QUICK_SERVERS})",
    )
    parser.add_argument("--workers", type=int, default=2, help="server workers (2)")
    parser.add_argument(
        "--connections",
        default="10,100,1000",
        help="connection counts per scenario (10,100,1000)",
    )
    parser.add_argument(
        "--duration", type=float, help="seconds per scenario (4; with --quick 2)"
    )
    parser.add_argument(
        "--db", choices=("sqlite", "postgresql"), default="sqlite", help="(sqlite)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a ~2 minute run: 2 s, one server"
    )
    parser.add_argument(
        "--scenarios", help="only these quarty scenarios, comma-separated (all)"
    )
    parser.add_argument(
        "--no-flask",
        action="store_true",
        help="skip the 50-connection runs compared with the Flask original",
    )
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk if installed, else the bundled Python client",
    )
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="request timeout, seconds (5)"
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="load generator threads (2)"
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="let the servers write access logs (off: logging is not what is measured)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after each quarty scenario at 100 connections, an extra run under "
        "py-spy; stacks go to bench/results/profiles/",
    )
    parser.add_argument("--output", type=Path, help="the JSON file to write")
    args = parser.parse_args(argv)
    args.servers = (
        args.servers or (QUICK_SERVERS if args.quick else DEFAULT_SERVERS)
    ).split(",")
    for server in args.servers:
        if server not in SERVERS:
            parser.error(f"unknown server {server!r}; choose from {', '.join(SERVERS)}")
    args.levels = [int(level) for level in args.connections.split(",") if level]
    if args.duration is None:
        args.duration = 2.0 if args.quick else 4.0
    args.only = set(args.scenarios.split(",")) if args.scenarios else None
    if args.generator == "auto":
        args.generator = "wrk" if wrk_path() else "python"
    return args


def _raise_file_limit() -> None:
    # 1,000 connections need more descriptors than the usual soft limit of 1,024.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _stop_on_sigterm() -> None:
    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _server_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("QUARTY_", "MAIL_", "DATABASE_URL", "SECRET_KEY"))
    }
    env["PYTHONPATH"] = os.pathsep.join(
        [str(HERE), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env.update(extra)
    return env


def _get(url: str) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers={"Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return (
                response.status,
                dict(response.headers.items()),
                response.read().decode(),
            )
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read().decode()


def _session_form(base_url: str) -> tuple[str, str]:
    """A session cookie and the CSRF token of its name form."""
    status, headers, body = _get(base_url + "/")
    cookie_header = next(
        (v for k, v in headers.items() if k.lower() == "set-cookie"), ""
    )
    match = CSRF_INPUT.search(body)
    if status != 200 or not cookie_header or not match:
        raise RuntimeError("GET / gave no session cookie and CSRF token")
    return cookie_header.split(";", 1)[0], match.group(1)


def _api_pages(base_url: str) -> int | None:
    """How many pages GET /api/v1/users has, or None when the API is not there."""
    status, _headers, body = _get(base_url + "/api/v1/users")
    if status != 200:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict):
        for key in ("pages", "total_pages", "page_count"):
            if isinstance(data.get(key), int):
                return max(1, int(data[key]))
        total = next(
            (data[k] for k in ("total", "count") if isinstance(data.get(k), int)), None
        )
        per_page = data.get("per_page")
        if not isinstance(per_page, int):
            items = next((v for v in data.values() if isinstance(v, list)), [])
            per_page = len(items) or None
        if total and per_page:
            return max(1, -(-int(total) // int(per_page)))
    return 1


async def _count_users(url: str) -> int:
    from quarty import crud
    from quarty.db import Database

    database = Database(url)
    try:
        async with database.sessionmaker() as session:
            return await crud.count_users(session)
    finally:
        await database.dispose()


class Bench:
    """One benchmark run: its settings, its sink, and the runs it measured."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.sink = SmtpSink()
        self.secret_key = secrets.token_hex(32)
        self.runs: list[dict[str, Any]] = []
        self.skipped: list[str] = []
        self.profiles: dict[str, list[str]] = {}
        self.pg: store.PostgresCluster | None = None

    # -- one measured run ---------------------------------------------------
    def measure(
        self,
        server: Server,
        scenario: Scenario,
        connections: int,
        *,
        database_url: str | None = None,
    ) -> dict[str, Any]:
        if scenario.names == "new":
            scenario = replace(
                scenario, name_prefix=f"n{secrets.token_hex(3)}c{connections}"
            )
        users_before = (
            asyncio.run(_count_users(database_url))
            if scenario.sends_mail and database_url
            else None
        )
        mails_before = self.sink.messages
        peaks_reset = server.reset_peaks()
        result: LoadResult = run_load(
            server.base_url,
            scenario,
            connections=connections,
            duration=self.args.duration,
            timeout=self.args.timeout,
            threads=self.args.threads,
            generator=self.args.generator,
        )
        peak = server.memory_peak()
        run: dict[str, Any] = {
            "server": server.server,
            "app": scenario.app,
            "scenario": scenario.name,
            "description": scenario.description,
            "connections": connections,
            **result.as_dict(),
            "rss": {
                "workers_kib": peak.workers_kib,
                "max_worker_kib": peak.max_worker_kib,
                "supervisor_kib": peak.supervisor_kib,
                "total_kib": peak.total_kib,
                "peak_is_per_run": peaks_reset,
            },
        }
        if users_before is not None and database_url:
            new_users = asyncio.run(_count_users(database_url)) - users_before
            # Mail leaves the request's path: give the outbox a moment to drain.
            deadline = time.monotonic() + 10
            while (
                self.sink.messages - mails_before < new_users
                and time.monotonic() < deadline
            ):
                time.sleep(0.1)
            run.update(new_users=new_users, mails=self.sink.messages - mails_before)
        self.runs.append(run)
        say(report.format_row(run), flush=True)
        time.sleep(0.5)  # let the closed connections settle between runs
        return run

    def profile(self, server: Server, scenario: Scenario, connections: int) -> None:
        """An extra, unrecorded run with py-spy sampling every worker."""
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(py_spy).exists() and not shutil.which("py-spy"):
            say("  (py-spy is not installed: pip install py-spy)")
            return
        folder = RESULTS / "profiles"
        folder.mkdir(parents=True, exist_ok=True)
        output = folder / f"{server.server}-{scenario.name}-{connections}.folded"
        assert server.process is not None
        sampler = subprocess.Popen(
            [
                *(py_spy, "record", "--pid", str(server.process.pid)),
                *("--subprocesses", "--nonblocking", "--rate", "250"),
                *("--format", "raw", "--output", str(output)),
                *("--duration", str(max(1, round(self.args.duration)))),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if scenario.names == "new":
                scenario = replace(scenario, name_prefix=f"p{secrets.token_hex(3)}")
            run_load(
                server.base_url,
                scenario,
                connections=connections,
                duration=self.args.duration,
                timeout=self.args.timeout,
                threads=self.args.threads,
                generator=self.args.generator,
            )
            sampler.wait(timeout=self.args.duration + 30)
        finally:
            if sampler.poll() is None:
                sampler.kill()
                sampler.wait()
        if output.exists():
            top = summarize_profile(output)
            self.profiles[f"{server.server}/{scenario.name}"] = top
            say(f"  profile {output.relative_to(ROOT)}; heaviest frames:")
            for line in top[:12]:
                say("   ", line)

    # -- per server -----------------------------------------------------------
    def warm_up(self, server: Server, scenario: Scenario) -> None:
        run_load(
            server.base_url,
            scenario,
            connections=min(50, max(self.args.levels)),
            duration=1,
            timeout=self.args.timeout,
            threads=self.args.threads,
            generator=self.args.generator,
        )

    def ceilings(self, server_name: str) -> None:
        levels = self._levels_with_flask()
        for scenario in CEILINGS:
            with serving(
                server_name,
                scenario.app,
                workers=self.args.workers,
                env=_server_env({}),
                workdir=self.workdir,
                access_log=self.args.access_log,
            ) as server:
                self.warm_up(server, scenario)
                for connections in levels:
                    self.measure(server, scenario, connections)

    def _levels_with_flask(self) -> list[int]:
        levels = list(self.args.levels)
        if not self.args.no_flask and FLASK_CONNECTIONS not in levels:
            levels.append(FLASK_CONNECTIONS)
        return sorted(levels)

    def database_url(self, server_name: str) -> str:
        name = "bench_" + re.sub(r"\W", "_", server_name)
        if self.pg is not None:
            return self.pg.create_database(name)
        return store.sqlite_url(self.workdir, name + ".sqlite")

    def quarty(self, server_name: str) -> None:
        url = self.database_url(server_name)
        store.prepare(url, users=SEEDED_USERS)
        env = _server_env(
            {
                "QUARTY_CONFIG": "production",
                "SECRET_KEY": self.secret_key,
                "DATABASE_URL": url,
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": str(self.sink.port),
                "QUARTY_ADMIN": ADMIN_ADDRESS,
            }
        )
        with serving(
            server_name,
            "quarty",
            workers=self.args.workers,
            env=env,
            workdir=self.workdir,
            access_log=self.args.access_log,
        ) as server:
            pages = _api_pages(server.base_url)
            scenarios = quarty_scenarios(
                seeded_users=SEEDED_USERS, api_pages=pages or 1
            )
            self.warm_up(server, scenarios[0])
            wanted = self._wanted

            def each_level(scenario: Scenario) -> None:
                levels = self.args.levels
                if scenario.name == "home":  # also one of the Flask figures
                    levels = self._levels_with_flask()
                for connections in levels:
                    self.measure(server, scenario, connections, database_url=url)
                    if self.args.profile and connections == 100:
                        self.profile(server, scenario, connections)

            flask = {
                s.name: s for s in flask_comparison_scenarios(seeded_users=SEEDED_USERS)
            }
            for scenario in scenarios:
                if not wanted(scenario.name):
                    continue
                if "api" in scenario.tags and pages is None:
                    self._skip(f"{server_name}: {scenario.name} (no /api/v1/users yet)")
                    continue
                if scenario.kind == "flow" and not self.args.no_flask:
                    post = flask[f"post-{scenario.names}"]
                    if wanted(post.name):
                        cookie, token = _session_form(server.base_url)
                        post = replace(post, cookie=cookie, token=token)
                        self.measure(server, post, FLASK_CONNECTIONS, database_url=url)
                each_level(scenario)

    def _wanted(self, name: str) -> bool:
        only: set[str] | None = self.args.only
        return only is None or name in only

    def _skip(self, what: str) -> None:
        self.skipped.append(what)
        say(f"  skipped {what}", flush=True)

    def run(self) -> None:
        self.sink.start()
        try:
            for server_name in self.args.servers:
                say(f"\n== {server_name}\n{report.HEADER}", flush=True)
                self.ceilings(server_name)
                self.quarty(server_name)
        finally:
            self.sink.stop()


def summarize_profile(path: Path, limit: int = 25) -> list[str]:
    """The frames with the most samples under them (inclusive), from py-spy raw."""
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        seen = set()
        for frame in stack.split(";"):
            name = frame.split(":")[0] if "(" in frame else frame
            name = re.sub(r".*site-packages/", "", name)
            if name not in seen:
                seen.add(name)
                inclusive[name] = inclusive.get(name, 0) + count
    interesting = [
        (count, name)
        for name, count in inclusive.items()
        if "(" in name and not name.startswith(("process ", "<module>"))
    ]
    interesting.sort(reverse=True)
    return (
        [f"{100 * count / total:5.1f}% {name}" for count, name in interesting[:limit]]
        if total
        else []
    )


def _metadata(args: argparse.Namespace) -> dict[str, Any]:
    def version(package: str) -> str | None:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as package_version

        try:
            return package_version(package)
        except PackageNotFoundError:
            return None

    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit or None,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "workers": args.workers,
        "connections": args.levels,
        "duration_s": args.duration,
        "timeout_s": args.timeout,
        "db": args.db,
        "generator": args.generator,
        "servers": args.servers,
        "access_log": args.access_log,
        "versions": {
            name: version(name)
            for name in (
                "quart",
                "hypercorn",
                "uvicorn",
                "granian",
                "uvloop",
                "sqlalchemy",
            )
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _raise_file_limit()
    _stop_on_sigterm()
    RESULTS.mkdir(exist_ok=True)
    started = time.monotonic()
    meta = _metadata(args)
    say(
        f"quarty bench: {', '.join(args.servers)}; {args.workers} workers; "
        f"{args.db}; {args.generator}; {args.duration:g} s per scenario at "
        f"{', '.join(map(str, args.levels))} connections",
        flush=True,
    )
    interrupted = False
    workdir = Path(tempfile.mkdtemp(prefix="quarty-bench-"))
    bench = Bench(args, workdir)
    cleanups: list[Callable[[], None]] = []
    try:
        if args.db == "postgresql":
            bench.pg = store.PostgresCluster(workdir / "pg", free_port())
            cleanups.append(bench.pg.stop)
            bench.pg.start()
        bench.run()
    except KeyboardInterrupt:
        interrupted = True
        say("\ninterrupted: servers stopped; writing what was measured", flush=True)
    finally:
        for cleanup in reversed(cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        shutil.rmtree(workdir, ignore_errors=True)

    runs = bench.runs
    report.add_fractions(runs)
    checks = report.targets(runs)
    flask = report.flask_comparison(runs)
    meta["elapsed_s"] = round(time.monotonic() - started, 1)
    meta["interrupted"] = interrupted
    output = args.output or RESULTS / (
        datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + f"-{args.db}.json"
    )
    output.write_text(
        json.dumps(
            {
                "meta": meta,
                "runs": runs,
                "targets": checks,
                "flask": flask,
                "skipped": bench.skipped,
                "profiles": bench.profiles,
            },
            indent=1,
        )
    )
    say(report.table(runs))
    say(report.format_targets(checks))
    say(report.format_flask(flask))
    if bench.skipped:
        say("\nskipped: " + "; ".join(bench.skipped))
    say(f"\n{len(runs)} runs in {meta['elapsed_s']:.0f} s; results: {output}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
