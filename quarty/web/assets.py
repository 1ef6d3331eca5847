"""Third-party front-end files served from installed packages, never from a CDN."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from quart import Quart, Response, send_from_directory
from werkzeug.exceptions import NotFound

ONE_DAY = 24 * 3600
# The files the API docs page (quart-schema's Swagger UI) loads.
SWAGGER_UI_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})


def package_dir(package: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def bootstrap_dir() -> Path:
    """Bootstrap 5's built CSS and JS, as the bootstrap-flask wheel ships them."""
    return package_dir("flask_bootstrap") / "static" / "bootstrap5"


def swagger_ui_dir() -> Path:
    """Swagger UI 5's built files, as the flask-swagger-ui wheel ships them.

    Only the files are used (Flask is installed with Quart anyway); Swagger UI 5
    is the first that renders the OpenAPI 3.1 documents quart-schema writes.
    """
    return package_dir("flask_swagger_ui") / "dist"


def init_app(app: Quart) -> None:
    """Serve Bootstrap at /vendor/bootstrap/… and Swagger UI at /vendor/swagger-ui/…"""
    root = bootstrap_dir()
    swagger_root = swagger_ui_dir()

    @app.route("/vendor/bootstrap/<path:filename>")
    async def bootstrap_asset(filename: str) -> Response:
        if not filename.startswith(("css/", "js/", "umd/")):
            raise NotFound()
        return await send_from_directory(root, filename, cache_timeout=ONE_DAY)

    @app.route("/vendor/swagger-ui/<filename>")
    async def swagger_ui_asset(filename: str) -> Response:
        if filename not in SWAGGER_UI_FILES:
            raise NotFound()
        return await send_from_directory(swagger_root, filename, cache_timeout=ONE_DAY)

    @app.route("/favicon.ico")
    async def favicon() -> Response:
        # Pages without an icon link (the API docs, JSON) make browsers ask here.
        return await app.send_static_file("favicon.ico")
