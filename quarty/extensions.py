"""Extension objects, made unbound at import and bound to an app in create_app."""

from __future__ import annotations

from quart import Quart
from quart_schema import QuartSchema

schema = QuartSchema(
    openapi_path="/openapi.json",
    swagger_ui_path="/docs",
    # Only the Swagger page is served from local files; the others need CDNs.
    redoc_ui_path=None,
    scalar_ui_path=None,
    info={"title": "Quarty API", "version": "1.0.0"},
)


def init_app(app: Quart) -> None:
    """Bind every extension to the app."""
    schema.init_app(app)
