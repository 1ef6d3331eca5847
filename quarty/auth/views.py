"""Routes of the account pages: the book's chapter 8, with its faults fixed.

Every change of state is a POST with CSRF, including logging out and the
links mailed out: a link opens a page whose button confirms, so a mail
scanner that fetches links cannot use them up.
"""

from __future__ import annotations

from quart import flash, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue
from quart_auth import login_required, logout_user

from quarty.auth import bp
from quarty.auth.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmAccountForm,
    ConfirmEmailForm,
    LoginForm,
    LogoutForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    RegistrationForm,
    ResendConfirmationForm,
)
from quarty.auth.last_seen import note_seen
from quarty.auth.signin import current_user, sign_in, signed_in_account
from quarty.db import get_session
from quarty.security import limits
from quarty.security.links import Purpose, read_token
from quarty.security.redirects import safe_next
from quarty.services import auth as accounts
from quarty.services import credentials

# Pages an unconfirmed user may still reach: the account pages, and the files
# every page needs.
_OPEN_TO_UNCONFIRMED = frozenset({"static", "bootstrap_asset", "favicon"})


@bp.before_app_request
async def _check_signed_in_user() -> ResponseReturnValue | None:
    """Drop a stale sign-in cookie, note the user as seen (quarty.auth.last_seen),
    and send an unconfirmed user to confirm first.

    The API authenticates each request on its own and ignores the cookie.
    """
    if current_user.auth_id is None or request.blueprint == "api":
        return None
    account = await current_user.load()
    if account is None:
        logout_user()  # the password changed, or the account is gone
        return None
    note_seen(account)
    if (
        not account.confirmed
        and request.routing_exception is None  # a 404 or 405 stays one
        and request.blueprint != "auth"
        and request.endpoint not in _OPEN_TO_UNCONFIRMED
    ):
        return redirect(url_for("auth.unconfirmed"))
    return None


@bp.route("/login", methods=["GET", "POST"])
@limits.LOGIN
async def login() -> ResponseReturnValue:
    form = await LoginForm.from_request()
    if form.validate_on_submit():
        account = await accounts.authenticate(
            get_session(), email=str(form.email.data), password=str(form.password.data)
        )
        if account is not None:
            sign_in(account, remember=bool(form.remember_me.data))
            return redirect(safe_next(request.args.get("next"), url_for("main.index")))
        await flash("Invalid email or password.")
    return await render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
async def logout() -> ResponseReturnValue:
    form = await LogoutForm.from_request()
    form.validate_on_submit()  # a bad CSRF token stops here with 400
    logout_user()
    await flash("You have been logged out.")
    return redirect(url_for("main.index"))


@bp.route("/register", methods=["GET", "POST"])
@limits.REGISTER
async def register() -> ResponseReturnValue:
    form = await RegistrationForm.from_request()
    if form.validate_on_submit():
        try:
            await accounts.register_account(
                get_session(),
                email=str(form.email.data),
                username=str(form.username.data),
                password=str(form.password.data),
            )
        except accounts.EmailTakenError as taken:
            form.email.errors = [str(taken)]
        except accounts.UsernameTakenError as taken:
            form.username.errors = [str(taken)]
        else:
            await flash("A confirmation email has been sent to you by email.")
            return redirect(url_for("auth.login"))
    return await render_template("auth/register.html", form=form)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@login_required
async def confirm(token: str) -> ResponseReturnValue:
    account = await signed_in_account()
    if account.confirmed:
        return redirect(url_for("main.index"))
    form = await ConfirmAccountForm.from_request()
    if not form.validate_on_submit():
        return await render_template(
            "auth/confirm_link.html", form=form, title="Confirm your account"
        )
    if await accounts.confirm_account(get_session(), account, token):
        await flash("You have confirmed your account. Thanks!")
    else:
        await flash("The confirmation link is invalid or has expired.")
    return redirect(url_for("main.index"))


@bp.route("/confirm", methods=["POST"])
@login_required
async def resend_confirmation() -> ResponseReturnValue:
    form = await ResendConfirmationForm.from_request()
    form.validate_on_submit()
    account = await signed_in_account()
    if not account.confirmed:
        await accounts.resend_confirmation(account)
        await flash("A new confirmation email has been sent to you by email.")
    return redirect(url_for("main.index"))


@bp.route("/unconfirmed")
async def unconfirmed() -> ResponseReturnValue:
    account = await current_user.load()
    if account is None or account.confirmed:
        return redirect(url_for("main.index"))
    return await render_template(
        "auth/unconfirmed.html", account=account, form=ResendConfirmationForm()
    )


@bp.route("/change-password", methods=["GET", "POST"])
@login_required
async def change_password() -> ResponseReturnValue:
    form = await ChangePasswordForm.from_request()
    if form.validate_on_submit():
        account = await credentials.change_password(
            get_session(),
            await signed_in_account(),
            old_password=str(form.old_password.data),
            new_password=str(form.password.data),
        )
        if account is not None:
            # Every other browser is signed out; this one carries on.
            sign_in(account, remember=False)
            await flash("Your password has been updated.")
            return redirect(url_for("main.index"))
        await flash("Invalid password.")
    return await render_template("auth/change_password.html", form=form)


@bp.route("/reset", methods=["GET", "POST"])
@limits.RESET
async def password_reset_request() -> ResponseReturnValue:
    if await current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = await PasswordResetRequestForm.from_request()
    if form.validate_on_submit():
        # The same answer whether or not the email has an account.
        await credentials.request_password_reset(get_session(), str(form.email.data))
        await flash(
            "An email with instructions to reset your password has been sent to you."
        )
        return redirect(url_for("auth.login"))
    return await render_template("auth/reset_password.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limits.RESET
async def password_reset(token: str) -> ResponseReturnValue:
    if await current_user.is_authenticated:
        return redirect(url_for("main.index"))
    if read_token(Purpose.RESET_PASSWORD, token) is None:
        await flash("The password reset link is invalid or has expired.")
        return redirect(url_for("auth.password_reset_request"))
    form = await PasswordResetForm.from_request()
    if form.validate_on_submit():
        if await credentials.reset_password(
            get_session(), token, str(form.password.data)
        ):
            await flash("Your password has been updated.")
            return redirect(url_for("auth.login"))
        await flash("The password reset link is invalid or has expired.")
        return redirect(url_for("auth.password_reset_request"))
    return await render_template("auth/reset_password.html", form=form)


@bp.route("/change_email", methods=["GET", "POST"])
@login_required
async def change_email_request() -> ResponseReturnValue:
    form = await ChangeEmailForm.from_request()
    if form.validate_on_submit():
        session = get_session()
        if await accounts.email_is_registered(session, str(form.email.data)):
            form.email.errors = ["Email already registered."]
        elif await credentials.request_email_change(
            session,
            await signed_in_account(),
            new_email=str(form.email.data),
            password=str(form.password.data),
        ):
            await flash(
                "An email with instructions to confirm your new email address "
                "has been sent to you."
            )
            return redirect(url_for("main.index"))
        else:
            await flash("Invalid email or password.")
    return await render_template("auth/change_email.html", form=form)


@bp.route("/change_email/<token>", methods=["GET", "POST"])
@login_required
async def change_email(token: str) -> ResponseReturnValue:
    form = await ConfirmEmailForm.from_request()
    if not form.validate_on_submit():
        return await render_template(
            "auth/confirm_link.html", form=form, title="Confirm your new email address"
        )
    if await credentials.change_email(get_session(), await signed_in_account(), token):
        await flash("Your email address has been updated.")
    else:
        await flash("The email change link is invalid or has expired.")
    return redirect(url_for("main.index"))
