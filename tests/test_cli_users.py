"""`quart --app quarty users create | confirm | list | set-role`, run as an
operator runs them.

The app fixture makes the tables (without roles) on the database the command
is pointed at; what the command did is read back through the app.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import selectors
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.models import Permission, User
from quarty.services import auth as accounts
from quarty.services import operators, roles
from tests.accounts import PASSWORD, create_account, log_in
from tests.helpers import ROOT, run_quart

ADA = ("--email", "Ada@Example.com", "--username", "ada")


def _take_the_terminal() -> None:
    # In the child, after setsid: stdin's pseudo-terminal becomes its
    # controlling terminal, the /dev/tty that getpass opens.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def at_a_terminal(
    database_url: str, *args: str, typed: list[tuple[str, str]]
) -> tuple[int, str]:
    """Run `quart --app quarty ARGS` at a pseudo-terminal; after each prompt
    appears, type its answer. Return the exit code and what the terminal showed."""
    environment = {
        **os.environ,
        "QUARTY_CONFIG": "testing",
        "TEST_DATABASE_URL": database_url,
    }
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "quart"), "--app", "quarty", *args],
        cwd=ROOT,
        env=environment,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        preexec_fn=_take_the_terminal,
    )
    os.close(terminal)
    shown = ""
    answered = 0  # how much of `shown` the prompts answered so far cover
    deadline = time.monotonic() + 60
    output = selectors.DefaultSelector()
    output.register(controller, selectors.EVENT_READ)
    try:
        while time.monotonic() < deadline:
            if typed and typed[0][0] in shown[answered:]:
                prompt, answer = typed.pop(0)
                answered = shown.index(prompt, answered) + len(prompt)
                os.write(controller, answer.encode() + b"\n")
                continue
            if not output.select(timeout=1):
                continue
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            shown += chunk.decode(errors="replace")
        return process.wait(timeout=30), shown
    finally:
        output.close()
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()


async def account_count(session: AsyncSession) -> int:
    query = select(func.count()).select_from(User).where(User.email.is_not(None))
    return (await session.execute(query)).scalar_one()


async def ada_logs_in_with(app: Quart, session: AsyncSession, password: str) -> bool:
    """Whether ada@example.com's password is this one."""
    async with app.app_context():
        account = await accounts.authenticate(
            session, email="ada@example.com", password=password
        )
    return account is not None


def assert_secret_kept(result: subprocess.CompletedProcess[str], password: str) -> None:
    output = result.stdout + result.stderr
    assert password not in output
    assert "$argon2" not in output
    assert "Traceback" not in output


