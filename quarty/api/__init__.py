"""REST API v1, mounted at /api/v1."""

from quart import Blueprint
from quart.blueprints import BlueprintSetupState

from quarty.api.converters import IdConverter

bp = Blueprint("api", __name__)


def _add_converters(state: BlueprintSetupState) -> None:
    # Recorded before any route, so the app knows `<id:...>` when they are added.
    state.app.url_map.converters["id"] = IdConverter


bp.record_once(_add_converters)

# Imported for their routes, which register on bp.
from quarty.api import (  # noqa: E402, F401
    comments,
    errors,
    follows,
    posts,
    roles,
    tokens,
    users,
)
