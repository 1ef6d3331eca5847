"""The account pages, under /auth as in the book."""

from quart import Blueprint

bp = Blueprint("auth", __name__)

from quarty.auth import views  # noqa: E402, F401  - routes register on bp
