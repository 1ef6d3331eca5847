"""Routes of the main pages."""

from __future__ import annotations

from quart import flash, redirect, render_template, session, url_for
from quart.typing import ResponseReturnValue

from quarty.auth.signin import current_user
from quarty.db import get_session
from quarty.main import bp
from quarty.main.forms import NameForm
from quarty.services.accounts import register_name


@bp.route("/", methods=["GET", "POST"])
async def index() -> ResponseReturnValue:
    """The name form for visitors; a signed-in user is greeted by name."""
    account = await current_user.load()
    if account is not None:
        return await render_template("main/index.html", account=account)
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
    )


@bp.route("/user/<name>")
async def user(name: str) -> ResponseReturnValue:
    """Greet a name taken from the URL."""
    return await render_template("main/user.html", name=name)
