"""HTTP error responses: JSON for API clients, HTML pages for browsers."""

from __future__ import annotations

from functools import lru_cache
from http import HTTPStatus

from quart import Quart, Response, current_app, jsonify, render_template, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import parse_accept_header

HTML_ERROR_PAGES = {404: "errors/404.html", 500: "errors/500.html"}


def wants_json() -> bool:
    """Whether this request should get JSON: an /api/ path, or a JSON-first Accept."""
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept")
    if accept is not None and len(accept) > MAX_CACHED_ACCEPT:
        return _prefers_json(accept)
    return _prefers_json_cached(accept)


def _prefers_json(accept: str | None) -> bool:
    # The header parsed as request.accept_mimetypes parses it.
    accepted = parse_accept_header(accept, MIMEAccept)
    best = accepted.best_match(["text/html", "application/json"])
    return best == "application/json" and accepted[best] > accepted["text/html"]


# Parsing a browser's Accept header costs 20-40 us per error page; clients send
# a handful of distinct ones, so each is parsed once (long ones every time).
MAX_CACHED_ACCEPT = 512
_prefers_json_cached = lru_cache(maxsize=256)(_prefers_json)


def json_error(status: int, message: str, error: str | None = None) -> Response:
    """The one JSON error body: {"error": short name, "message": explanation}."""
    if error is None:
        error = _status_name(status)
    response = jsonify({"error": error, "message": message})
    response.status_code = status
    return response


def _status_name(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


async def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    message = error.description or _status_name(status)
    if wants_json():
        response = json_error(status, message)
    else:
        template = HTML_ERROR_PAGES.get(status, "errors/error.html")
        body = await render_template(template, status=status, error=error)
        response = Response(body, status=status, content_type="text/html")
    # Keep headers such as Allow on 405.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


async def _unhandled_error(error: Exception) -> Response:
    # The traceback goes to the log only; the user sees a plain 500.
    current_app.logger.exception(
        "unhandled error on %s %s", request.method, request.path
    )
    return await _http_error(InternalServerError())


def init_app(app: Quart) -> None:
    """Register the handlers for every HTTP error and for unhandled exceptions."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unhandled_error)
