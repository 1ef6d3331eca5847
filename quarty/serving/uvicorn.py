"""Serve quarty with uvicorn's worker processes: `python -m quarty.serving.uvicorn`.

The same as `uvicorn quarty.asgi:app --workers 2 --loop uvloop --http httptools`,
with what the bare command gets wrong for a deployment fixed:

- The configuration is checked once in this process before any worker starts.
  A worker that cannot import the app exits with an ordinary error, which
  uvicorn's supervisor answers by starting another, forever.
- A worker whose startup fails stops the server with exit code 3; uvicorn's
  supervisor stops too, but exits 0.
- Stopping waits at most GRACEFUL_TIMEOUT for requests in flight (hypercorn.toml's
  graceful_timeout), then each worker's shutdown drains the mail outbox.
- X-Forwarded-* headers are not believed, as under hypercorn.

uvicorn has no documented API for its worker processes; `Multiprocess` is its
own supervisor class, used here as uvicorn's `main` uses it (tested with the
uvicorn versions pyproject.toml allows).
"""

from __future__ import annotations

import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

from quarty.serving.startup import (
    APP,
    STARTUP_FAILURE,
    configuration_error,
    parse_arguments,
    report,
)

# Seconds a stopping worker waits for requests in flight before it cancels them.
GRACEFUL_TIMEOUT = 15


def uvicorn_config(host: str, port: int, workers: int) -> uvicorn.Config:
    """uvicorn's settings for quarty."""
    return uvicorn.Config(
        APP,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        # A lifespan error stops the worker instead of serving without startup.
        lifespan="on",
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_TIMEOUT,
    )


def main(argv: list[str] | None = None) -> int:
    """Check the configuration, serve until SIGTERM or SIGINT; return the exit code."""
    arguments = parse_arguments(
        "python -m quarty.serving.uvicorn",
        "Serve quarty with uvicorn (uvloop, httptools) in workers.",
        default_workers=2,
        argv=argv,
    )
    if (problem := configuration_error()) is not None:
        return report(problem)
    config = uvicorn_config(arguments.host, arguments.port, arguments.workers)
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    if any(worker.exitcode == STARTUP_FAILURE for worker in supervisor.processes):
        return STARTUP_FAILURE
    return 0


if __name__ == "__main__":
    sys.exit(main())
