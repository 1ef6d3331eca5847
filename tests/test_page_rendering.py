"""The pages' fast rendering paths give what the slow ones they replace gave."""

from __future__ import annotations

import re

import pytest
from markupsafe import Markup
from quart import Quart, flash, render_template
from quart.testing import QuartClient
from wtforms import Form, HiddenField, StringField, SubmitField, widgets
from wtforms.validators import DataRequired, Length

from quarty.form_html import render_form
from quarty.main.forms import NameForm
from quarty.pages import page_environment, render_page
from quarty.widgets import HiddenInput, SubmitInput, TextInput

# moment() stamps each render with the time it ran.
TIME_ELEMENT = re.compile(r"<time [^>]*>[^<]*</time>")


def without_times(html: str) -> str:
    return TIME_ELEMENT.sub("<time>", html)


@pytest.mark.parametrize(
    ("path", "template", "context"),
    [
        ("/user/ada", "user.html", {"name": "ada <b>"}),
        ("/missing", "404.html", {"status": 404, "error": None}),
    ],
)
async def test_pages_render_as_quarts_async_render_template(
    app: Quart, path: str, template: str, context: dict[str, object]
) -> None:
    async with app.test_request_context(path):
        fast = await render_page(template, **context)
        slow = await render_template(template, **context)
    assert without_times(fast) == without_times(slow)
    assert "<time>" in without_times(fast)


async def test_name_page_with_errors_and_a_flash_renders_as_quarts(app: Quart) -> None:
    async with app.test_request_context(
        "/", method="POST", form={"name": "", "csrf_token": "forged"}
    ):
        form = await NameForm.from_request()
        form.validate()
        await flash("Looks like you have changed your name!")
        context = {"form": form, "name": "<i>ada</i>", "known": True}
        fast = await render_page("index.html", **context)
        slow = await render_template("index.html", **context)
    assert without_times(fast) == without_times(slow)
    assert "Looks like you have changed your name!" in fast
    assert 'class="form-control is-invalid"' in fast
    assert "&lt;i&gt;ada&lt;/i&gt;" in fast


async def test_filters_registered_after_create_app_reach_the_pages(app: Quart) -> None:
    app.add_template_filter(lambda text: text.upper(), "shout")
    template = page_environment(app).from_string("{{ 'quiet'|shout }}")
    assert template.render() == "QUIET"


async def test_layout_links_follow_the_root_path(client: QuartClient) -> None:
    mounted = await (await client.get("/", root_path="/quarty")).get_data(True)
    plain = await (await client.get("/")).get_data(True)
    assert 'href="/quarty/static/css/quarty.css"' in mounted
    assert 'src="/quarty/static/js/moment.js"' in mounted
    assert 'class="navbar-brand" href="/quarty/"' in mounted
    assert 'href="/static/css/quarty.css"' in plain
    assert 'href="/vendor/bootstrap/css/bootstrap.min.css"' in plain
    assert 'class="navbar-brand" href="/"' in plain


async def test_home_link_is_active_only_on_the_home_page(client: QuartClient) -> None:
    home = await (await client.get("/")).get_data(True)
    greeting = await (await client.get("/user/ada")).get_data(True)
    assert 'class="nav-link active"' in home
    assert 'class="nav-link active"' not in greeting
    assert 'class="nav-link"' in greeting


def _sample_form_class(fast: bool) -> type[Form]:
    """The same fields, drawn by quarty's widgets or by WTForms' own."""

    def widget(fast_widget: object) -> dict[str, object]:
        return {"widget": fast_widget} if fast else {}

    class SampleForm(Form):
        name = StringField(
            "Name <you>",
            validators=[DataRequired(), Length(min=2, max=10)],
            **widget(TextInput()),
        )
        note = StringField("Note", render_kw={"disabled": True}, **widget(TextInput()))
        secret = HiddenField(**widget(HiddenInput()))
        go = SubmitField('Go "now"', **widget(SubmitInput()))

    return SampleForm


@pytest.mark.parametrize("value", ["", 'quote " and <tag> & amp', "x" * 20])
@pytest.mark.parametrize("keywords", [{}, {"class_": "form-control"}, {"data_x": 1}])
def test_fast_widgets_render_wtforms_own_html(
    value: str, keywords: dict[str, object]
) -> None:
    data = {"name": value, "note": value, "secret": value}
    fast = _sample_form_class(fast=True)(data=data)
    stock = _sample_form_class(fast=False)(data=data)
    fast.validate()
    stock.validate()
    for name in ("name", "note", "secret", "go"):
        assert fast[name](**keywords) == stock[name](**keywords)


def test_fast_widgets_are_wtforms_widgets() -> None:
    assert isinstance(TextInput(), widgets.TextInput)
    assert isinstance(HiddenInput(), widgets.HiddenInput)
    assert isinstance(SubmitInput(), widgets.SubmitInput)


class _FormWithHiddenField(Form):
    name = StringField("What is your name?", validators=[DataRequired()])
    nickname = StringField("Nickname")
    token = HiddenField(default="t<1>")
    submit = SubmitField("Submit")


def test_form_markup_labels_each_input_and_lists_its_errors() -> None:
    form = _FormWithHiddenField()
    form.validate()
    html = render_form(form, action="/go?a=1&b=2")
    assert isinstance(html, Markup)
    assert html == (
        '<form method="post" action="/go?a=1&amp;b=2" novalidate>\n'
        '  <input id="token" name="token" type="hidden" value="t&lt;1&gt;">\n'
        '  <div class="mb-3">\n'
        '    <label class="form-label" for="name">What is your name?</label>\n'
        '    <input class="form-control is-invalid" id="name" name="name" required'
        ' type="text" value="">\n'
        '    <div class="invalid-feedback">This field is required.</div>\n'
        "  </div>\n"
        '  <div class="mb-3">\n'
        '    <label class="form-label" for="nickname">Nickname</label>\n'
        '    <input class="form-control" id="nickname" name="nickname" type="text"'
        ' value="">\n'
        "  </div>\n"
        '  <input class="btn btn-primary" id="submit" name="submit" type="submit"'
        ' value="Submit">\n'
        "</form>"
    )
