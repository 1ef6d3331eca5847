"""REST API v1, mounted at /api/v1."""

from quart import Blueprint

bp = Blueprint("api", __name__)

# Imported for their routes, which register on bp.
from quarty.api import errors, roles, tokens, users  # noqa: E402, F401
