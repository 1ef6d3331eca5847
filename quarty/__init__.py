"""Quarty: Flasky's social blogging app on async Quart."""

from __future__ import annotations

from typing import Any

from quart import Quart

from quarty.paths import resource_dir

__all__ = ["create_app"]


def create_app(config_name: str | None = None, **overrides: Any) -> Quart:
    """Build an app from a named config (else QUARTY_CONFIG, else default)."""
    from quarty import assets, cli, db, errors, extensions, mail, pages, urls
    from quarty.config import select_config
    from quarty.moment import moment
    from quarty.sessions import SessionInterface
    from quarty.wrappers import Request

    app = Quart(
        __name__,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
    )
    config_class = select_config(config_name)
    app.config.from_object(config_class)
    app.config.update(overrides)
    config_class.init_app(app.config)
    app.session_interface = SessionInterface()
    app.request_class = Request

    db.init_app(app)
    extensions.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    mail.init_app(app)
    app.jinja_env.globals["moment"] = moment
    pages.init_app(app)
    urls.init_app(app)

    from quarty.api import bp as api_bp
    from quarty.main import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    _drop_sync_context_processors(app)
    return app


def _drop_sync_context_processors(app: Quart) -> None:
    """Remove Flask's sync default template context processor from every blueprint.

    Flask's Scaffold gives each blueprint one, and Quart runs a sync function in
    a worker thread on every render; Quart's own async one, on the app, already
    puts g, request and session in the context.
    """
    from flask.templating import _default_template_ctx_processor

    for processors in app.template_context_processors.values():
        processors[:] = [
            processor
            for processor in processors
            if processor is not _default_template_ctx_processor
        ]
