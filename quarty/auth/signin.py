"""Who is signed in: quart-auth's cookie, checked against the database.

The cookie's auth id is "<user id>:<session version>". Changing or resetting
the password moves the version on, so every cookie issued before is refused.
"""

from __future__ import annotations

from typing import cast
from urllib.parse import urlsplit, urlunsplit

from quart import Quart, Response, flash, redirect, request, url_for
from quart.typing import ResponseReturnValue
from quart_auth import Action, AuthUser, QuartAuth, Unauthorized, login_user
from quart_auth import current_user as _current_user
from werkzeug.wrappers.response import Response as RedirectResponse

from quarty.db import get_session
from quarty.models import Permission
from quarty.security.redirects import safe_next
from quarty.services.auth import Account, account_for_auth_id
from quarty.web.errors import json_error, wants_json


class CurrentUser(AuthUser):
    """quart-auth's user, its account loaded from the database once per request."""

    def __init__(
        self,
        auth_id: str | None,
        action: Action = Action.PASS,
        account: Account | None = None,
    ) -> None:
        super().__init__(auth_id, action)
        self._account = account
        self._loaded = account is not None or auth_id is None

    async def load(self) -> Account | None:
        """The signed-in account, or None for a visitor or a stale cookie."""
        if not self._loaded:
            assert self.auth_id is not None
            self._account = await account_for_auth_id(get_session(), self.auth_id)
            self._loaded = True
        return self._account

    @property
    async def is_authenticated(self) -> bool:
        return await self.load() is not None

    # Sync, for templates and views: the account is loaded before the view
    # runs (quarty.auth.views), and a visitor can do nothing.
    def can(self, permission: Permission) -> bool:
        return self._account is not None and self._account.can(permission)

    def is_administrator(self) -> bool:
        return self.can(Permission.ADMIN)

    @property
    def username(self) -> str | None:
        """The signed-in account's username; None for a visitor."""
        return None if self._account is None else self._account.username


current_user = cast(CurrentUser, _current_user)


def init_app(app: Quart) -> None:
    """quart-auth's cookie with our user; a visitor is sent to log in first."""
    # One per app, not a shared one in extensions.py: QuartAuth keeps the
    # cookie settings of the first app it is bound to on itself.
    QuartAuth(app, user_class=CurrentUser)

    @app.after_request
    async def _private_when_signed_in(response: Response) -> Response:
        # A page made for one signed-in user must not be served to another by
        # a shared cache in front of the app.
        # Avatars and other public files stay cacheable by anyone.
        if current_user.auth_id is not None and not response.cache_control.public:
            response.vary.add("Cookie")
            response.cache_control.private = True
        return response

    @app.errorhandler(Unauthorized)
    async def _not_signed_in(_error: Unauthorized) -> ResponseReturnValue:
        if wants_json():
            return json_error(401, "Log in to use this.")
        return await redirect_to_login()


def sign_in(account: Account, *, remember: bool) -> None:
    """Set the sign-in cookie: for QUART_AUTH_DURATION, or until the browser closes."""
    login_user(CurrentUser(account.auth_id, account=account), remember=remember)


async def signed_in_account() -> Account:
    """The account of a view under `login_required`, where there must be one."""
    account = await current_user.load()
    assert account is not None, "use under quart_auth.login_required"
    return account


async def redirect_to_login() -> RedirectResponse:
    """A visitor on a page for users: to the login page, then back here."""
    await flash("Please log in to access this page.")
    return redirect(url_for("auth.login", next=_return_path()))


def _return_path() -> str | None:
    """Where to come back to after logging in: this page, or, for a form's
    POST, the page on this site that the form was on. Its URL would answer a
    GET with 405, and the POST's data is not kept."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    if request.referrer is None:
        return None
    parts = urlsplit(request.referrer)
    if parts.netloc != request.host:
        return None
    return safe_next(urlunsplit(("", "", parts.path, parts.query, "")), "") or None
