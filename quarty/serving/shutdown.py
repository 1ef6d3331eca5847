"""Graceful stops under hypercorn's worker processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal

from quart import Quart


def finish_requests_on_sigterm(app: Quart) -> None:
    """Let a hypercorn worker finish its in-flight requests when the server stops.

    On SIGTERM hypercorn's parent process asks every worker to shut down
    gracefully, but as soon as the first worker has exited it sends SIGTERM to
    the rest, and the default action kills a worker still finishing requests or
    background tasks. A worker whose parent is alive therefore ignores SIGTERM
    (the parent's shutdown event already stops it, and the parent waits for it);
    an orphaned worker still dies on SIGTERM as usual.
    """

    @app.before_serving
    async def _defer_sigterm_to_parent() -> None:
        if multiprocessing.parent_process() is None:
            return  # not a worker process: the server handles signals itself
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return  # the server installed its own handler
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, _on_sigterm, loop)


def _on_sigterm(loop: asyncio.AbstractEventLoop) -> None:
    parent = multiprocessing.parent_process()
    if parent is not None and parent.is_alive():
        return
    loop.remove_signal_handler(signal.SIGTERM)
    os.kill(os.getpid(), signal.SIGTERM)
