"""`python -m quarty.serving`: hypercorn with hypercorn.toml's settings.

The same as `hypercorn -c hypercorn.toml quarty.asgi:app` (uvloop worker, two
workers, a graceful timeout), with what the bare command leaves to the reader
of a traceback said in one line instead: a configuration that cannot start
(production without SECRET_KEY, say) or a port in use exits 3 before any
worker starts.
"""

from __future__ import annotations

from hypercorn.config import Config
from hypercorn.run import run

from quarty.paths import resource_path
from quarty.serving.startup import APP, configuration_error, parse_arguments, report


def hypercorn_config(host: str, port: int, workers: int | None) -> Config:
    """hypercorn.toml's settings, listening where asked."""
    config = Config.from_toml(resource_path("hypercorn.toml"))
    config.application_path = APP
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    if workers is not None:
        config.workers = workers
    return config


def main(argv: list[str] | None = None) -> int:
    """Check the configuration, serve until SIGTERM or SIGINT; return the exit code."""
    arguments = parse_arguments(
        "python -m quarty.serving",
        "Serve quarty with hypercorn (hypercorn.toml's settings).",
        default_workers=None,
        argv=argv,
    )
    if (problem := configuration_error()) is not None:
        return report(problem)
    config = hypercorn_config(arguments.host, arguments.port, arguments.workers)
    try:
        return run(config)
    except OSError as error:  # binding the sockets, before any worker starts
        return report(f"cannot listen on {config.bind[0]}: {error.strerror}")
