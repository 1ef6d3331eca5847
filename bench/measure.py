"""One benchmark session: servers started in turn, each scenario driven and measured."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import probe
import profiling
import report
import store
from loadgen import LoadResult, run_load
from report import say
from scenarios import (
    CEILINGS,
    Scenario,
    flask_comparison_scenarios,
    quarty_scenarios,
)
from servers import Server, machine_busy_seconds, serving
from smtp_sink import SmtpSink

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
SEEDED_USERS = 1000
FLASK_CONNECTIONS = 50
ADMIN_ADDRESS = "admin@quarty.example.com"
# After a run with new names, how long the outbox gets to deliver the rest.
MAIL_DRAIN_WAIT = 5.0


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


def _shares(amounts: list[float]) -> list[float]:
    """Each amount as a fraction of their sum, largest first."""
    total = sum(amounts)
    if total <= 0:
        return []
    return sorted((round(amount / total, 3) for amount in amounts), reverse=True)


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
            asyncio.run(probe.count_users(database_url))
            if scenario.sends_mail and database_url
            else None
        )
        mails_before = self.sink.messages
        peaks_reset = server.reset_peaks()
        server_cpu = server.cpu_seconds()
        worker_cpu = server.worker_cpu_seconds()
        machine_cpu = machine_busy_seconds()
        children = os.times()
        own_cpu = children.children_user + children.children_system
        own_cpu += children.user + children.system
        result = self._load(server, scenario, connections)
        peak = server.memory_peak()
        server_cpu = server.cpu_seconds() - server_cpu
        worker_cpu = {
            pid: seconds - worker_cpu.get(pid, 0.0)
            for pid, seconds in server.worker_cpu_seconds().items()
        }
        children = os.times()
        own_cpu = (
            children.children_user
            + children.children_system
            + children.user
            + children.system
            - own_cpu
        )
        # What the rest of the machine used meanwhile: a busy machine skews figures.
        other_cpu = max(
            0.0, machine_busy_seconds() - machine_cpu - server_cpu - own_cpu
        )
        capacity = (os.cpu_count() or 1) * max(result.duration_s, 0.001)
        run: dict[str, Any] = {
            "server": server.server,
            "app": scenario.app,
            "scenario": scenario.name,
            "description": scenario.description,
            "connections": connections,
            **result.as_dict(),
            "server_cpu_us_per_request": round(
                server_cpu * 1e6 / max(result.requests, 1), 1
            ),
            "generator_cpu_share": round(own_cpu / capacity, 3),
            "other_cpu_share": round(other_cpu / capacity, 3),
            "worker_cpu_shares": _shares(list(worker_cpu.values())),
            "rss": {
                "workers_kib": peak.workers_kib,
                "max_worker_kib": peak.max_worker_kib,
                "supervisor_kib": peak.supervisor_kib,
                "total_kib": peak.total_kib,
                "peak_is_per_run": peaks_reset,
            },
        }
        if users_before is not None and database_url:
            new_users = asyncio.run(probe.count_users(database_url)) - users_before
            # Mail leaves the request's path: give the outbox a moment to drain.
            deadline = time.monotonic() + MAIL_DRAIN_WAIT
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
        if scenario.names == "new":
            scenario = replace(scenario, name_prefix=f"p{secrets.token_hex(3)}")
        output = (
            RESULTS
            / "profiles"
            / f"{server.server}-{scenario.name}-{connections}.folded"
        )
        assert server.process is not None
        recorded = profiling.record(
            server.process.pid,
            output,
            duration=self.args.duration,
            run_load=lambda: self._load(server, scenario, connections),
        )
        if not recorded:
            say("  (no profile: pip install py-spy)")
            return
        top = profiling.summarize(output)
        self.profiles[f"{server.server}/{scenario.name}"] = top
        say(f"  profile {output.relative_to(ROOT)}; heaviest frames:")
        for line in top[:12]:
            say("   ", line)

    def _load(
        self, server: Server, scenario: Scenario, connections: int, duration: float = 0
    ) -> LoadResult:
        return run_load(
            server.base_url,
            scenario,
            connections=connections,
            duration=duration or self.args.duration,
            timeout=self.args.timeout,
            threads=self.args.threads,
            generator=self.args.generator,
        )

    # -- per server -----------------------------------------------------------
    def warm_up(self, server: Server, scenario: Scenario) -> None:
        self._load(server, scenario, min(50, max(self.args.levels)), duration=1)

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
            pages = probe.api_pages(server.base_url)
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
                if scenario.kind == "flow" and not self.args.no_flask:
                    # The POST alone, as Flask was measured, just before the flow.
                    post = flask[f"post-{scenario.names}"]
                    if wanted(post.name):
                        cookie, token = probe.session_form(server.base_url)
                        post = replace(post, cookie=cookie, token=token)
                        self.measure(server, post, FLASK_CONNECTIONS, database_url=url)
                        if self.args.profile:
                            self.profile(server, post, FLASK_CONNECTIONS)
                if not wanted(scenario.name):
                    continue
                if "api" in scenario.tags and pages is None:
                    self._skip(f"{server_name}: {scenario.name} (no /api/v1/users yet)")
                    continue
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
