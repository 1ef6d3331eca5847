"""Views for some users only: a permission, or the administrator's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from quart_auth import Unauthorized
from werkzeug.exceptions import Forbidden

from quarty.auth.signin import current_user
from quarty.models import Permission

P = ParamSpec("P")
R = TypeVar("R")

INSUFFICIENT_PERMISSIONS = "Insufficient permissions"


def permission_required(
    permission: Permission,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Run the view for a user whose role grants the permission.

    A visitor is sent to log in (and back, by a safe `next`); a user without
    the permission gets 403: a page in a browser, JSON under /api/.
    """

    def decorator(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if not await current_user.is_authenticated:
                raise Unauthorized()
            if not current_user.can(permission):
                raise Forbidden(INSUFFICIENT_PERMISSIONS)
            return await view(*args, **kwargs)

        return wrapper

    return decorator


def admin_required(
    view: Callable[P, Awaitable[R]],
) -> Callable[P, Awaitable[R]]:
    """Run the view for an administrator only (see permission_required)."""
    return permission_required(Permission.ADMIN)(view)
