"""Accounts' security: password hashes, mailed links, limits, safe redirects."""

from __future__ import annotations

from quart import Quart

from quarty.security import limits, passwords


def init_app(app: Quart) -> None:
    passwords.init_app(app)
    limits.init_app(app)
