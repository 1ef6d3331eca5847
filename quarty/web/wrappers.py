"""Quart's request, with a JSON parse error that says what is wrong."""

from __future__ import annotations

from typing import NoReturn

from quart.wrappers import Request as QuartRequest
from werkzeug.exceptions import BadRequest


class Request(QuartRequest):
    """The app's request class (`app.request_class`)."""

    def on_json_loading_failed(self, error: Exception) -> NoReturn:
        # Quart's own answer is a bare 400 outside debug mode.
        raise BadRequest(f"The request body is not valid JSON: {error}.")
