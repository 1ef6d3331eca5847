"""Where the top-level templates/, static/, alembic/ and hypercorn.toml are."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_path(name: str) -> Path:
    """A resource: inside the package when installed, else the checkout's."""
    packaged = PACKAGE_DIR / name
    if packaged.exists():
        return packaged
    return PACKAGE_DIR.parent / name
