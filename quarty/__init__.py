"""Quarty: Flasky's social blogging app on async Quart."""

from __future__ import annotations

from typing import Any

from quart import Quart

__all__ = ["create_app"]


def create_app(config_name: str | None = None, **overrides: Any) -> Quart:
    """Build an app from a named config (else QUARTY_CONFIG, else default)."""
    from quarty import cli, db, extensions, mail, security
    from quarty.api import bp as api_bp
    from quarty.auth import bp as auth_bp
    from quarty.auth import signin
    from quarty.config import select_config
    from quarty.main import bp as main_bp
    from quarty.models import Permission
    from quarty.paths import resource_path
    from quarty.web import assets, avatars, errors
    from quarty.web.forms import csrf_token
    from quarty.web.moment import moment
    from quarty.web.sessions import SessionInterface
    from quarty.web.templating import run_sync_context_processors_inline
    from quarty.web.wrappers import Request

    app = Quart(
        __name__,
        template_folder=str(resource_path("templates")),
        static_folder=str(resource_path("static")),
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
    avatars.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    mail.init_app(app)
    security.init_app(app)
    signin.init_app(app)
    app.jinja_env.globals.update(
        moment=moment,
        csrf_token=csrf_token,
        Permission=Permission,
        avatar_url=avatars.avatar_url,
    )

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    run_sync_context_processors_inline(app)
    return app
