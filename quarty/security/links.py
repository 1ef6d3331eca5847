"""Signed, timed tokens for the links that the account mails carry.

Each purpose signs with its own salt, so a token made for one cannot be
replayed for another. A token also carries a fingerprint of the state it may
change (the password hash, the email), so once that state has changed the
link is dead: single use without storing the tokens.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from quart import current_app


class Purpose(StrEnum):
    CONFIRM = "quarty.confirm"
    RESET_PASSWORD = "quarty.reset-password"
    CHANGE_EMAIL = "quarty.change-email"


def fingerprint(state: str | None) -> str:
    """A short digest of the state a token is bound to, so the token hides it."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, (state or "").encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    config = current_app.config
    keys = [*(config.get("SECRET_KEY_FALLBACKS") or ()), config["SECRET_KEY"]]
    return URLSafeTimedSerializer(keys, salt=str(purpose))


def make_token(purpose: Purpose, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: Purpose, token: str) -> dict[str, Any] | None:
    """The payload of a valid, unexpired token for this purpose, else None."""
    max_age = current_app.config["QUARTY_LINK_EXPIRATION"]
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except BadData:
        return None
    return payload if isinstance(payload, dict) else None
