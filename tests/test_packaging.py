"""The wheel carries templates, static and migrations, and serves from anywhere."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

APP = "quarty.asgi:app"

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), "."],
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    (built,) = out.glob("quarty-*.whl")
    return built


def test_wheel_contains_templates_static_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in [
        "quarty/templates/base.html",
        "quarty/templates/mail/new_user.html",
        "quarty/templates/mail/new_user.txt",
        "quarty/static/css/quarty.css",
        "quarty/static/js/moment.js",
        "quarty/static/favicon.ico",
        "quarty/alembic/env.py",
        "quarty/alembic/versions/0001_users_and_roles.py",
        "quarty/alembic/versions/0002_outbox.py",
    ]:
        assert any(n == expected or n.startswith(expected + "/") for n in names), (
            expected
        )


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_installed_wheel_deploys_and_serves_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    # A fresh venv with the wheel; its dependencies come from ours via a .pth file.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    site = Path(
        sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    )
    ours = sysconfig.get_path("purelib")
    (site / "deps.pth").write_text(ours + "\n")
    bin_dir = venv / "bin"
    subprocess.run(
        [bin_dir / "python", "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        check=True,
        timeout=300,
    )
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("QUARTY_")},
        "QUARTY_CONFIG": "production",
        "SECRET_KEY": "packaging-test-secret-key",
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'prod.sqlite'}",
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
    }
    deploy = subprocess.run(
        [bin_dir / "python", "-m", "quart", "--app", "quarty", "deploy"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert deploy.returncode == 0, deploy.stderr
    # The package imported is the installed one, not the checkout.
    where = subprocess.run(
        [bin_dir / "python", "-c", "import quarty; print(quarty.__file__)"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(venv) in where

    # Hypercorn serves on a socket bound here and inherited: no other process
    # can take the port in between.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        bind = f"fd://{listener.fileno()}"
        server = subprocess.Popen(
            [bin_dir / "python", "-m", "hypercorn", "-b", bind, APP],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=[listener.fileno()],
        )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                status, html = _get(base + "/")
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the installed app never answered")
        assert status == 200
        assert "What is your name?" in html
        css_status, css = _get(base + "/static/css/quarty.css")
        assert css_status == 200
        assert ".page-header" in css
        bootstrap_status, bootstrap = _get(
            base + "/vendor/bootstrap/css/bootstrap.min.css"
        )
        assert bootstrap_status == 200
        assert "Bootstrap" in bootstrap[:200]
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    assert server.returncode == 0, output
    assert "Traceback" not in output
