"""The signed-cookie session, its signing serializer made once, not per request."""

from __future__ import annotations

from typing import Any

from itsdangerous import URLSafeTimedSerializer
from quart import Quart
from quart.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    """Quart's cookie session; the serializer is rebuilt only when the keys change.

    Quart builds a new URLSafeTimedSerializer to open and again to save the
    session of every request (the API's included); it holds nothing but the
    keys and options, so one per set of keys serves every request.
    """

    def __init__(self) -> None:
        self._keys: tuple[Any, ...] | None = None
        self._serializer: URLSafeTimedSerializer | None = None

    def get_signing_serializer(self, app: Quart) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys != self._keys:
            self._serializer = super().get_signing_serializer(app)
            self._keys = keys
        return self._serializer
