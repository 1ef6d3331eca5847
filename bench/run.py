"""quarty's load benchmark: `python bench/run.py` (see `--help` and the README).

It makes a fresh database (SQLite, or PostgreSQL with --db postgresql), migrates
and seeds it with 1,000 users, then 100 accounts, 1,000 posts, follows and 2,000
comments (`quart --app quarty fake`); later the bench's account, which follows 50
of them, a moderator, and a post with 30 comments. It starts a real SMTP sink,
then on each server serves the two ceilings (a raw ASGI page and a Quart hello
page) and quarty with the production config, drives each scenario at each
connection count over 127.0.0.1 with wrk (or the bundled Python client), and
reports requests/s, latency percentiles, errors, timeouts and peak worker memory,
each as a fraction of the Quart-hello ceiling on the same server. Results go to
bench/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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
import servers  # noqa: E402
import store  # noqa: E402
from loadgen import wrk_path  # noqa: E402
from measure import RESULTS, Bench  # noqa: E402
from report import say  # noqa: E402
from servers import SERVERS  # noqa: E402

DEFAULT_SERVERS = "hypercorn-asyncio,hypercorn-uvloop,uvicorn"
# The documented deployment: python -m quarty.serving runs hypercorn (uvloop).
QUICK_SERVERS = "hypercorn-uvloop"


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
        "--posts-connections",
        default="50,1000",
        help="the scenarios of pages with posts or comments and of writing a post "
        "also run at these connection counts ('' for none; 50,1000)",
    )
    parser.add_argument(
        "--duration", type=float, help="seconds per scenario (3; with --quick 2)"
    )
    parser.add_argument(
        "--db", choices=("sqlite", "postgresql"), default="sqlite", help="(sqlite)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a ~3 minute run: 2 s, one server"
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
    parser.add_argument(
        "--hypercorn-config",
        type=Path,
        default=servers.HYPERCORN_TOML,
        help="the hypercorn TOML whose settings the bench keeps (bind, workers, "
        "worker class and logs are its own); default: the repository's",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder (databases, server logs) and say where",
    )
    args = parser.parse_args(argv)
    args.servers = (
        args.servers or (QUICK_SERVERS if args.quick else DEFAULT_SERVERS)
    ).split(",")
    for server in args.servers:
        if server not in SERVERS:
            parser.error(f"unknown server {server!r}; choose from {', '.join(SERVERS)}")
    args.levels = [int(level) for level in args.connections.split(",") if level]
    args.posts_levels = [
        int(level) for level in args.posts_connections.split(",") if level
    ]
    if args.duration is None:
        args.duration = 2.0 if args.quick else 3.0
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
        "posts_connections": args.posts_levels,
        "duration_s": args.duration,
        "timeout_s": args.timeout,
        "db": args.db,
        "generator": args.generator,
        "servers": args.servers,
        "access_log": args.access_log,
        "hypercorn_config": str(args.hypercorn_config),
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
    servers.HYPERCORN_TOML = args.hypercorn_config
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
    failure: str | None = None
    workdir = Path(tempfile.mkdtemp(prefix="quarty-bench-"))
    bench = Bench(args, workdir)
    cleanups: list[Callable[[], None]] = []
    try:
        if args.db == "postgresql":
            pg_folder = Path(tempfile.mkdtemp(prefix="quarty-bench-pg-"))
            cleanups.append(lambda: shutil.rmtree(pg_folder, ignore_errors=True))
            bench.pg = store.PostgresCluster(pg_folder)
            cleanups.append(bench.pg.stop)
            bench.pg.start()
        bench.run()
    except KeyboardInterrupt:
        interrupted = True
        say("\ninterrupted: servers stopped; writing what was measured", flush=True)
    except RuntimeError as error:
        failure = str(error)
        say(f"\nstopped: {failure}\nwriting what was measured", flush=True)
    finally:
        for cleanup in reversed(cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        if args.keep:
            say(f"kept {workdir} (databases and server logs)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    runs = bench.runs
    report.add_fractions(runs)
    checks = report.targets(runs)
    flask = report.flask_comparison(runs)
    meta["elapsed_s"] = round(time.monotonic() - started, 1)
    meta["interrupted"] = interrupted
    meta["failure"] = failure
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
                "seeded": bench.seeded,
                "skipped": bench.skipped,
                "profiles": bench.profiles,
            },
            indent=1,
        )
    )
    say(report.table(runs))
    levels = args.levels + args.posts_levels
    if warning := report.cut_off_warning(
        duration=args.duration, timeout=args.timeout, levels=levels
    ):
        say(warning)
    say(report.format_targets(checks))
    say(report.format_flask(flask))
    if bench.skipped:
        say("\nskipped: " + "; ".join(bench.skipped))
    say(f"\n{len(runs)} runs in {meta['elapsed_s']:.0f} s; results: {output}")
    if interrupted:
        return 130
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
