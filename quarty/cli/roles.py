"""`quart --app quarty roles list`: each role, what it permits, and who holds it."""

from __future__ import annotations

import click
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.cli.running import run_in_session, table
from quarty.models import Permission, Role
from quarty.services import roles


def init_app(app: Quart) -> None:
    """Add the `roles` command group to the app's CLI."""

    @app.cli.group("roles")
    def roles_group() -> None:
        """Roles: what each permits (`users set-role` gives one to an account)."""

    @roles_group.command("list")
    def list_command() -> None:
        """List the roles with permissions and users.

        For each role: its id, whether new accounts get it (the default), how
        many users hold it (those made by the name form or the API too), and
        the permissions it grants.
        """
        rows = run_in_session(app, _roles_and_counts)
        if not rows:
            click.echo("No roles yet: run `quart --app quarty deploy` first.")
            return
        header = ("id", "role", "default", "users", "permissions")
        click.echo(
            table(
                [header]
                + [
                    (
                        str(role.id),
                        role.name,
                        "yes" if role.default else "no",
                        str(count),
                        permission_names(role.permissions),
                    )
                    for role, count in rows
                ]
            )
        )


async def _roles_and_counts(session: AsyncSession) -> list[tuple[Role, int]]:
    all_roles = await roles.list_roles(session)
    counts = dict(await roles.count_users_per_role(session))
    return [(role, counts.get(role.name, 0)) for role in all_roles]


def permission_names(bits: int) -> str:
    """The permissions in these bits by name, comma-separated; "-" for none.

    Bits that name no permission (a hand-edited row) show as a number.
    """
    names = [str(permission.name) for permission in Permission if bits & permission]
    unknown = bits & ~sum(Permission)
    if unknown:
        names.append(str(unknown))
    return ",".join(names) or "-"
