"""Where a `next` parameter may send a browser: a path on this site, or home."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """The target if it is a local path, else the default.

    Refuses what a browser would read as another site: a scheme
    (`https:`, `javascript:`), a network location (`//evil.example`), and
    backslashes, which browsers treat as slashes (`/\\evil.example`).
    """
    if not target or not target.startswith("/") or "\\" in target:
        return default
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return default
    return target
