"""Sampling a server's workers with py-spy while a scenario runs, and the summary."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

# Frames that only wait (an idle thread, the loop's select) say nothing about cost.
IDLE_FRAMES = (
    "_connection_worker_thread (aiosqlite/core.py",
    "_worker (concurrent/futures/thread.py",
    "select (selectors.py",
    "wait (threading.py",
)


def py_spy_path() -> str | None:
    found = shutil.which("py-spy")
    if found:
        return found
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else None


def record(
    pid: int, output: Path, *, duration: float, run_load: Callable[[], object]
) -> bool:
    """Sample pid and its children while run_load() runs; False without py-spy."""
    py_spy = py_spy_path()
    if py_spy is None:
        return False
    output.parent.mkdir(parents=True, exist_ok=True)
    sampler = subprocess.Popen(
        [
            *(py_spy, "record", "--pid", str(pid), "--subprocesses"),
            *("--nonblocking", "--rate", "250", "--format", "raw"),
            *("--output", str(output), "--duration", str(max(1, round(duration)))),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run_load()
        sampler.wait(timeout=duration + 30)
    finally:
        if sampler.poll() is None:
            sampler.kill()
            sampler.wait()
    return output.exists()


def _frame_name(frame: str) -> str:
    name = frame.split(":")[0] if "(" in frame else frame
    return re.sub(r".*site-packages/", "", name)


def summarize(path: Path, limit: int = 20) -> list[str]:
    """The app's frames with the most samples under them, from py-spy's raw output.

    Shares are of the busy samples (stacks that end in an idle wait are left out).
    """
    inclusive: dict[str, int] = {}
    busy = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        frames = [_frame_name(frame) for frame in stack.split(";")]
        if not frames or frames[-1].startswith(IDLE_FRAMES):
            continue
        count = int(count_text)
        busy += count
        for name in set(frames):
            inclusive[name] = inclusive.get(name, 0) + count
    interesting = sorted(
        (
            (count, name)
            for name, count in inclusive.items()
            if "quarty/" in name
            or ".html" in name
            or "sqlalchemy/" in name
            or "jinja2/" in name
            or "wtforms/" in name
            or "quart/" in name
            or "quart_schema/" in name
        ),
        reverse=True,
    )
    return [f"{100 * count / busy:5.1f}% {name}" for count, name in interesting[:limit]]
