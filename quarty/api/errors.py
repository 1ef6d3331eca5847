"""JSON errors for the API: unreadable bodies and failed validation, named by field.

404, 405, 409 and 413 come out of the app-wide handler in quarty.errors, which
answers JSON on every /api/ path; this module adds what only the API knows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError
from quart import Response, current_app, request
from quart_schema import RequestSchemaValidationError, document_response
from quart_schema.validation import (
    QUART_SCHEMA_REQUEST_ATTRIBUTE,
    QuerystringValidationError,
)
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from quarty.api import bp
from quarty.api.schemas import ErrorBody
from quarty.web.errors import json_error

METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})

T = TypeVar("T", bound=Callable[..., object])


def documents_errors(*statuses: int) -> Callable[[T], T]:
    """Declare the error responses a route can give, so OpenAPI lists them."""

    def decorator(view: T) -> T:
        for status in statuses:
            view = document_response(ErrorBody, status)(view)
        return view

    return decorator


@bp.before_request
async def _require_json_body() -> None:
    """Refuse a body that is not JSON (415) or does not parse (400) up front.

    Only where the endpoint reads one: POST /tokens takes none, and ignores any.
    """
    if request.method not in METHODS_WITH_BODY or not _takes_body():
        return
    if not request.is_json:
        raise UnsupportedMediaType(
            "The request body must be JSON, sent with 'Content-Type: application/json'."
        )
    # Parsed once, here: the request keeps the result for the view's validation.
    # Past MAX_CONTENT_LENGTH this raises 413 before anything is parsed; invalid
    # JSON is a 400 from quarty.web.wrappers.Request.
    try:
        await request.get_json()
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The request body is not UTF-8: {exc.reason}.") from None
    except RecursionError:
        raise BadRequest("The request body is nested too deeply.") from None


def _takes_body() -> bool:
    # validate_request marks the view it wraps; the route holds that wrapper.
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, QUART_SCHEMA_REQUEST_ATTRIBUTE, None) is not None


@bp.errorhandler(RequestSchemaValidationError)
async def _invalid_request(error: RequestSchemaValidationError) -> Response:
    where = (
        "query parameter"
        if isinstance(error, QuerystringValidationError)
        else "request body"
    )
    return json_error(400, f"Invalid {where}: {_describe(error.validation_error)}")


def _describe(error: Exception) -> str:
    if not isinstance(error, ValidationError):
        return str(error)
    problems = []
    for detail in error.errors(include_url=False):
        field = ".".join(str(part) for part in detail["loc"]) or "body"
        message = str(detail["msg"]).removeprefix("Value error, ")
        problems.append(f"{field}: {message}")
    return "; ".join(problems)
