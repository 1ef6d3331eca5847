"""Rendering the HTML pages with a synchronous view of Quart's Jinja environment.

Quart compiles every template in Jinja's async mode, where each block and each
chunk of output passes through a chain of async generators; the pages call
nothing that awaits, so that machinery only costs time (a third of a render).
`render_page` renders the same templates, with the same globals, filters and
context (g, request, session, flashes), from an overlay compiled in sync mode.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from quart import Quart, current_app
from quart.signals import before_render_template, template_rendered

from quarty.form_html import render_form

PAGE_ENV_KEY = "quarty.page_templates"


def page_environment(app: Quart) -> Environment:
    """The app's sync overlay: it shares loader, globals, filters and tests."""
    environment: Environment = app.extensions[PAGE_ENV_KEY]
    return environment


async def render_page(template_name: str, **context: Any) -> str:
    """`quart.render_template` for a page, rendered without async Jinja."""
    app: Quart = current_app._get_current_object()  # type: ignore[attr-defined]
    await app.update_template_context(context)
    template = page_environment(app).get_template(template_name)
    # The same signals as Quart's render_template, for whoever listens; Quart
    # passes its overloaded ensure_async the same way.
    await before_render_template.send_async(
        app,
        _sync_wrapper=app.ensure_async,  # type: ignore[arg-type]
        template=template,
        context=context,
    )
    html = template.render(context)
    await template_rendered.send_async(
        app,
        _sync_wrapper=app.ensure_async,  # type: ignore[arg-type]
        template=template,
        context=context,
    )
    return html


def init_app(app: Quart) -> None:
    """Make the sync overlay; templates it compiles are cached apart from Quart's."""
    app.jinja_env.globals["render_form"] = render_form
    # An overlay shares the globals, filters and tests dicts themselves, so
    # what is registered on app.jinja_env later reaches the pages too.
    app.extensions[PAGE_ENV_KEY] = app.jinja_env.overlay(enable_async=False)
