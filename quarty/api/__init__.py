"""REST API v1, mounted at /api/v1."""

from quart import Blueprint

bp = Blueprint("api", __name__)

from quarty.api import errors, roles, users  # noqa: E402, F401  - register on bp
