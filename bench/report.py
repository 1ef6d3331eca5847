"""The benchmark's table, its fractions of the ceiling, the targets and Flask."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from scenarios import FLASK_FIGURES

CEILING_APP = "quart"
MIB = 1024.0
# A run is flagged when its busiest worker used this many times the CPU of the
# least busy one.
UNBALANCED_RATIO = 3.0

Run = dict[str, Any]


def say(*parts: object, flush: bool = True) -> None:
    """Print a line of the report (the bench is a command: this is its output)."""
    sys.stdout.write(" ".join(str(part) for part in parts) + "\n")
    if flush:
        sys.stdout.flush()


def _key(run: Run) -> tuple[str, int]:
    return run["server"], run["connections"]


def add_fractions(runs: list[Run]) -> None:
    """Give every run its figures as fractions of Quart-hello on the same server."""
    ceilings = {_key(run): run for run in runs if run["scenario"] == "quart-hello"}
    for run in runs:
        ceiling = ceilings.get(_key(run))
        if ceiling is None:
            run["of_quart_hello"] = None
            continue

        def ratio(mine: float, theirs: float) -> float | None:
            return round(mine / theirs, 3) if theirs else None

        run["of_quart_hello"] = {
            "rps": ratio(run["rps"], ceiling["rps"]),
            "p50": ratio(run["p50_us"], ceiling["p50_us"]),
            "p90": ratio(run["p90_us"], ceiling["p90_us"]),
            "p99": ratio(run["p99_us"], ceiling["p99_us"]),
            "rss_per_worker": ratio(
                run["rss"]["max_worker_kib"], ceiling["rss"]["max_worker_kib"]
            ),
            # Either side served on one worker: the ratio says nothing of quarty.
            "unbalanced": unbalanced(run) or unbalanced(ceiling),
        }


def _ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.1f}"


def _fraction(run: Run, key: str, *, percent: bool) -> str:
    fractions = run.get("of_quart_hello") or {}
    value = fractions.get(key)
    if value is None:
        return "-"
    return f"{value * 100:.0f}%" if percent else f"{value:.1f}x"


HEADER = (
    f"{'scenario':<14} {'conns':>5} {'req/s':>8} {'%quart':>6} "
    f"{'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'p99 x':>6} "
    f"{'errors':>6} {'t/o':>5} {'RSS/wkr':>7} {'RSS sum':>7} {'notes'}"
)


def unbalanced(run: Run) -> bool:
    """Whether one worker did most of the work while another sat nearly idle.

    Workers share one listening socket; a burst of connections can land mostly
    on one of them, which then serves alone at half the machine's capacity.
    """
    shares = run.get("worker_cpu_shares") or []
    return len(shares) > 1 and shares[0] > UNBALANCED_RATIO * shares[-1]


def format_row(run: Run) -> str:
    notes = [f"{run['server_cpu_us_per_request']:.0f} us cpu/req"]
    if run.get("other_cpu_share", 0) > 0.10:
        notes.append(f"machine busy: others used {run['other_cpu_share']:.0%}")
    if unbalanced(run):
        split = "/".join(f"{share:.0%}" for share in run["worker_cpu_shares"])
        notes.append(f"workers unbalanced: CPU {split}")
    if run.get("flows"):
        unit = run.get("flow_unit", "flows")
        notes.append(f"{run['flows'] / run['duration_s']:.0f} {unit}/s")
    if run.get("new_users") is not None:
        notes.append(f"{run['new_users']} new users, {run['mails']} mails")
    if run.get("new_posts") is not None:
        notes.append(f"{run['new_posts']} new posts")
    if run["errors"]:
        notes.append(_failures(run))
    rss = run["rss"]
    return (
        f"{run['scenario']:<14} {run['connections']:>5} {run['rps']:>8.0f} "
        f"{_fraction(run, 'rps', percent=True):>6} {_ms(run['p50_us']):>7} "
        f"{_ms(run['p90_us']):>7} {_ms(run['p99_us']):>7} "
        f"{_fraction(run, 'p99', percent=False):>6} {run['errors']:>6} "
        f"{run['timeouts']:>5} {rss['max_worker_kib'] / MIB:>7.1f} "
        f"{rss['total_kib'] / MIB:>7.1f} {'; '.join(notes)}"
    )


def _failures(run: Run) -> str:
    """What the errors were: 5xx (when looked at), connections dropped, and
    other wrong answers (a status or a page not the one expected)."""
    dropped = run.get("dropped", 0)
    server_errors = run.get("server_errors")
    parts = [] if server_errors is None else [f"{server_errors} 5xx"]
    other = run["errors"] - dropped - (server_errors or 0)
    parts += [f"{dropped} dropped", f"{other} other"]
    return "errors: " + ", ".join(parts)


def cut_off_warning(*, duration: float, timeout: float, levels: list[int]) -> str:
    """Why no timeouts can show when the runs end before the timeout does."""
    if duration > timeout or max(levels, default=0) < 1000:
        return ""
    return (
        f"\nnote: each run lasts {duration:g} s, not more than the {timeout:g} s "
        "timeout: a request still waiting when a run ends is neither timed out nor "
        "counted. At 1000 connections, run with --duration 10 to see them."
    )


def table(runs: Iterable[Run]) -> str:
    """Runs grouped by server, one row per scenario and connection count."""
    lines: list[str] = []
    server = None
    for run in runs:
        if run["server"] != server:
            server = run["server"]
            lines += ["", f"== {server}", HEADER]
        lines.append(format_row(run))
    return "\n".join(lines)


def _find(runs: list[Run], server: str, scenario: str, connections: int) -> Run | None:
    for run in runs:
        if (run["server"], run["scenario"], run["connections"]) == (
            server,
            scenario,
            connections,
        ):
            return run
    return None


def targets(runs: list[Run], *, workers_limit_mib: float = 80.0) -> list[Run]:
    """The issue's targets per server: met, missed, or not judged."""
    checks: list[Run] = []
    servers = list(dict.fromkeys(run["server"] for run in runs))
    rules = (
        ("home", 0.50, "GET / >= 50% of Quart hello at 100 conns"),
        ("flow-known", 0.30, "POST flow (known) >= 30% at 100 conns"),
        ("flow-new", 0.30, "POST flow (new) >= 30% at 100 conns"),
        ("api-list", 0.50, "API list >= 50% at 100 conns"),
        ("api-user", 0.50, "API user >= 50% at 100 conns"),
    )
    for server in servers:
        for scenario, wanted, label in rules:
            run = _find(runs, server, scenario, 100)
            fraction = (run or {}).get("of_quart_hello") or {}
            value = fraction.get("rps")
            check: Run = {
                "server": server,
                "target": label,
                "value": None if value is None else f"{value * 100:.0f}%",
                "met": None if value is None else value >= wanted,
            }
            if fraction.get("unbalanced"):
                check.update(value=f"{check['value']} (unbalanced)", met=None)
            checks.append(check)
        mine = [r for r in runs if r["server"] == server and r["app"] == "quarty"]
        at_1000 = [r for r in mine if r["connections"] == 1000]
        if at_1000:
            failing = [
                r
                for r in at_1000
                if r["errors"] or r["timeouts"] or r["p99_us"] >= 1_000_000
            ]
            worst = max(at_1000, key=lambda r: r["p99_us"])
            errors = sum(r["errors"] + r["timeouts"] for r in at_1000)
            checks.append(
                {
                    "server": server,
                    "target": "1000 conns: no errors/timeouts, p99 < 1 s",
                    "value": f"{len(failing)}/{len(at_1000)} miss; "
                    f"{errors} err+t/o; worst p99 {_ms(worst['p99_us'])} ms "
                    f"({worst['scenario']})",
                    "failing": [r["scenario"] for r in failing],
                    "met": not failing,
                }
            )
        # argon2id takes 64 MiB a hash by design; logins' peaks are shown apart.
        hashing = [r for r in mine if "argon2" in r.get("tags", ())]
        footprint = [r for r in mine if "argon2" not in r.get("tags", ())]
        if footprint:
            peak = max(r["rss"]["max_worker_kib"] for r in footprint) / MIB
            checks.append(
                {
                    "server": server,
                    "target": f"peak RSS per worker < {workers_limit_mib:.0f} MiB",
                    "value": f"{peak:.1f} MiB",
                    "met": peak < workers_limit_mib,
                }
            )
        if hashing:
            peak = max(r["rss"]["max_worker_kib"] for r in hashing) / MIB
            checks.append(
                {
                    "server": server,
                    "target": "peak RSS per worker in logins (no target)",
                    "value": f"{peak:.1f} MiB",
                    "met": None,
                }
            )
    return checks


