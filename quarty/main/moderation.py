"""Comment moderation: every comment newest first, each with Enable or Disable.

Unlike the book's, Enable and Disable change state only on a POST with a
CSRF token, and return to the page of the list they were pressed on.
"""

from __future__ import annotations

from quart import abort, current_app, redirect, render_template, url_for
from quart.typing import ResponseReturnValue
from werkzeug.exceptions import Forbidden

from quarty.api.converters import MAX_ID
from quarty.auth.signin import signed_in_account
from quarty.db import get_session
from quarty.main import bp
from quarty.main.forms import ModerationForm
from quarty.main.posts import page_number
from quarty.models import Permission
from quarty.services import comments
from quarty.services.posts import NotAllowedError
from quarty.web.decorators import permission_required

_COMMENT_ID = f"<int(max={MAX_ID}):comment_id>"


@bp.get("/moderate")
@permission_required(Permission.MODERATE)
async def moderate() -> ResponseReturnValue:
    """Every comment, newest first, disabled ones with their bodies."""
    page = await comments.list_comments(
        get_session(),
        page=page_number(),
        per_page=current_app.config["QUARTY_COMMENTS_PER_PAGE"],
    )
    return await render_template("main/moderate.html", page=page)


@bp.post(f"/moderate/enable/{_COMMENT_ID}")
@permission_required(Permission.MODERATE)
async def moderate_enable(comment_id: int) -> ResponseReturnValue:
    """Show a disabled comment again, then back to the moderation page."""
    return await _set_disabled(comment_id, disabled=False)


@bp.post(f"/moderate/disable/{_COMMENT_ID}")
@permission_required(Permission.MODERATE)
async def moderate_disable(comment_id: int) -> ResponseReturnValue:
    """Hide a comment's body from all but moderators, then back to the page."""
    return await _set_disabled(comment_id, disabled=True)


async def _set_disabled(comment_id: int, *, disabled: bool) -> ResponseReturnValue:
    account = await signed_in_account()
    form = await ModerationForm.from_request()
    # A bad CSRF token stops here with 400; a bad page is the first one.
    valid = form.validate_on_submit()
    try:
        found = await comments.set_disabled(
            get_session(), moderator=account, comment_id=comment_id, disabled=disabled
        )
    except NotAllowedError as refused:  # the role changed since the check
        raise Forbidden(str(refused)) from None
    if not found:
        abort(404)
    page = form.page.data if valid and form.page.data else 1
    # Only this app's own page: the form picks its number, never the address.
    return redirect(url_for("main.moderate", page=page))
