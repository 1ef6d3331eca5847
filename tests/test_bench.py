"""`python bench/run.py` end to end: servers, load, mail, JSON (no timing asserted)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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


def test_python_client_drives_the_ceilings_and_the_name_form(tmp_path: Path) -> None:
    result = run_bench(
        tmp_path, "--generator", "python", "--scenarios", "home,flow-new,not-found"
    )
    runs = by_scenario(result)
    assert set(runs) == {"raw-hello", "quart-hello", "home", "flow-new", "not-found"}
    for run in runs.values():
        assert run["requests"] > 0
        assert run["errors"] == 0, run
        assert run["rss"]["max_worker_kib"] > 0
    assert runs["home"]["of_quart_hello"]["rps"] > 0
    flow = runs["flow-new"]
    assert flow["flows"] > 0
    # Every new user's admin mail reached the SMTP sink.
    assert flow["new_users"] > 0
    assert flow["mails"] >= flow["new_users"]


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_script_follows_the_form_and_reads_the_api(tmp_path: Path) -> None:
    result = run_bench(
        tmp_path, "--generator", "wrk", "--scenarios", "flow-known,api-user"
    )
    runs = by_scenario(result)
    assert runs["flow-known"]["flows"] > 0
    assert runs["flow-known"]["errors"] == 0
    assert runs["api-user"]["requests"] > 0
    assert runs["api-user"]["errors"] == 0
    assert result["meta"]["generator"] == "wrk"
