"""Fixtures: an app on a fresh database file, its test client and a session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database
from tests import pg
from tests.helpers import app_database, client_of, started_app

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

# Fixtures of the mail tests (aiosmtpd) and the browser tests (Chromium).
pytest_plugins = ["tests.smtp", "tests.browser"]


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL' if pg.admin_url_from_environment() else 'SQLite'}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if pg.admin_url_from_environment() is None:
        return
    skip = pytest.mark.skip(reason="SQLite-only behaviour; this is the PostgreSQL pass")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for each test: a SQLite file, or in the
    PostgreSQL pass a new database on the throwaway server, dropped afterwards."""
    admin_url = pg.admin_url_from_environment()
    if admin_url is None:
        yield f"sqlite+aiosqlite:///{tmp_path / 'quarty-test.sqlite'}"
        return
    with pg.fresh_database(admin_url) as url:
        yield url


@pytest.fixture
def app_settings(database_url: str) -> dict[str, object]:
    """Overrides for create_app; tests add to it before the app is made."""
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "QUARTY_ADMIN": None,
        "MAIL_SERVER": None,
    }


@pytest.fixture
async def app(app_settings: dict[str, object]) -> AsyncIterator[Quart]:
    """The testing app with its tables made, started and shut down around the test."""
    async with started_app(app_settings) as app:
        yield app


@pytest.fixture
def client(app: Quart) -> QuartClient:
    return client_of(app)


@pytest.fixture
def database(app: Quart) -> Database:
    return app_database(app)


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    async with database.sessionmaker() as session:
        yield session


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
