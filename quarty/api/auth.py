"""Who calls the API: HTTP Basic with email and password, or a bearer token.

A view names the schemes it takes with `require_account(...)`, which also
declares them, and its 401 and 403, in OpenAPI; `optional_account(...)` lets
a public view run without credentials too. The caller's account (and the
token's id, for a bearer) wait in `g` for the view. Credentials are never
logged nor repeated in an answer.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable, Iterable
from enum import StrEnum
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from quart import g, request
from quart_schema import HttpSecurityScheme, document_response, security_scheme
from werkzeug.exceptions import Forbidden, Unauthorized

from quarty.api.schemas import AuthenticateHeader, ErrorBody
from quarty.db import get_session
from quarty.models import EMAIL_MAX_LENGTH, Permission
from quarty.services import api_tokens
from quarty.services.auth import PASSWORD_MAX_LENGTH, Account, authenticate

P = ParamSpec("P")
R = TypeVar("R")

REALM = "quarty"
# Holds the longest email and password in base64, at 4 UTF-8 bytes a
# character (2728); anything longer is refused before it is decoded.
_MAX_BASIC_LENGTH = 4096
# Issued tokens are 43 URL-safe characters; others are refused unread.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Scheme(StrEnum):
    """The credentials a view can take, named as in the OpenAPI document."""

    BASIC = "basic"
    BEARER = "bearer"


# Either kind of credentials will do.
ANY_SCHEME = (Scheme.BASIC, Scheme.BEARER)

# Bound to the app's QuartSchema (quarty.extensions).
SECURITY_SCHEMES = {
    scheme.value: HttpSecurityScheme(scheme=scheme.value) for scheme in Scheme
}

_WHAT_TO_SEND = {
    Scheme.BASIC: "the account's email and password with HTTP Basic",
    Scheme.BEARER: "a token from POST /api/v1/tokens as 'Authorization: Bearer'",
}


class AuthenticationRequired(Unauthorized):
    """401 with one WWW-Authenticate field that lists every scheme taken.

    One field, not one per scheme: the app's error handler keeps a single
    value per header name.
    """

    def __init__(
        self,
        message: str,
        schemes: Iterable[Scheme],
        *,
        invalid_token: bool = False,
    ) -> None:
        super().__init__(message)
        self.challenges = ", ".join(
            _challenge(scheme, invalid_token=invalid_token) for scheme in schemes
        )

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        headers = super().get_headers(*args, **kwargs)
        return [*headers, ("WWW-Authenticate", self.challenges)]


def _challenge(scheme: Scheme, *, invalid_token: bool) -> str:
    challenge = f'{scheme.title()} realm="{REALM}"'
    if invalid_token and scheme is Scheme.BEARER:
        # RFC 6750's word for "this token is dead: get a new one".
        challenge += ', error="invalid_token"'
    return challenge


def require_account(
    *schemes: Scheme, permission: Permission | None = None
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Run the view only for a confirmed account whose credentials are good.

    With a permission, only for an account whose role grants it: others get
    403 "Insufficient permissions".
    """
    accepted = tuple(schemes)

    def decorator(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            await _authenticate(accepted)
            if permission is not None and not current_account().can(permission):
                raise Forbidden("Insufficient permissions")
            return await view(*args, **kwargs)

        return _documented(wrapper, accepted, optional=False)

    return decorator


def optional_account(
    *schemes: Scheme,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Run the view for anyone; credentials, if sent, are checked as by require_account.

    Without an Authorization header the caller is anonymous; with one, it must
    be good (else 401) and its account confirmed (else 403): a client is told
    its credentials failed rather than quietly shown less.
    """
    accepted = tuple(schemes)

    def decorator(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if request.headers.get("Authorization", "").strip():
                await _authenticate(accepted)
            else:
                g.api_account = None
                g.api_token_id = None
            return await view(*args, **kwargs)

        return _documented(wrapper, accepted, optional=True)

    return decorator


def _documented(
    wrapper: Callable[P, Awaitable[R]], schemes: tuple[Scheme, ...], *, optional: bool
) -> Callable[P, Awaitable[R]]:
    requirements: list[dict[str, list[str]]] = [
        {scheme.value: []} for scheme in schemes
    ]
    if optional:
        requirements.append({})  # OpenAPI's way to say "or none"
    wrapper = security_scheme(requirements)(wrapper)
    wrapper = document_response(ErrorBody, 401, AuthenticateHeader)(wrapper)
    return document_response(ErrorBody, 403)(wrapper)


def current_account() -> Account:
    """The caller, in a view under `require_account`."""
    account: Account = g.api_account
    return account


def optional_caller() -> Account | None:
    """The caller, or None for an anonymous one, in a view under `optional_account`."""
    account: Account | None = g.api_account
    return account


def may_see_private(user_id: int) -> bool:
    """Whether the caller may see this user's email: it is theirs, or an admin's."""
    caller = optional_caller()
    return caller is not None and (caller.id == user_id or caller.is_administrator())


def current_token_id() -> int:
    """The id of the caller's token, in a view that takes only bearer tokens."""
    token_id: int | None = g.api_token_id
    assert token_id is not None, "use under require_account(Scheme.BEARER)"
    return token_id


async def _authenticate(schemes: tuple[Scheme, ...]) -> None:
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise AuthenticationRequired(
            f"Authentication required: send {_what_to_send(schemes)}.", schemes
        )
    name, _, credentials = header.partition(" ")
    scheme = _scheme_named(name)
    if scheme not in schemes:
        raise AuthenticationRequired(
            f"This endpoint takes {_what_to_send(schemes)}.", schemes
        )
    token_id: int | None = None
    if scheme is Scheme.BASIC:
        account = await _basic_account(credentials.strip())
        if account is None:
            raise AuthenticationRequired("Invalid email or password.", schemes)
    else:
        holder = await _token_holder(credentials.strip())
        if holder is None:
            raise AuthenticationRequired(
                "Invalid or expired token.", schemes, invalid_token=True
            )
        account, token_id = holder
    if not account.confirmed:
        raise Forbidden("Unconfirmed account.")
    g.api_account = account
    g.api_token_id = token_id


def _scheme_named(name: str) -> Scheme | None:
    try:
        return Scheme(name.lower())
    except ValueError:
        return None


def _what_to_send(schemes: tuple[Scheme, ...]) -> str:
    return " or ".join(_WHAT_TO_SEND[scheme] for scheme in schemes)


async def _basic_account(credentials: str) -> Account | None:
    if len(credentials) > _MAX_BASIC_LENGTH:
        return None
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8
        return None
    email, colon, password = decoded.partition(":")
    if (
        not colon
        or not email
        or not password
        or len(email) > EMAIL_MAX_LENGTH
        or len(password) > PASSWORD_MAX_LENGTH
        or "\0" in email  # PostgreSQL text cannot hold it
    ):
        return None
    return await authenticate(get_session(), email=email, password=password)


async def _token_holder(token: str) -> api_tokens.TokenHolder | None:
    if _TOKEN_SHAPE.fullmatch(token) is None:
        return None
    return await api_tokens.token_holder(get_session(), token)
