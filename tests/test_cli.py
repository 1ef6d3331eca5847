"""`quart --app quarty …`: deploy (idempotent), the await-capable shell, bad setups."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import run_console_script


def quart(
    database_url: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return run_console_script(
        database_url, "quart", "--app", "quarty", *args, stdin=stdin
    )


def test_deploy_migrates_and_inserts_roles_idempotently(database_url: str) -> None:
    first = quart(database_url, "deploy")
    assert first.returncode == 0, first.stderr
    # The migration makes the roles; deploy finds them in place.
    assert "roles User, Moderator, Administrator in place" in first.stdout
    assert "(added or repaired now: none)" in first.stdout
    second = quart(database_url, "deploy")
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout


def test_deploy_reports_an_unreachable_database(tmp_path: Path) -> None:
    unreachable = f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}"
    result = quart(unreachable, "deploy")
    assert result.returncode == 1
    assert "Error: cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_shell_awaits_queries_in_an_app_context(database_url: str) -> None:
    assert quart(database_url, "deploy").returncode == 0
    script = "\n".join(
        [
            "rows = await session.scalars(select(Role.name).order_by(Role.id))",
            "print('roles:', list(rows))",
            "print('app:', app.name, app.config['TESTING'])",
            "from quart import current_app",
            "print('ctx:', current_app.name)",
            "",
        ]
    )
    result = quart(database_url, "shell", stdin=script)
    assert result.returncode == 0, result.stderr
    assert "roles: ['User', 'Moderator', 'Administrator']" in result.stdout
    assert "app: quarty True" in result.stdout
    assert "ctx: quarty" in result.stdout
