"""The ASGI entry point: `hypercorn quarty.asgi:app`."""

from quarty import create_app
from quarty.serving import finish_requests_on_sigterm

app = create_app()
finish_requests_on_sigterm(app)