def flask_comparison(runs: list[Run]) -> list[Run]:
    """quarty at 50 connections against the Flask original's figures."""
    rows: list[Run] = []
    servers = list(dict.fromkeys(run["server"] for run in runs))
    for server in servers:
        for scenario, (flask_rps, factor) in FLASK_FIGURES.items():
            run = _find(runs, server, scenario, 50)
            if run is None:
                continue
            rows.append(
                {
                    "server": server,
                    "scenario": scenario,
                    "quarty_rps": round(run["rps"], 1),
                    "flask_rps": flask_rps,
                    "times_flask": round(run["rps"] / flask_rps, 2),
                    "wanted": factor,
                    "met": None
                    if unbalanced(run)
                    else run["rps"] >= factor * flask_rps and not run["errors"],
                }
            )
    return rows


def _mark(met: bool | None) -> str:
    # None: not measured, or measured on unbalanced workers (see the table).
    return {True: "met", False: "MISSED", None: "not judged"}[met]


def format_targets(checks: list[Run]) -> str:
    lines = ["", "== targets"]
    for check in checks:
        lines.append(
            f"{check['server']:<18} {check['target']:<45} "
            f"{check['value'] or '-':<14} {_mark(check['met'])}"
        )
    return "\n".join(lines)


def format_flask(rows: list[Run]) -> str:
    if not rows:
        return ""
    lines = ["", "== against the Flask original (gunicorn, 2 sync workers, 50 conns)"]
    for row in rows:
        lines.append(
            f"{row['server']:<18} {row['scenario']:<11} "
            f"quarty {row['quarty_rps']:>8.0f}"
            f"  flask {row['flask_rps']:>6.0f}  = {row['times_flask']:.2f}x"
            f" (wanted {row['wanted']}x) {_mark(row['met'])}"
            + (" (workers unbalanced)" if row["met"] is None else "")
        )
    return "\n".join(lines)
