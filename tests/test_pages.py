"""The layout's links, and templates/_form.html drawing any WTForms form."""

from __future__ import annotations

import re

from quart import Quart, render_template_string
from quart.testing import QuartClient
from wtforms import (
    BooleanField,
    EmailField,
    Form,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

# WTForms 3.3 deprecates tuples for SelectChoice, which types-WTForms 3.2 lacks.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, Email, Length

from tests.helpers import submit_name

FORM_PAGE = '{% import "_form.html" as forms %}{{ forms.render_form(form, action) }}'


async def test_layout_links_follow_the_root_path(client: QuartClient) -> None:
    response = await client.get("/quarty/", root_path="/quarty")
    assert response.status_code == 200
    mounted = await response.get_data(True)
    plain = await (await client.get("/")).get_data(True)
    assert 'href="/quarty/static/css/quarty.css"' in mounted
    assert 'src="/quarty/static/js/moment.js"' in mounted
    assert 'class="navbar-brand" href="/quarty/"' in mounted
    assert 'href="/quarty/docs"' in mounted
    assert 'href="/static/css/quarty.css"' in plain
    assert 'href="/vendor/bootstrap/css/bootstrap.min.css"' in plain
    assert 'class="navbar-brand" href="/"' in plain


async def test_home_link_is_active_only_on_the_home_page(client: QuartClient) -> None:
    await submit_name(client, "ada")
    home = await (await client.get("/")).get_data(True)
    greeting = await (await client.get("/user/ada")).get_data(True)
    assert 'class="nav-link active"' in home
    assert 'class="nav-link active"' not in greeting
    assert 'class="nav-link"' in greeting


class _EveryKindOfField(Form):
    token = HiddenField(default="t<1>")
    name = StringField("Name <you>", validators=[DataRequired(), Length(max=64)])
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])
    about = TextAreaField("About me", validators=[Length(max=200)])
    remember = BooleanField("Keep me logged in")
    role = SelectField(
        "Role",
        choices=[SelectChoice(1, "User"), SelectChoice(2, "Administrator")],
        coerce=int,
    )
    submit = SubmitField("Submit")


async def _render(app: Quart, form: Form, action: str = "") -> str:
    async with app.test_request_context("/"):
        return await render_template_string(FORM_PAGE, form=form, action=action)


def _input(html: str, name: str) -> str:
    match = re.search(rf'<(?:input|textarea|select)[^>]* name="{name}"[^>]*>', html)
    assert match, f"no input named {name}"
    return match.group(0)


async def test_every_kind_of_field_is_labelled_with_bootstrap_classes(
    app: Quart,
) -> None:
    html = await _render(app, _EveryKindOfField(), action="/go?a=1&b=2")
    assert '<form method="post" action="/go?a=1&amp;b=2" novalidate>' in html
    assert 'type="hidden" value="t&lt;1&gt;"' in _input(html, "token")
    for name, label in [
        ("name", "Name &lt;you&gt;"),
        ("email", "Email"),
        ("password", "Password"),
        ("about", "About me"),
        ("role", "Role"),
    ]:
        assert f'<label class="form-label" for="{name}">{label}</label>' in html
    assert 'class="form-control"' in _input(html, "name")
    assert 'type="email"' in _input(html, "email")
    assert 'type="password"' in _input(html, "password")
    assert _input(html, "about").startswith("<textarea")
    assert 'class="form-select"' in _input(html, "role")
    assert '<option value="2">Administrator</option>' in html
    checkbox = _input(html, "remember")
    assert 'class="form-check-input"' in checkbox and 'type="checkbox"' in checkbox
    assert '<label class="form-check-label" for="remember">' in html
    assert 'class="btn btn-primary"' in _input(html, "submit")
    # The hidden input comes first and the button last, as a form reads.
    assert html.index('name="token"') < html.index('name="name"')
    assert html.index('name="role"') < html.index('name="submit"')


async def test_validators_show_as_required_and_maxlength(app: Quart) -> None:
    html = await _render(app, _EveryKindOfField())
    name = _input(html, "name")
    assert " required" in name and 'maxlength="64"' in name
    assert " required" in _input(html, "password")
    assert 'maxlength="200"' in _input(html, "about")
    assert " required" not in _input(html, "about")


async def test_errors_mark_the_field_invalid_and_are_listed_under_it(
    app: Quart,
) -> None:
    async with app.test_request_context("/"):
        form = _EveryKindOfField(data={"email": "not an address", "about": "x" * 201})
        form.validate()
    html = await _render(app, form)
    assert 'class="form-control is-invalid"' in _input(html, "name")
    assert 'class="form-control is-invalid"' in _input(html, "about")
    feedback = re.findall(r'<div class="invalid-feedback">([^<]*)</div>', html)
    assert "This field is required." in feedback
    assert "Invalid email address." in feedback
    assert "Field cannot be longer than 200 characters." in feedback
    assert 'class="form-check-input"' in _input(html, "remember")
