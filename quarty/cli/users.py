"""`quart --app quarty users …`: create, confirm, list the accounts that log in,
set their roles, and delete a user with what is theirs.

The password is prompted for, or read from stdin when stdin is not a terminal;
never an argument, which would leave it in the shell history and in `ps`.
"""

from __future__ import annotations

import re
import sys

import click
from email_validator import EmailNotValidError, validate_email
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.cli.running import fail, run_in_session, table
from quarty.models import EMAIL_MAX_LENGTH, USERNAME_MAX_LENGTH, USERNAME_PATTERN
from quarty.services import auth as accounts
from quarty.services import operators, roles

ADMIN_ROLE = "Administrator"


def init_app(app: Quart) -> None:
    """Add the `users` command group to the app's CLI."""

    @app.cli.group("users")
    def users() -> None:
        """Accounts that log in: create one, confirm one, list them, set a role;
        delete a user."""

    @users.command("create")
    @click.option("--email", required=True, help="The account's email address.")
    @click.option("--username", required=True, help="The name shown on its pages.")
    @click.option("--admin", is_flag=True, help="Give it the Administrator role.")
    def create_command(email: str, username: str, admin: bool) -> None:
        """Create a confirmed account, with no mail sent.

        The password is asked for twice at the prompt, or read as one line
        from stdin when stdin is not a terminal.
        """
        email = _checked_email(email)
        username = _checked_username(username)
        password = _read_password()

        async def create(session: AsyncSession) -> accounts.Account:
            return await operators.create_account(
                session,
                email=email,
                username=username,
                password=password,
                role_name=ADMIN_ROLE if admin else None,
            )

        try:
            account = run_in_session(app, create)
        except accounts.UnknownRoleError:
            fail(
                f"there is no {ADMIN_ROLE} role yet: "
                "run `quart --app quarty deploy` first"
            )
        except accounts.AccountError as refused:
            fail(str(refused))
        role = f", role {account.role_name}" if account.role_name else ""
        click.echo(
            f"Created {account.username} <{account.email}> (id {account.id}), "
            f"confirmed{role}."
        )

    @users.command("confirm")
    @click.argument("email")
    def confirm_command(email: str) -> None:
        """Confirm the account with this EMAIL, without its mailed link."""

        async def confirm(session: AsyncSession) -> bool:
            return await operators.confirm_email(session, email)

        if not run_in_session(app, confirm):
            fail(f"no account has the email {email.strip()!r}")
        click.echo(f"Confirmed {accounts.normalize_email(email)}.")

    @users.command("list")
    def list_command() -> None:
        """List the accounts that can log in.

        Users made by the name form or the API have no email or password, and
        are left out.
        """
        rows = run_in_session(app, operators.list_accounts)
        if not rows:
            click.echo("No accounts.")
            return
        click.echo(_table(rows))

    @users.command("set-role")
    @click.argument("email")
    @click.argument("role")
    def set_role_command(email: str, role: str) -> None:
        """Give the account with this EMAIL the ROLE (see `roles list`).

        The role's name may be given in any case. The account has the new
        permissions from its next request on.
        """

        async def set_role(session: AsyncSession) -> roles.RoleChange:
            return await roles.set_role(session, email=email, role_name=role)

        try:
            change = run_in_session(app, set_role)
        except roles.RoleNotFoundError as missing:
            if not missing.known:
                fail("there are no roles yet: run `quart --app quarty deploy` first")
            fail(
                f"there is no role {role.strip()!r}; "
                f"the roles are {', '.join(missing.known)}"
            )
        except roles.NoSuchAccountError:
            fail(f"no account has the email {email.strip()!r}")
        if not change.changed:
            click.echo(f"{change.email} already has the role {change.new_role}.")
            return
        click.echo(
            f"{change.email}: role {change.old_role or '(none)'} -> {change.new_role}."
        )

    @users.command("delete")
    @click.argument("username")
    @click.option("--yes", is_flag=True, help="Delete without asking first.")
    def delete_command(username: str, yes: bool) -> None:
        """Delete the user USERNAME (an account or a name-only user) with their
        posts, the comments on those, their comments, their follows both ways
        and their API tokens. Nothing else changes.

        Asks first, at the prompt or as one line from stdin, unless --yes.
        """
        username = username.strip()

        async def preview(session: AsyncSession) -> operators.DeletedUser | None:
            return await operators.preview_user_deletion(session, username=username)

        async def delete(session: AsyncSession) -> operators.DeletedUser | None:
            return await operators.delete_user(session, username=username)

        if not yes:
            found = run_in_session(app, preview)
            if found is None:
                fail(f"no user is named {username!r}")
            _confirm_deletion(found)
        deleted = run_in_session(app, delete)
        if deleted is None:
            fail(f"no user is named {username!r}")
        click.echo(
            f"Deleted user {deleted.username} (id {deleted.id}) with "
            f"{_what_goes(deleted)}."
        )


def _checked_email(email: str) -> str:
    email = email.strip()
    if len(email) > EMAIL_MAX_LENGTH:
        fail(f"the email is longer than {EMAIL_MAX_LENGTH} characters")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as invalid:
        fail(f"{email!r} is not a valid email address: {invalid}")
    return email


def _checked_username(username: str) -> str:
    username = username.strip()
    if not 1 <= len(username) <= USERNAME_MAX_LENGTH:
        fail(f"the username must have 1 to {USERNAME_MAX_LENGTH} characters")
    if not re.match(USERNAME_PATTERN, username):
        fail(
            f"{username!r} is not a valid username: usernames must start with a "
            "letter and have only letters, numbers, dots or underscores"
        )
    return username


def _password_problem(password: str) -> str | None:
    low, high = accounts.PASSWORD_MIN_LENGTH, accounts.PASSWORD_MAX_LENGTH
    if not low <= len(password) <= high:
        return f"the password must have {low} to {high} characters"
    return None


def _acceptable_password(password: str) -> str:
    # At the prompt, a refused password is asked for again, as click does.
    if problem := _password_problem(password):
        raise click.BadParameter(problem)
    return password


def _read_password() -> str:
    if sys.stdin.isatty():
        password: str = click.prompt(
            "Password",
            hide_input=True,
            confirmation_prompt=True,
            value_proc=_acceptable_password,
        )
        return password
    line = sys.stdin.readline()
    if not line:
        fail("no password: type it at the prompt, or give it as one line on stdin")
    # Only the line ending goes: spaces are part of a passphrase.
    password = line.removesuffix("\n").removesuffix("\r")
    if problem := _password_problem(password):
        fail(problem)
    return password


def _confirm_deletion(user: operators.DeletedUser) -> None:
    question = f"Delete user {user.username} with {_what_goes(user)}?"
    try:
        # Without a terminal, click reads the answer as a line from stdin.
        confirmed = click.confirm(question, default=False)
    except click.Abort:
        click.echo()  # end the question's line
        fail("no answer on stdin: nothing deleted; add --yes to delete without asking")
    if not confirmed:
        click.echo("Nothing deleted.", err=True)
        sys.exit(1)


def _what_goes(user: operators.DeletedUser) -> str:
    return (
        f"{_count(user.posts, 'post')}, {_count(user.comments, 'comment')}, "
        f"{_count(user.follows, 'follow')} and {_count(user.api_tokens, 'API token')}"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _table(rows: list[accounts.Account]) -> str:
    header = ("id", "username", "email", "confirmed", "role")
    return table(
        [header]
        + [
            (
                str(row.id),
                row.username,
                row.email,
                "yes" if row.confirmed else "no",
                row.role_name or "-",
            )
            for row in rows
        ]
    )
