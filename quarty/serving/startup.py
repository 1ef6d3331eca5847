"""The configuration checked once, before any worker process starts."""

from __future__ import annotations

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
