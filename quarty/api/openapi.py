"""What /openapi.json describes: the JSON API only, with exact path parameters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from quart_schema import DataSource, OpenAPIProvider
from quart_schema.typing import Model
from werkzeug.routing import BaseConverter, IntegerConverter, Rule

from quarty.api.schemas import NoContent

API_PREFIX = "/api/"


class ApiOpenAPIProvider(OpenAPIProvider):
    """Documents the routes under /api/; the HTML pages and assets stay out."""

    def generate_rules(self) -> Iterable[Rule]:
        for rule in super().generate_rules():
            if rule.rule.startswith(API_PREFIX):
                yield rule

    def build_path_parameter(
        self, name: str, converter: BaseConverter
    ) -> dict[str, Any]:
        parameter = super().build_path_parameter(name, converter)
        # An id outside the converter's range is a 404; say so in the schema.
        if isinstance(converter, IntegerConverter):
            if converter.min is not None:
                parameter["schema"]["minimum"] = converter.min
            if converter.max is not None:
                parameter["schema"]["maximum"] = converter.max
        return parameter

    def build_request_body(
        self, model: type[Model], source: DataSource
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        body, definitions = super().build_request_body(model, source)
        body["required"] = True  # a missing body is a 415, not an empty request
        return body, definitions

    def build_response_object(
        self, model: type[Model], headers_model: type[Model] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        response, definitions = super().build_response_object(model, headers_model)
        if model is NoContent:  # a 204 has no body to describe
            del response["content"]["application/json"]
        # quart-schema files response headers under "content"; OpenAPI wants
        # them beside it.
        headers = response["content"].pop("headers", None)
        if headers is not None:
            response["headers"] = headers
        if not response["content"]:
            del response["content"]
        return response, definitions
