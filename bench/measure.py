"""One benchmark session: servers started in turn, each scenario driven and measured."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
import social
import store
from loadgen import LoadResult, run_load
from report import say
from scenarios import (
    ACCOUNT_EMAIL,
    ACCOUNT_FOLLOWS,
    ACCOUNT_PASSWORD,
    ACCOUNT_USERNAME,
    BENCH_COMMENT,
    CEILINGS,
    FAKE_ACCOUNTS,
    FAKE_COMMENTS,
    FAKE_FOLLOWS,
    FAKE_POSTS,
    FAKE_SEED,
    MODERATOR_EMAIL,
    MODERATOR_USERNAME,
    POST_COMMENTS,
    Scenario,
    account_scenarios,
    flask_comparison_scenarios,
    quarty_scenarios,
)
from servers import Server, serving
from smtp_sink import SmtpSink
from usage import Usage

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
        # What the database held before the first scenario (the same per server).
        self.seeded: dict[str, Any] = {}

    # -- one measured run ---------------------------------------------------
    def measure(
        self,
        server: Server,
        scenario: Scenario,
        connections: int,
        *,
        database_url: str | None = None,
    ) -> dict[str, Any]:
        if scenario.names == "new" or scenario.kind == "write":
            scenario = replace(
                scenario, name_prefix=f"n{secrets.token_hex(3)}c{connections}"
            )
        users_before = (
            asyncio.run(probe.count_users(database_url))
            if scenario.sends_mail and database_url
            else None
        )
        posts_before = (
            asyncio.run(probe.count_posts(database_url))
            if scenario.kind == "write" and database_url
            else None
        )
        mails_before = self.sink.messages
        usage = Usage(server)
        result = self._load(server, scenario, connections)
        run: dict[str, Any] = {
            "server": server.server,
            "app": scenario.app,
            "scenario": scenario.name,
            "description": scenario.description,
            "connections": connections,
            **result.as_dict(),
            "flow_unit": scenario.flow_unit,
            "tags": list(scenario.tags),
            **usage.figures(requests=result.requests, duration_s=result.duration_s),
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
        if posts_before is not None and database_url:
            # What the 302s claim, counted where it matters.
            run["new_posts"] = (
                asyncio.run(probe.count_posts(database_url)) - posts_before
            )
        self.runs.append(run)
        say(report.format_row(run), flush=True)
        time.sleep(0.5)  # let the closed connections settle between runs
        return run

    def profile(self, server: Server, scenario: Scenario, connections: int) -> None:
        """An extra, unrecorded run with py-spy sampling every worker."""
        if scenario.names == "new" or scenario.kind == "write":
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
            duration=self._duration(scenario),
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
            duration=duration or self._duration(scenario),
            timeout=self.args.timeout,
            threads=self.args.threads,
            generator=self.args.generator,
        )

    def _duration(self, scenario: Scenario) -> float:
        duration: float = self.args.duration
        return max(duration, scenario.min_duration)

    # -- per server -----------------------------------------------------------
    def warm_up(self, server: Server, scenario: Scenario) -> None:
        self._load(server, scenario, min(50, max(self.args.levels)), duration=1)

    def ceiling_levels(self) -> list[int]:
        """Every level a quarty scenario runs at: each is read as a share of these."""
        levels = set(self._levels_with_flask())
        every = quarty_scenarios(seeded_users=0, api_pages=1) + account_scenarios()
        if any(s.wide and self._wanted(s.name) for s in every):
            levels |= set(self.args.posts_levels)
        return sorted(levels)

    def ceilings(self, server_name: str) -> None:
        levels = self.ceiling_levels()
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

    def levels(self, scenario: Scenario) -> list[int]:
        """The connection counts a quarty scenario is measured at."""
        levels = set(self.args.levels)
        if scenario.wide:
            levels |= set(self.args.posts_levels)
        if scenario.name == "home" and not self.args.no_flask:
            levels.add(FLASK_CONNECTIONS)  # also one of the Flask figures
        return sorted(levels)

    def database_url(self, server_name: str) -> str:
        name = "bench_" + re.sub(r"\W", "_", server_name)
        if self.pg is not None:
            return self.pg.create_database(name)
        return store.sqlite_url(self.workdir, name + ".sqlite")

    def quarty(self, server_name: str) -> None:
        url = self.database_url(server_name)
        store.prepare(url, users=SEEDED_USERS)
        # The command refuses production; development hashes at the same cost.
        store.add_fake_data(
            _server_env({"QUARTY_CONFIG": "development", "DEV_DATABASE_URL": url}),
            self.workdir,
            accounts=FAKE_ACCOUNTS,
            posts=FAKE_POSTS,
            follows=FAKE_FOLLOWS,
            comments=FAKE_COMMENTS,
            seed=FAKE_SEED,
        )
        posts = asyncio.run(probe.seeded_posts(url))
        follows, comments = asyncio.run(social.count_follows_and_comments(url))
        self.seeded = {
            "name_only_users": SEEDED_USERS,
            "fake_accounts": FAKE_ACCOUNTS,
            "posts": posts.total,
            "follows": follows,
            "comments": comments,
            "fake_seed": FAKE_SEED,
            "author": posts.author,
        }
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
        self.anonymous(server_name, url, env, posts)
        self.signed_in(server_name, url, env)

    def anonymous(
        self,
        server_name: str,
        url: str,
        env: dict[str, str],
        posts: probe.SeededPosts,
    ) -> None:
        """The visitor's scenarios, on quarty as deployed."""
        names = [s.name for s in quarty_scenarios(seeded_users=0, api_pages=1)]
        if not self.args.no_flask:
            names += [s.name for s in flask_comparison_scenarios(seeded_users=0)]
        if not any(map(self._wanted, names)):
            return
        with self._serving_quarty(server_name, env) as server:
            pages = probe.api_pages(server.base_url)
            scenarios = quarty_scenarios(
                seeded_users=SEEDED_USERS,
                api_pages=pages or 1,
                author=posts.author,
                post_ids=(posts.first_id, posts.last_id),
            )
            self.warm_up(server, scenarios[0])
            wanted = self._wanted
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
                self._each_level(server, scenario, self.levels(scenario), url)

    def signed_in(self, server_name: str, url: str, env: dict[str, str]) -> None:
        """The account's scenarios, on a quarty server of their own.

        It differs from the visitor's in two settings: the login limiter is off
        (it would answer 429 after 10 logins a minute), and cookies are not
        Secure, as the bench speaks plain HTTP. The accounts are made only now,
        so that the visitor's scenarios ran on the database as before.
        """
        if not any(self._wanted(s.name) for s in account_scenarios()):
            return
        commented_post = self._prepare_accounts(url, env)
        scenarios = [
            s
            for s in account_scenarios(commented_post=commented_post)
            if self._wanted(s.name)
        ]
        env = env | {"QUARTY_RATE_LIMITS": "off", "SESSION_COOKIE_SECURE": "false"}
        with self._serving_quarty(server_name, env) as server:
            # Not with a login: its hashing would outlast the warm-up.
            self.warm_up(server, Scenario("home", "quarty", "get", "/"))
            for scenario in scenarios:
                if "signed-in" in scenario.tags:
                    signed_in = probe.log_in(
                        server.base_url,
                        email=scenario.email or ACCOUNT_EMAIL,
                        password=scenario.password or ACCOUNT_PASSWORD,
                    )
                    cookie = "; ".join(filter(None, (signed_in, scenario.cookie)))
                    token = ""
                    if scenario.kind == "write":
                        cookie, token = probe.signed_in_form(server.base_url, cookie)
                    scenario = replace(scenario, cookie=cookie, token=token)
                self._each_level(server, scenario, self.levels(scenario), url)

    def _prepare_accounts(self, url: str, env: dict[str, str]) -> int:
        """Make the bench account and the moderator; have the account follow
        ACCOUNT_FOLLOWS fake accounts and give one post POST_COMMENTS comments.
        The post's id."""
        for email, username in (
            (ACCOUNT_EMAIL, ACCOUNT_USERNAME),
            (MODERATOR_EMAIL, MODERATOR_USERNAME),
        ):
            store.create_account(
                env,
                self.workdir,
                email=email,
                username=username,
                password=ACCOUNT_PASSWORD,
            )
        store.set_role(env, self.workdir, email=MODERATOR_EMAIL, role="Moderator")
        followed = asyncio.run(
            social.follow_accounts(
                url,
                username=ACCOUNT_USERNAME,
                count=ACCOUNT_FOLLOWS,
                leave_out=(MODERATOR_USERNAME,),
                seed=FAKE_SEED,
            )
        )
        commented_post = asyncio.run(
            social.comment_a_post(
                url, comments=POST_COMMENTS, text=BENCH_COMMENT, seed=FAKE_SEED
            )
        )
        self.seeded |= {
            "account_follows": followed,
            "commented_post": commented_post,
            "commented_post_comments": POST_COMMENTS,
        }
        return commented_post

    def _serving_quarty(
        self, server_name: str, env: dict[str, str]
    ) -> contextlib.AbstractContextManager[Server]:
        return serving(
            server_name,
            "quarty",
            workers=self.args.workers,
            env=env,
            workdir=self.workdir,
            access_log=self.args.access_log,
        )

    def _each_level(
        self, server: Server, scenario: Scenario, levels: list[int], url: str
    ) -> None:
        for connections in levels:
            if 0 < scenario.max_connections < connections:
                self._skip(
                    f"{server.server}: {scenario.name} at {connections} connections "
                    f"(above {scenario.max_connections}, only the queue is measured)"
                )
                continue
            self.measure(server, scenario, connections, database_url=url)
            if self.args.profile and connections == 100:
                self.profile(server, scenario, connections)

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
