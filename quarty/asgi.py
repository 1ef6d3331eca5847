"""The ASGI entry point: `hypercorn quarty.asgi:app` (or uvicorn)."""

from quarty import create_app
from quarty.serving.shutdown import finish_requests_on_sigterm

app = create_app()
finish_requests_on_sigterm(app)
