"""Serving quarty: `python -m quarty.serving` (hypercorn) or `….serving.uvicorn`."""
