"""Limits on guessing: attempts to log in, register, reset, and get API tokens.

Each attempt counts against the client's address and against the account it
names (the form's email, or the Basic username), so neither one address nor a
crowd of addresses can guess one account's password. On the pages only POSTs
count: reading the forms is free; on the API, every request with a password.
Over the limit: 429 with Retry-After.

The counts live in each process's memory (quart-rate-limiter's MemoryStore),
so with N workers a client can make up to N times the figures below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from quart import Quart, request
from quart.typing import RouteCallable
from quart_rate_limiter import RateLimiter, rate_limit

T = TypeVar("T", bound=RouteCallable)

EXTENSION_KEY = "quarty.limits"

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


async def client_address() -> str:
    return f"address:{request.remote_addr}"


async def _account_name() -> str:
    """The email a form or the Basic credentials name, lowercased; or ""."""
    name: str | None = None
    if request.authorization is not None:
        name = request.authorization.username
    elif request.mimetype in {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }:
        name = (await request.form).get("email")
    return (name or "").strip().lower()


async def named_account() -> str:
    return f"account:{await _account_name()}"


async def is_post() -> bool:
    """A form's attempt: reading the form is free."""
    return request.method == "POST"


async def sends_password() -> bool:
    """An API attempt: any request that carries HTTP Basic credentials."""
    return request.authorization is not None and request.authorization.type == "basic"


def limit_attempts(
    *,
    per_address: tuple[int, timedelta],
    per_account: tuple[int, timedelta] | None = None,
    attempt: Callable[[], Awaitable[bool]] = is_post,
) -> Callable[[T], T]:
    """Limit a view's attempts per client address and, optionally, per named account."""

    async def not_an_attempt() -> bool:
        return not await attempt()

    async def names_nobody() -> bool:
        # An attempt that names nobody counts against its address only, not
        # against one shared bucket that would hold up everybody.
        return not await attempt() or not await _account_name()

    def decorator(view: T) -> T:
        count, period = per_address
        view = rate_limit(
            count, period, key_function=client_address, skip_function=not_an_attempt
        )(view)
        if per_account is not None:
            count, period = per_account
            view = rate_limit(
                count, period, key_function=named_account, skip_function=names_nobody
            )(view)
        return view

    return decorator


# The numbers the README states: generous for a person mistyping, slow for a script.
LOGIN = limit_attempts(per_address=(10, MINUTE), per_account=(20, HOUR))
REGISTER = limit_attempts(per_address=(10, HOUR))
RESET = limit_attempts(per_address=(10, HOUR), per_account=(5, HOUR))
# Each API endpoint that takes a password counts on its own.
API_PASSWORD = limit_attempts(
    per_address=(30, MINUTE), per_account=(60, HOUR), attempt=sends_password
)


def init_app(app: Quart) -> None:
    """A limiter, and a store of counts, of the app's own.

    Not a shared one in extensions.py: a RateLimiter holds its store, and the
    keys it makes name the app's import name only, so apps would share counts.
    """
    app.extensions[EXTENSION_KEY] = RateLimiter(app)