async def test_create_reads_the_password_from_stdin_and_the_account_logs_in(
    app: Quart, client: QuartClient, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    result = await run_quart(
        database_url, "users", "create", *ADA, "--admin", stdin=PASSWORD + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Created ada <ada@example.com>" in result.stdout
    assert "confirmed, role Administrator" in result.stdout
    assert_secret_kept(result, PASSWORD)

    [account] = await operators.list_accounts(session)
    assert (account.email, account.confirmed, account.role_name) == (
        "ada@example.com",
        True,
        "Administrator",
    )
    assert await log_in(client, "ada@example.com", PASSWORD) == "/"


async def test_create_without_admin_gives_no_role(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    # Spaces are part of a passphrase; only the line ending is dropped.
    passphrase = "  spaced out  "
    result = await run_quart(database_url, "users", "create", *ADA, stdin=passphrase)
    assert result.returncode == 0, result.stderr
    assert "role" not in result.stdout
    [account] = await operators.list_accounts(session)
    assert account.role_name is None
    assert await ada_logs_in_with(app, session, passphrase)


async def test_create_refuses_a_taken_email_or_username(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await create_account(app, email="ada@example.com", username="ada")
    taken_email = await run_quart(
        database_url,
        "users",
        "create",
        *("--email", "ADA@example.com", "--username", "ada2"),
        stdin=PASSWORD,
    )
    assert taken_email.returncode == 1
    assert "Error: Email already registered." in taken_email.stderr
    taken_name = await run_quart(
        database_url,
        "users",
        "create",
        *("--email", "other@example.com", "--username", "ada"),
        stdin=PASSWORD,
    )
    assert taken_name.returncode == 1
    assert "Error: Username already in use." in taken_name.stderr
    for result in (taken_email, taken_name):
        assert_secret_kept(result, PASSWORD)
    assert await account_count(session) == 1


@pytest.mark.parametrize(
    ("email", "username", "stdin", "message"),
    [
        ("ada-at-example.com", "ada", PASSWORD, "is not a valid email address"),
        ("ada@example", "ada", PASSWORD, "is not a valid email address"),
        ("ada@example.com", "1ada", PASSWORD, "'1ada' is not a valid username"),
        ("ada@example.com", "ada lovelace", PASSWORD, "is not a valid username"),
        ("ada@example.com", "a" * 65, PASSWORD, "must have 1 to 64 characters"),
        ("ada@example.com", "ada", "seven77\n", "password must have 8 to 256"),
        ("ada@example.com", "ada", "x" * 257, "password must have 8 to 256"),
        ("ada@example.com", "ada", "", "no password"),
    ],
)
async def test_create_refuses_bad_input_and_creates_nothing(
    app: Quart,
    database_url: str,
    session: AsyncSession,
    email: str,
    username: str,
    stdin: str,
    message: str,
) -> None:
    result = await run_quart(
        database_url,
        "users",
        "create",
        *("--email", email, "--username", username),
        stdin=stdin,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    if stdin:
        assert_secret_kept(result, stdin.strip())
    assert await account_count(session) == 0


async def test_create_admin_says_to_deploy_when_the_roles_are_missing(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    result = await run_quart(
        database_url, "users", "create", *ADA, "--admin", stdin=PASSWORD
    )
    assert result.returncode == 1
    assert "Error: there is no Administrator role yet" in result.stderr
    assert "run `quart --app quarty deploy` first" in result.stderr
    assert_secret_kept(result, PASSWORD)
    assert await account_count(session) == 0


async def test_the_prompt_hides_the_password_asks_twice_and_asks_again(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    code, shown = await asyncio.to_thread(
        at_a_terminal,
        database_url,
        *("users", "create", *ADA),
        typed=[
            ("Password: ", "short"),
            ("Password: ", PASSWORD),
            ("Repeat for confirmation: ", PASSWORD + "typo"),
            ("Password: ", PASSWORD),
            ("Repeat for confirmation: ", PASSWORD),
        ],
    )
    assert code == 0, shown
    assert "Error: the password must have 8 to 256 characters" in shown
    assert "Error: The two entered values do not match." in shown
    assert "Created ada <ada@example.com>" in shown
    # Nothing typed was echoed.
    assert "short" not in shown
    assert PASSWORD not in shown
    assert await ada_logs_in_with(app, session, PASSWORD)


async def test_confirm_confirms_an_account_by_its_email(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    account = await create_account(app, confirmed=False)
    result = await run_quart(database_url, "users", "confirm", " ADA@example.com ")
    assert result.returncode == 0, result.stderr
    assert "Confirmed ada@example.com." in result.stdout
    confirmed = await accounts.get_account(session, account.id)
    assert confirmed is not None and confirmed.confirmed

    unknown = await run_quart(database_url, "users", "confirm", "nobody@example.com")
    assert unknown.returncode == 1
    assert "Error: no account has the email 'nobody@example.com'" in unknown.stderr


async def test_list_shows_each_account_its_confirmation_and_role(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    empty = await run_quart(database_url, "users", "list")
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.strip() == "No accounts."

    await roles.insert_default_roles(session)
    await run_quart(database_url, "users", "create", *ADA, "--admin", stdin=PASSWORD)
    await create_account(app, email="bob@example.com", username="bob", confirmed=False)
    session.add(User(username="name.only"))  # from the name form: no account
    await session.commit()

    result = await run_quart(database_url, "users", "list")
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines == [
        ["id", "username", "email", "confirmed", "role"],
        ["1", "ada", "ada@example.com", "yes", "Administrator"],
        ["2", "bob", "bob@example.com", "no", "User"],
    ]
    assert "$argon2" not in result.stdout


async def test_an_undeployed_database_is_reported_without_a_traceback(
    tmp_path: Path,
) -> None:
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite'}"
    result = await run_quart(empty, "users", "list")
    assert result.returncode == 1
    assert "Error: cannot use the database" in result.stderr
    assert "has `quart --app quarty deploy` run?" in result.stderr
    assert "Traceback" not in result.stderr


async def test_set_role_gives_an_account_a_role_and_says_what_changed(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    account = await create_account(app)
    assert account.role_name == "User"

    result = await run_quart(
        database_url, "users", "set-role", " ADA@example.com ", "moderator"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ada@example.com: role User -> Moderator.\n"
    moderator = await accounts.get_account(session, account.id)
    assert moderator is not None
    assert moderator.role_name == "Moderator"
    assert moderator.can(Permission.MODERATE)
    assert not moderator.is_administrator()

    again = await run_quart(
        database_url, "users", "set-role", "ada@example.com", "Moderator"
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout == "ada@example.com already has the role Moderator.\n"


async def test_set_role_refuses_an_unknown_email_or_role_and_changes_nothing(
    app: Quart, database_url: str, session: AsyncSession
) -> None:
    await roles.insert_default_roles(session)
    account = await create_account(app)

    unknown_role = await run_quart(
        database_url, "users", "set-role", "ada@example.com", "Boss"
    )
    assert unknown_role.returncode == 1
    assert unknown_role.stderr == (
        "Error: there is no role 'Boss'; the roles are User, Moderator, Administrator\n"
    )
    unknown_email = await run_quart(
        database_url, "users", "set-role", "nobody@example.com", "Moderator"
    )
    assert unknown_email.returncode == 1
    assert unknown_email.stderr == (
        "Error: no account has the email 'nobody@example.com'\n"
    )
    assert unknown_role.stdout == unknown_email.stdout == ""
    unchanged = await accounts.get_account(session, account.id)
    assert unchanged is not None and unchanged.role_name == "User"


async def test_set_role_says_to_deploy_when_there_are_no_roles(
    app: Quart, database_url: str
) -> None:
    await create_account(app)
    result = await run_quart(
        database_url, "users", "set-role", "ada@example.com", "User"
    )
    assert result.returncode == 1
    assert result.stderr == (
        "Error: there are no roles yet: run `quart --app quarty deploy` first\n"
    )
