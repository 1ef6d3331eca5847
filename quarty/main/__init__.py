"""The HTML pages: the name form and the user greeting."""

from quart import Blueprint

bp = Blueprint("main", __name__)
# Flask's Scaffold gives every blueprint its sync default context processor,
# which Quart then runs in a worker thread on each render; Quart's own async one,
# on the app, already puts g, request and session in the context.
bp.template_context_processors[None].clear()

from quarty.main import views  # noqa: E402, F401  - routes register on bp
