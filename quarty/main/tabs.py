"""The All and Followed tabs of the home page, the book's `show_followed` cookie.

Unlike the book's GETs, a tab is chosen by a POST with a CSRF token. The
choice is a preference, not a secret, so a cookie of its own keeps it for 30
days, whoever signs in on that browser; a visitor's home page ignores it.
"""

from __future__ import annotations

from datetime import timedelta

from quart import current_app, redirect, request, url_for
from quart.typing import ResponseReturnValue
from quart_auth import login_required

from quarty.main import bp
from quarty.main.forms import FeedTabForm

SHOW_FOLLOWED_COOKIE = "show_followed"
SHOW_FOLLOWED_MAX_AGE = timedelta(days=30)


def shows_followed() -> bool:
    """Whether this browser chose the Followed tab."""
    return bool(request.cookies.get(SHOW_FOLLOWED_COOKIE))


@bp.post("/all")
@login_required
async def show_all() -> ResponseReturnValue:
    """The All tab: everyone's posts on the home page."""
    return await _choose(followed=False)


@bp.post("/followed")
@login_required
async def show_followed() -> ResponseReturnValue:
    """The Followed tab: the posts of whom the user follows, and their own."""
    return await _choose(followed=True)


async def _choose(*, followed: bool) -> ResponseReturnValue:
    form = await FeedTabForm.from_request()
    form.validate_on_submit()  # a bad CSRF token stops here with 400
    response = redirect(url_for("main.index"))
    response.set_cookie(
        SHOW_FOLLOWED_COOKIE,
        "1" if followed else "",
        max_age=SHOW_FOLLOWED_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response
