"""`python bench/run.py` end to end: servers, load, mail, JSON (no timing asserted)."""

from __future__ import annotations

import asyncio
import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from quarty.models import Comment, Follow, Role, User
from tests.helpers import session_on

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parent.parent


def run_bench(tmp_path: Path, *options: str) -> dict[str, Any]:
    output = tmp_path / "bench.json"
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            *("--servers", "hypercorn-uvloop", "--workers", "1"),
            *("--connections", "4", "--duration", "1", "--no-flask"),
            *("--posts-connections", ""),
            *("--output", str(output)),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr
    assert "== targets" in completed.stdout
    result: dict[str, Any] = json.loads(output.read_text())
    return result


def by_scenario(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {run["scenario"]: run for run in result["runs"]}


def test_python_client_drives_the_ceilings_the_posts_and_the_name_form(
    tmp_path: Path,
) -> None:
    result = run_bench(
        tmp_path,
        *("--generator", "python"),
        *("--scenarios", "home,user-posts,post-page,flow-new,not-found"),
    )
    runs = by_scenario(result)
    assert set(runs) == {
        *("raw-hello", "quart-hello", "home", "user-posts", "post-page"),
        *("flow-new", "not-found"),
    }
    for run in runs.values():
        assert run["requests"] > 0
        # Every page with posts showed them (each response is checked).
        assert run["errors"] == 0, run
        assert run["server_errors"] == 0, run
        assert run["rss"]["max_worker_kib"] > 0
        # One worker: it did all the server's work.
        assert run["worker_cpu_shares"] == [1.0], run
    assert runs["home"]["of_quart_hello"]["rps"] > 0
    # `quart --app quarty fake` seeded the accounts and posts the pages show.
    seeded = result["seeded"]
    assert (seeded["fake_accounts"], seeded["posts"]) == (100, 1000)
    # Each fake account follows 10 others; 2,000 comments on the posts.
    assert (seeded["follows"], seeded["comments"]) == (1000, 2000)
    assert runs["user-posts"]["description"].startswith("GET /user/<name>")
    flow = runs["flow-new"]
    assert flow["flows"] > 0
    # Every new user's admin mail reached the SMTP sink.
    assert flow["new_users"] > 0
    assert flow["mails"] >= flow["new_users"]


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_script_follows_the_form_and_reads_the_api(tmp_path: Path) -> None:
    result = run_bench(
        tmp_path, "--generator", "wrk", "--scenarios", "flow-known,api-user,post-page"
    )
    runs = by_scenario(result)
    assert runs["flow-known"]["flows"] > 0
    assert runs["flow-known"]["errors"] == 0
    for name in ("api-user", "post-page"):
        assert runs[name]["requests"] > 0
        assert runs[name]["errors"] == 0
    # Checked in Lua: every post page showed its post; 5xx were looked for.
    assert runs["post-page"]["checked"] is True
    assert runs["post-page"]["server_errors"] == 0
    assert result["meta"]["generator"] == "wrk"


@pytest.mark.parametrize(
    "generator",
    [
        "python",
        pytest.param(
            "wrk",
            marks=pytest.mark.skipif(
                shutil.which("wrk") is None, reason="wrk is not installed"
            ),
        ),
    ],
)
def test_logins_the_signed_in_home_page_and_writing_posts(
    tmp_path: Path, generator: str
) -> None:
    # Two connections: a login hashes at the production cost, and a busy
    # machine must still finish one (a login run lasts 10 s at least).
    result = run_bench(
        tmp_path,
        *("--generator", generator),
        *("--scenarios", "login,home-logged-in,write-post"),
        *("--connections", "2", "--duration", "3"),
    )
    runs = by_scenario(result)
    assert set(runs) == {
        *("raw-hello", "quart-hello", "login", "home-logged-in", "write-post")
    }
    login, home, write = runs["login"], runs["home-logged-in"], runs["write-post"]
    # Every response was what a browser expects: a form, then a redirect
    # home; the greeting by name and the posts on every GET /, never the
    # name form; each post redirected home.
    assert login["flows"] > 0, login
    assert login["flow_unit"] == "logins"
    assert home["requests"] > 0
    assert write["requests"] > 0
    # The posts are in the database, not only claimed by the redirects.
    assert write["new_posts"] >= write["requests"], write
    for run in (login, home, write):
        assert run["errors"] == 0, run
        assert run["timeouts"] == 0, run
    checks = {check["target"]: check for check in result["targets"]}
    assert checks["peak RSS per worker in logins (no target)"]["met"] is None


def test_the_followed_tab_a_post_with_30_comments_and_moderation(
    tmp_path: Path,
) -> None:
    result = run_bench(
        tmp_path,
        *("--generator", "python"),
        *("--scenarios", "home-followed,post-comments,moderate"),
        *("--connections", "2"),
    )
    runs = by_scenario(result)
    assert set(runs) == {
        *("raw-hello", "quart-hello", "home-followed", "post-comments", "moderate")
    }
    # Every response showed what it must: the Followed tab with posts, the
    # comment form with the bench's comments, the moderator's page.
    for name in ("home-followed", "post-comments", "moderate"):
        assert runs[name]["requests"] > 0, runs[name]
        assert runs[name]["errors"] == 0, runs[name]
        assert runs[name]["timeouts"] == 0, runs[name]
    seeded = result["seeded"]
    assert seeded["account_follows"] == 50
    assert seeded["commented_post_comments"] == 30
    assert runs["post-comments"]["description"].endswith("30 comments")


def _bench_module(monkeypatch: pytest.MonkeyPatch, name: str) -> Any:
    """bench/<name>.py, imported as the bench's scripts import each other."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    return importlib.import_module(name)


def _bench_report(monkeypatch: pytest.MonkeyPatch) -> Any:
    return _bench_module(monkeypatch, "report")


def _run(scenario: str, rps: float, shares: list[float]) -> dict[str, Any]:
    return {
        "server": "hypercorn-asyncio",
        "app": "quart" if scenario == "quart-hello" else "quarty",
        "scenario": scenario,
        "connections": 100,
        "rps": rps,
        **dict.fromkeys(("p50_us", "p90_us", "p99_us"), 1000.0),
        "errors": 0,
        "timeouts": 0,
        "rss": {"max_worker_kib": 1024, "total_kib": 2048},
        "server_cpu_us_per_request": 300.0,
        "worker_cpu_shares": shares,
    }


def test_a_share_measured_on_one_worker_is_not_judged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # All connections on one of two workers halves a ceiling, which doubles
    # quarty's share of it; the report must not count that as met.
    report = _bench_report(monkeypatch)
    lopsided = [_run("quart-hello", 3600, [1.0, 0.0]), _run("home", 3200, [0.5, 0.5])]
    even = [_run("quart-hello", 7000, [0.52, 0.48]), _run("home", 3200, [0.5, 0.5])]
    for runs in (lopsided, even):
        report.add_fractions(runs)
    assert report.unbalanced(lopsided[0]) and not report.unbalanced(even[0])
    home = "GET / >= 50% of Quart hello at 100 conns"
    [judged_lopsided] = [c for c in report.targets(lopsided) if c["target"] == home]
    [judged_even] = [c for c in report.targets(even) if c["target"] == home]
    assert judged_lopsided["value"] == "89% (unbalanced)"
    assert judged_lopsided["met"] is None
    assert judged_even == {**judged_even, "value": "46%", "met": False}
    assert "workers unbalanced: CPU 100%/0%" in report.format_row(lopsided[0])


def test_the_memory_target_leaves_the_logins_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # argon2id takes 64 MiB a hash by design: logins are shown, not judged.
    report = _bench_report(monkeypatch)
    home = _run("home", 3200, [0.5, 0.5])
    login = {**_run("login", 10, [0.5, 0.5]), "tags": ["account", "argon2"]}
    login["rss"] = {"max_worker_kib": 400 * 1024, "total_kib": 800 * 1024}
    checks = {c["target"]: c for c in report.targets([home, login])}
    assert checks["peak RSS per worker < 80 MiB"]["value"] == "1.0 MiB"
    assert checks["peak RSS per worker < 80 MiB"]["met"] is True
    apart = checks["peak RSS per worker in logins (no target)"]
    assert (apart["value"], apart["met"]) == ("400.0 MiB", None)


def test_pages_with_posts_run_at_50_and_1000_connections_beside_the_ceiling(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run = _bench_module(monkeypatch, "run")
    measure = _bench_module(monkeypatch, "measure")
    scenarios = _bench_module(monkeypatch, "scenarios")
    bench = measure.Bench(run.parse_args(["--connections", "10,100"]), tmp_path)
    every = {
        s.name: s
        for s in scenarios.quarty_scenarios(seeded_users=1, api_pages=1)
        + scenarios.account_scenarios()
    }
    for name in (
        *("home", "home-logged-in", "user-posts", "post-page", "write-post"),
        *("home-followed", "post-comments", "moderate"),
    ):
        assert {50, 1000} <= set(bench.levels(every[name])), name
    assert bench.levels(every["api-user"]) == [10, 100]
    # The ceilings run at every level, for p99 and req/s as their multiples.
    assert bench.ceiling_levels() == [10, 50, 100, 1000]
    only_api = measure.Bench(
        run.parse_args(["--connections", "10", "--scenarios", "api-user"]), tmp_path
    )
    assert only_api.ceiling_levels() == [10, 50]


def test_lua_checks_every_text_and_each_writes_redirect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loadgen = _bench_module(monkeypatch, "loadgen")
    scenarios = {
        s.name: s for s in _bench_module(monkeypatch, "scenarios").account_scenarios()
    }
    home = loadgen.lua_config(scenarios["home-logged-in"])
    assert 'expect_texts = {"Hello, benchuser!", "Permalink"}' in home
    assert "check_status = true" in home
    # wrk's own rule would count a 200 (the form again, the post not written)
    # as a success.
    assert "check_status = true" in loadgen.lua_config(scenarios["write-post"])


def test_the_followed_tab_the_comments_and_moderation_say_what_they_expect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loadgen = _bench_module(monkeypatch, "loadgen")
    module = _bench_module(monkeypatch, "scenarios")
    scenarios = {s.name: s for s in module.account_scenarios(commented_post=77)}
    followed = loadgen.lua_config(scenarios["home-followed"])
    # Sent with the login's cookies, which pick the Followed tab.
    assert 'cookie = "show_followed=1"' in followed
    assert 'expect_texts = {"Followed", "Permalink"}' in followed
    comments = scenarios["post-comments"]
    assert comments.path == "/post/77"
    assert 'expect_texts = {"Enter your comment", "A comment from the bench"}' in (
        loadgen.lua_config(comments)
    )
    moderate = scenarios["moderate"]
    assert (moderate.path, moderate.email) == ("/moderate", module.MODERATOR_EMAIL)
    assert "check_status = true" in loadgen.lua_config(moderate)
    for name in ("home-followed", "post-comments", "moderate"):
        assert "signed-in" in scenarios[name].tags, name


async def _social_rows(url: str, post_id: int) -> tuple[set[str], int, int, str]:
    async with session_on(url) as session:
        followed = await session.scalars(
            select(User.username)
            .join(Follow, Follow.followed_id == User.id)
            .where(
                Follow.follower_id
                == select(User.id).where(User.username == "benchuser").scalar_subquery()
            )
        )
        post_comments = select(func.count()).where(Comment.post_id == post_id)
        from_bench = post_comments.where(Comment.body.contains("from the bench"))
        role = select(Role.name).join(User, User.role_id == Role.id)
        return (
            set(followed),
            (await session.execute(post_comments)).scalar_one(),
            (await session.execute(from_bench)).scalar_one(),
            (
                await session.execute(role.where(User.username == "benchmoderator"))
            ).scalar_one(),
        )


def test_the_bench_account_follows_50_and_one_post_has_30_comments(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    run = _bench_module(monkeypatch, "run")
    measure = _bench_module(monkeypatch, "measure")
    store = _bench_module(monkeypatch, "store")
    store.prepare(database_url, users=3)
    env = measure._server_env(
        {"QUARTY_CONFIG": "development", "DEV_DATABASE_URL": database_url}
    )
    store.add_fake_data(
        env, tmp_path, accounts=60, posts=40, follows=3, comments=80, seed=14
    )
    bench = measure.Bench(run.parse_args([]), tmp_path)
    post_id = bench._prepare_accounts(database_url, env)

    followed, comments, from_bench, role = asyncio.run(
        _social_rows(database_url, post_id)
    )
    assert len(followed) == 50
    assert not followed & {"benchuser", "benchmoderator"}
    assert comments == 30
    assert from_bench >= 1
    assert role == "Moderator"
    assert bench.seeded == {
        "account_follows": 50,
        "commented_post": post_id,
        "commented_post_comments": 30,
    }


def test_failed_requests_are_told_apart_in_the_notes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = _bench_report(monkeypatch)
    failed = {
        **_run("write-post", 300, [0.5, 0.5]),
        **{"errors": 8, "timeouts": 1, "server_errors": 3, "dropped": 4},
    }
    assert "errors: 3 5xx, 4 dropped, 1 other" in report.format_row(failed)
    # wrk without a Lua check does not tell 5xx from other statuses.
    unchecked = {**failed, "server_errors": None}
    assert "errors: 4 dropped, 4 other" in report.format_row(unchecked)
    timed_out = {**_run("home", 300, [0.5, 0.5]), "timeouts": 5}
    assert "errors:" not in report.format_row(timed_out)


def test_runs_shorter_than_the_timeout_say_timeouts_cannot_show(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = _bench_report(monkeypatch)
    warning = report.cut_off_warning(duration=3, timeout=5, levels=[10, 1000])
    assert "neither timed out nor counted" in warning
    assert not report.cut_off_warning(duration=10, timeout=5, levels=[1000])
    assert not report.cut_off_warning(duration=3, timeout=5, levels=[10, 100])
