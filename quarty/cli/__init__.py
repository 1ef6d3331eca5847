"""`quart --app quarty …` commands: deploy, users, roles, mail and fake (shell is
an entry point)."""

from __future__ import annotations

from quart import Quart


def init_app(app: Quart) -> None:
    """Add quarty's commands to the app's CLI."""
    from quarty.cli import deploy, fake, mail, roles, users

    deploy.init_app(app)
    users.init_app(app)
    roles.init_app(app)
    mail.init_app(app)
    fake.init_app(app)
