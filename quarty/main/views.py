"""Routes of the main pages: home, profiles and their edits (posts: main.posts)."""

from __future__ import annotations

from quart import abort, flash, redirect, render_template, request, session, url_for
from quart.typing import ResponseReturnValue
from quart_auth import login_required
from werkzeug.exceptions import Forbidden

from quarty.auth.signin import current_user, signed_in_account
from quarty.db import get_session
from quarty.main import bp
from quarty.main.follows import follow_button
from quarty.main.forms import EditProfileAdminForm, EditProfileForm, NameForm, PostForm
from quarty.main.posts import posts_page
from quarty.main.tabs import shows_followed
from quarty.models import Permission
from quarty.services import profiles
from quarty.services.accounts import register_name
from quarty.services.auth import EmailTakenError, UsernameTakenError
from quarty.services.posts import InvalidPostError, NotAllowedError, create_post
from quarty.services.roles import list_roles
from quarty.web.decorators import INSUFFICIENT_PERMISSIONS, admin_required


@bp.route("/", methods=["GET", "POST"])
async def index() -> ResponseReturnValue:
    """The posts; above them the post form for a writer, the name form for a
    visitor; a signed-in user's All or Followed tab chooses which posts."""
    account = await current_user.load()
    if account is None:
        return await _visitor_index()
    form = None
    if account.can(Permission.WRITE):
        form = await PostForm.from_request()
        if form.validate_on_submit():
            try:
                await create_post(
                    get_session(), author=account, body=str(form.body.data)
                )
            except InvalidPostError as invalid:  # the form checks the same
                form.body.errors = [*form.body.errors, str(invalid)]
            except NotAllowedError as refused:  # the role changed meanwhile
                raise Forbidden(str(refused)) from None
            else:
                return redirect(url_for("main.index"))
    elif request.method == "POST":
        # Refused out loud: a post that silently vanished would look lost.
        raise Forbidden(INSUFFICIENT_PERMISSIONS)
    # Read only here: a visitor (above) always sees All, whatever the cookie.
    followed = shows_followed()
    return await render_template(
        "main/index.html",
        viewer=account,
        form=form,
        show_followed=followed,
        page=await posts_page(followed_by=account.id if followed else None),
    )


async def _visitor_index() -> ResponseReturnValue:
    form = await NameForm.from_request()
    if form.validate_on_submit():
        name = str(form.name.data)
        _user, created = await register_name(get_session(), username=name)
        session["known"] = not created
        if session.get("name") not in (None, name):
            await flash("Looks like you have changed your name!")
        session["name"] = name
        return redirect(url_for("main.index"))
    return await render_template(
        "main/index.html",
        form=form,
        name=session.get("name"),
        known=session.get("known", False),
        page=await posts_page(),
    )


@bp.route("/user/<username>")
async def user(username: str) -> ResponseReturnValue:
    """A user's profile and posts; a name-only user is greeted by name."""
    # Loaded before the view already (quarty.auth.views): no query here.
    account = await current_user.load()
    profile = await profiles.get_profile(
        get_session(),
        username=username,
        viewer_id=None if account is None else account.id,
    )
    if profile is None:
        abort(404)
    if not profile.is_account:  # who cannot log in has written nothing
        return await render_template("main/user.html", user=profile)
    return await render_template(
        "main/user.html",
        user=profile,
        is_owner=account is not None and account.id == profile.id,
        viewer=account,
        follow_form=follow_button(account, profile),
        # The profile counted the posts: a page past the end needs no count.
        page=await posts_page(author_id=profile.id, known_total=profile.post_count),
    )


@bp.route("/edit-profile", methods=["GET", "POST"])
@login_required
async def edit_profile() -> ResponseReturnValue:
    """The signed-in user's name, location and about-me."""
    account = await signed_in_account()
    profile = await profiles.get_profile_by_id(get_session(), user_id=account.id)
    assert profile is not None  # the account was loaded in this request
    form = await EditProfileForm.from_request(data=profile._asdict())
    if form.validate_on_submit():
        await profiles.update_own_profile(
            get_session(),
            user_id=account.id,
            name=form.name.data,
            location=form.location.data,
            about_me=form.about_me.data,
        )
        await flash("Your profile has been updated.")
        return redirect(url_for("main.user", username=account.username))
    return await render_template(
        "main/edit_profile.html", form=form, title="Edit Your Profile"
    )


@bp.route("/edit-profile/<int:user_id>", methods=["GET", "POST"])
@admin_required
async def edit_profile_admin(user_id: int) -> ResponseReturnValue:
    """An administrator's edit of any user, account or name-only."""
    db = get_session()
    profile = await profiles.get_profile_by_id(db, user_id=user_id)
    if profile is None:
        abort(404)
    form = await EditProfileAdminForm.from_request(
        roles=await list_roles(db),
        is_account=profile.is_account,
        data={**profile._asdict(), "role": profile.role_id},
    )
    if form.validate_on_submit():
        account_only = profile.is_account  # a name-only form has neither field
        try:
            updated = await profiles.admin_update_user(
                db,
                user_id=user_id,
                email=str(form.email.data) if account_only else profiles.UNCHANGED,
                username=str(form.username.data),
                confirmed=(
                    bool(form.confirmed.data) if account_only else profiles.UNCHANGED
                ),
                role_id=int(form.role.data),
                name=form.name.data,
                location=form.location.data,
                about_me=form.about_me.data,
            )
        except EmailTakenError as taken:
            form.email.errors = [*form.email.errors, str(taken)]
        except UsernameTakenError as taken:
            form.username.errors = [*form.username.errors, str(taken)]
        except profiles.InvalidProfileError as invalid:
            # The form's checks are the service's; this is a safety net.
            field = form.role if invalid.field == "role_id" else form[invalid.field]
            field.errors = [*field.errors, str(invalid)]
        else:
            if updated is None:  # deleted since it was loaded
                abort(404)
            await flash("The profile has been updated.")
            return redirect(url_for("main.user", username=updated.username))
    return await render_template(
        "main/edit_profile.html",
        form=form,
        title=f"Edit Profile of {profile.username}",
    )
