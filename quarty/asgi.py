"""The ASGI entry point: `hypercorn quarty.asgi:app`."""

from quarty import create_app

app = create_app()
