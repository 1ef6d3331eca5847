"""The follow pages: Follow and Unfollow, and the lists of follows both ways.

Unlike the book's, Follow and Unfollow change state only on a POST with a
CSRF token; the profile draws them as buttons (`follow_button`).
"""

from __future__ import annotations

from quart import abort, current_app, flash, redirect, render_template, url_for
from quart.typing import ResponseReturnValue
from werkzeug.exceptions import Forbidden

from quarty.auth.signin import signed_in_account
from quarty.db import get_session
from quarty.main import bp
from quarty.main.forms import FollowForm, UnfollowForm
from quarty.main.posts import page_number
from quarty.models import Permission
from quarty.services import follows, profiles
from quarty.services.accounts import get_user_by_username
from quarty.services.auth import Account
from quarty.services.posts import NotAllowedError
from quarty.web.decorators import permission_required
from quarty.web.forms import QuartForm

# The book's flashes, by (following?, what the change did); {} is the username.
_MESSAGES = {
    (True, follows.Change.DONE): "You are now following {}.",
    (True, follows.Change.ALREADY): "You are already following this user.",
    (False, follows.Change.DONE): "You are not following {} anymore.",
    (False, follows.Change.ALREADY): "You are not following this user.",
}


def follow_button(
    viewer: Account | None, profile: profiles.Profile
) -> QuartForm | None:
    """The Follow or Unfollow form for a viewer on a profile read for them, or
    None: for a visitor, the owner, a name-only user, or a viewer without FOLLOW."""
    if (
        viewer is None
        or viewer.id == profile.id
        or not profile.is_account
        or not viewer.can(Permission.FOLLOW)
    ):
        return None
    return UnfollowForm() if profile.followed_by_viewer else FollowForm()


@bp.post("/follow/<username>")
@permission_required(Permission.FOLLOW)
async def follow(username: str) -> ResponseReturnValue:
    """Follow a user, then back to their profile; a repeat changes nothing."""
    return await _change(username, following=True)


@bp.post("/unfollow/<username>")
@permission_required(Permission.FOLLOW)
async def unfollow(username: str) -> ResponseReturnValue:
    """Stop following a user, then back to their profile; a repeat changes nothing."""
    return await _change(username, following=False)


async def _change(username: str, *, following: bool) -> ResponseReturnValue:
    account = await signed_in_account()
    form = await (FollowForm if following else UnfollowForm).from_request()
    form.validate_on_submit()  # a bad CSRF token stops here with 400
    db = get_session()
    user = await get_user_by_username(db, username=username)
    if user is None or user.email is None:
        # The book's answer to a name nobody has; a name-only user (no email)
        # is no account and cannot be followed either.
        await flash("Invalid user.")
        return redirect(url_for("main.index"))
    change = follows.follow if following else follows.unfollow
    try:
        done = await change(db, follower=account, followed_id=user.id)
    except follows.FollowError as refused:  # oneself
        await flash(str(refused))
    except NotAllowedError as refused:  # the role changed since the check
        raise Forbidden(str(refused)) from None
    else:
        await flash(_MESSAGES[following, done].format(user.username))
    return redirect(url_for("main.user", username=user.username))


@bp.get("/followers/<username>")
async def followers(username: str) -> ResponseReturnValue:
    """Who follows a user, newest first."""
    return await _follows_page(username, followers=True)


@bp.get("/followed_by/<username>")
async def followed_by(username: str) -> ResponseReturnValue:
    """Whom a user follows, newest first."""
    return await _follows_page(username, followers=False)


async def _follows_page(username: str, *, followers: bool) -> ResponseReturnValue:
    db = get_session()
    profile = await profiles.get_profile(db, username=username)
    if profile is None or not profile.is_account:
        abort(404)
    page = await follows.list_follows(
        db,
        user_id=profile.id,
        followers=followers,
        page=page_number(),
        per_page=current_app.config["QUARTY_FOLLOWERS_PER_PAGE"],
        # The profile counted them: a page past the end needs no count.
        known_total=profile.followers_count if followers else profile.following_count,
    )
    return await render_template(
        "main/follows.html",
        user=profile,
        title="Followers of" if followers else "Followed by",
        endpoint="main.followers" if followers else "main.followed_by",
        page=page,
    )
