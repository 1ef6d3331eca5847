"""Roles: the permissions each grants, kept right by migrations and deploy, and
the role each new account gets."""

from __future__ import annotations

from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import migrations, writing
from quarty.models import Permission, Role
from quarty.services import operators, roles
from tests.accounts import PASSWORD, submit
from tests.helpers import app_database, client_of, run_quart, session_on, started_app

# (id, name, permissions, default) of the roles every deployment has.
DEFAULT_ROWS = [
    (1, "User", 7, True),
    (2, "Moderator", 15, False),
    (3, "Administrator", 31, False),
]
USER_PERMISSIONS = {Permission.FOLLOW, Permission.COMMENT, Permission.WRITE}
# What each role may do, by name.
PERMISSIONS_BY_ROLE = {
    "User": USER_PERMISSIONS,
    "Moderator": USER_PERMISSIONS | {Permission.MODERATE},
    "Administrator": set(Permission),
}


async def role_rows(session: AsyncSession) -> list[tuple[int, str, int, bool]]:
    return [
        (role.id, role.name, role.permissions, role.default)
        for role in await roles.list_roles(session)
    ]


async def permissions_by_role(session: AsyncSession) -> dict[str, set[Permission]]:
    return {
        role.name: {
            permission for permission in Permission if role.permissions & permission
        }
        for role in await roles.list_roles(session)
    }


async def test_insert_default_roles_adds_each_role_with_its_permissions(
    session: AsyncSession,
) -> None:
    assert await roles.insert_default_roles(session) == [
        "User",
        "Moderator",
        "Administrator",
    ]
    assert await role_rows(session) == DEFAULT_ROWS
    assert await permissions_by_role(session) == PERMISSIONS_BY_ROLE
    assert await roles.insert_default_roles(session) == []


async def test_a_migrated_database_has_the_roles_with_their_permissions(
    database_url: str,
) -> None:
    await migrations.migrate(database_url)
    async with session_on(database_url) as session:
        assert await role_rows(session) == DEFAULT_ROWS
        assert await permissions_by_role(session) == PERMISSIONS_BY_ROLE
        # Nothing for deploy to add or repair.
        assert await roles.insert_default_roles(session) == []


async def tamper_with_the_roles(session: AsyncSession) -> None:
    """What a careless hand in the database might do: wrong bits, another default."""
    async with writing(session):
        await session.execute(
            update(Role)
            .where(Role.name == "Moderator")
            .values(permissions=Permission.FOLLOW | Permission.ADMIN, default=True)
        )
        await session.execute(
            update(Role).where(Role.name == "User").values(default=False)
        )


async def test_insert_default_roles_repairs_a_tampered_role_keeping_its_id(
    session: AsyncSession,
) -> None:
    await roles.insert_default_roles(session)
    await tamper_with_the_roles(session)
    assert await roles.insert_default_roles(session) == ["User", "Moderator"]
    assert await role_rows(session) == DEFAULT_ROWS


async def test_deploy_repairs_a_tampered_role_keeping_the_ids(
    database_url: str,
) -> None:
    first = await run_quart(database_url, "deploy")
    assert first.returncode == 0, first.stderr
    async with session_on(database_url) as session:
        await tamper_with_the_roles(session)

    repaired = await run_quart(database_url, "deploy")
    assert repaired.returncode == 0, repaired.stderr
    assert "(added or repaired now: User, Moderator)." in repaired.stdout
    async with session_on(database_url) as session:
        assert await role_rows(session) == DEFAULT_ROWS
    again = await run_quart(database_url, "deploy")
    assert "(added or repaired now: none)." in again.stdout


async def test_deploy_promotes_quarty_admins_account_made_before_it_was_set(
    database_url: str,
) -> None:
    assert (await run_quart(database_url, "deploy")).returncode == 0
    created = await run_quart(
        database_url,
        *("users", "create", "--email", "ada@example.com", "--username", "ada"),
        stdin=PASSWORD,
    )
    assert "role User" in created.stdout, created.stderr

    admin = {"QUARTY_ADMIN": "Ada@Example.com"}
    promoted = await run_quart(database_url, "deploy", extra_environment=admin)
    assert promoted.returncode == 0, promoted.stderr
    assert (
        promoted.stdout.splitlines()[-1] == "Ada@Example.com is now an Administrator."
    )
    listed = await run_quart(database_url, "users", "list")
    assert listed.stdout.splitlines()[1].split()[-1] == "Administrator"

    # Once is enough: the next deploy has nothing to say about it.
    again = await run_quart(database_url, "deploy", extra_environment=admin)
    assert again.returncode == 0, again.stderr
    assert "Administrator." not in again.stdout


async def test_deploy_promotes_nobody_when_quarty_admin_has_no_account(
    database_url: str,
) -> None:
    admin = {"QUARTY_ADMIN": "nobody@example.com"}
    result = await run_quart(database_url, "deploy", extra_environment=admin)
    assert result.returncode == 0, result.stderr
    assert "is now an Administrator" not in result.stdout


async def register(client: QuartClient, email: str, username: str) -> int:
    """Fill in the registration form; the answer's status."""
    fields = {"email": email, "username": username}
    password = {"password": PASSWORD, "password2": PASSWORD}
    response = await submit(client, "/auth/register", **fields, **password)
    return response.status_code


async def test_registering_with_quarty_admins_email_makes_the_administrator(
    app_settings: dict[str, object],
) -> None:
    app_settings["QUARTY_ADMIN"] = "Admin@Example.com"
    async with started_app(app_settings) as app:
        async with app_database(app).sessionmaker() as session:
            await roles.insert_default_roles(session)
        client = client_of(app)
        assert await register(client, " ADMIN@example.com ", "admin") == 302
        assert await register(client, "bob@example.com", "bob") == 302
        async with app_database(app).sessionmaker() as session:
            registered = await operators.list_accounts(session)
    assert [(account.username, account.role_name) for account in registered] == [
        ("admin", "Administrator"),
        ("bob", "User"),
    ]
    admin, bob = registered
    assert admin.is_administrator()
    assert admin.can(Permission.MODERATE)
    assert not bob.can(Permission.MODERATE)
    assert bob.can(Permission.FOLLOW | Permission.COMMENT | Permission.WRITE)


async def test_without_roles_in_the_database_a_new_account_gets_none(
    app: Quart, session: AsyncSession
) -> None:
    # Before the first deploy: registration still works, the account can do nothing.
    assert await register(client_of(app), "bob@example.com", "bob") == 302
    [bob] = await operators.list_accounts(session)
    assert bob.role_name is None
    assert not any(bob.can(permission) for permission in Permission)
