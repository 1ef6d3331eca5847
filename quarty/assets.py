"""Third-party front-end files served from installed packages, never from a CDN."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from quart import Quart, Response, send_from_directory
from werkzeug.exceptions import NotFound

ONE_DAY = 24 * 3600


def package_dir(package: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def bootstrap_dir() -> Path:
    """Bootstrap 5's built CSS and JS, as the bootstrap-flask wheel ships them."""
    return package_dir("flask_bootstrap") / "static" / "bootstrap5"


def init_app(app: Quart) -> None:
    """Serve Bootstrap at /vendor/bootstrap/…"""
    root = bootstrap_dir()

    @app.route("/vendor/bootstrap/<path:filename>")
    async def bootstrap_asset(filename: str) -> Response:
        if not filename.startswith(("css/", "js/")):
            raise NotFound()
        return await send_from_directory(root, filename, cache_timeout=ONE_DAY)
