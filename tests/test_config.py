"""Config selection and the factory's refusal of unsafe production settings."""

from __future__ import annotations

import pytest

from quarty import create_app
from quarty.config import (
    ConfigError,
    DevelopmentConfig,
    IntegrationConfig,
    ProductionConfig,
    TestingConfig,
    config,
    select_config,
)


def test_config_names_map_to_classes() -> None:
    assert config["development"] is DevelopmentConfig
    assert config["testing"] is TestingConfig
    assert config["integration"] is IntegrationConfig
    assert config["production"] is ProductionConfig
    assert config["default"] is DevelopmentConfig


def test_quarty_config_selects_when_no_name_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUARTY_CONFIG", "testing")
    assert select_config(None) is TestingConfig
    assert select_config("production") is ProductionConfig
    monkeypatch.delenv("QUARTY_CONFIG")
    assert select_config(None) is DevelopmentConfig


def test_unknown_config_name_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown QUARTY_CONFIG 'staging'"):
        select_config("staging")


def test_development_defaults_to_a_sqlite_file() -> None:
    assert DevelopmentConfig.SQLALCHEMY_DATABASE_URI.startswith("sqlite+aiosqlite:///")


def test_factory_applies_config_and_overrides(database_url: str) -> None:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    assert app.config["TESTING"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url
    assert app.config["QUARTY_MAIL_SUBJECT_PREFIX"] == "[Quarty]"
    assert {"main", "api"} <= set(app.blueprints)


@pytest.mark.parametrize("secret", [None, "", "insecure-development-key-change-me"])
def test_production_refuses_to_start_without_a_secret_key(
    secret: str | None, database_url: str
) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app(
            "production", SECRET_KEY=secret, SQLALCHEMY_DATABASE_URI=database_url
        )


def test_production_starts_with_a_secret_key(database_url: str) -> None:
    app = create_app(
        "production", SECRET_KEY="s3cr3t-" * 6, SQLALCHEMY_DATABASE_URI=database_url
    )
    assert not app.debug
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_an_unknown_avatar_source_is_refused(database_url: str) -> None:
    with pytest.raises(ConfigError, match="AVATARS must be one of identicon, gravatar"):
        create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, AVATARS="robots")
