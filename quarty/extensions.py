"""Extension objects, made unbound at import and bound to an app in create_app."""

from __future__ import annotations

from quart import Quart
from quart_schema import QuartSchema

from quarty.api.auth import SECURITY_SCHEMES
from quarty.api.openapi import ApiOpenAPIProvider

schema = QuartSchema(
    openapi_path="/openapi.json",
    swagger_ui_path="/docs",
    # Only the Swagger page is served from local files; the others need CDNs.
    redoc_ui_path=None,
    scalar_ui_path=None,
    info={
        "title": "Quarty API",
        "version": "1.0.0",
        # Swagger UI shows this as Markdown at the top of /docs: the way back,
        # relative to /docs so that it holds under any root path.
        "description": "The JSON API of Quarty. [Back to the app](./)",
    },
    # Only the /api/ routes are documented; the HTML pages are not an API.
    openapi_provider_class=ApiOpenAPIProvider,
    # What `require_account` (quarty.api.auth) names per operation.
    security_schemes=dict(SECURITY_SCHEMES),
)

# The docs page loads Swagger UI from quarty itself (see quarty.assets), never a CDN.
SWAGGER_UI_URLS = {
    "QUART_SCHEMA_SWAGGER_JS_URL": "/vendor/swagger-ui/swagger-ui-bundle.js",
    "QUART_SCHEMA_SWAGGER_CSS_URL": "/vendor/swagger-ui/swagger-ui.css",
}


def init_app(app: Quart) -> None:
    """Bind every extension to the app."""
    for key, url in SWAGGER_UI_URLS.items():
        app.config.setdefault(key, url)
    schema.init_app(app)
