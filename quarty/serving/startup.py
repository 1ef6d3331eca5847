"""What both servers do before any worker starts: the command line, the config check."""

from __future__ import annotations

import argparse
import sys

from quarty.config import ConfigError

APP = "quarty.asgi:app"

# A server that cannot start: a bad configuration, a port in use, a worker
# whose startup failed (uvicorn's own code for the last).
STARTUP_FAILURE = 3


def configuration_error() -> str | None:
    """Why the app cannot be made with this environment, or None if it can."""
    from quarty import create_app

    try:
        create_app()
    except ConfigError as error:
        return str(error)
    return None


def report(message: str) -> int:
    """Say why the server does not start, in one line; the exit code to use."""
    sys.stderr.write(f"quarty: {message}\n")
    return STARTUP_FAILURE


def parse_arguments(
    prog: str, description: str, *, default_workers: int | None, argv: list[str] | None
) -> argparse.Namespace:
    """The command line: where to listen and how many workers."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    parser.add_argument("--port", type=int, default=5000, help="default: %(default)s")
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers,
        help="processes (default: %(default)s; none: hypercorn.toml's)",
    )
    return parser.parse_args(argv)
