"""REST API v1, mounted at /api/v1."""

from quart import Blueprint

bp = Blueprint("api", __name__)
