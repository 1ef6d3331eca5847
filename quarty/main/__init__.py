"""The HTML pages: the name form and the user greeting."""

from quart import Blueprint

bp = Blueprint("main", __name__)

from quarty.main import views  # noqa: E402, F401  - routes register on bp
