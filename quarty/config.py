"""Configuration classes per environment, read from the environment and `.env`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

# A `.env` in the working directory fills what the environment leaves unset.
load_dotenv(Path.cwd() / ".env", override=False)

# Development and testing fall back to this key; production refuses it.
INSECURE_DEFAULT_KEY = "insecure-development-key-change-me"


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from exc


def _sqlite_url(filename: str) -> str:
    return f"sqlite+aiosqlite:///{Path(filename).resolve()}"


class ConfigError(RuntimeError):
    """The configuration cannot start the application."""


AVATAR_SOURCES = ("identicon", "gravatar")


def check_avatars(settings: dict[str, Any]) -> None:
    if settings.get("AVATARS") not in AVATAR_SOURCES:
        raise ConfigError(
            f"AVATARS must be one of {', '.join(AVATAR_SOURCES)}, "
            f"not {settings.get('AVATARS')!r}"
        )


class Config:
    """Settings shared by every environment."""

    SECRET_KEY: str = os.environ.get("SECRET_KEY") or INSECURE_DEFAULT_KEY
    SQLALCHEMY_DATABASE_URI: str = ""
    SQLALCHEMY_ECHO: bool = False

    MAIL_SERVER: str | None = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT: int = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS: bool = _env_bool("MAIL_USE_TLS")
    MAIL_USE_SSL: bool = _env_bool("MAIL_USE_SSL")
    MAIL_USERNAME: str | None = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD: str | None = os.environ.get("MAIL_PASSWORD") or None
    MAIL_TIMEOUT: float = float(_env_int("MAIL_TIMEOUT", 10))
    QUARTY_MAIL_SUBJECT_PREFIX: str = os.environ.get(
        "QUARTY_MAIL_SUBJECT_PREFIX", "[Quarty]"
    )
    QUARTY_MAIL_SENDER: str = os.environ.get(
        "QUARTY_MAIL_SENDER", "Quarty Admin <quarty@localhost>"
    )
    QUARTY_ADMIN: str | None = os.environ.get("QUARTY_ADMIN") or None
    # The outbox (quarty.mail): a CA bundle for the SMTP server's certificate,
    # retries with exponential backoff, the claim lease after which a message
    # another sender took is taken over, and how long shutdown waits for sends.
    MAIL_CA_FILE: str | None = os.environ.get("MAIL_CA_FILE") or None
    MAIL_MAX_ATTEMPTS: int = _env_int("MAIL_MAX_ATTEMPTS", 5)
    MAIL_RETRY_BACKOFF: float = float(_env_int("MAIL_RETRY_BACKOFF", 30))
    MAIL_RETRY_MAX_DELAY: float = float(_env_int("MAIL_RETRY_MAX_DELAY", 3600))
    MAIL_CLAIM_LEASE: float = float(_env_int("MAIL_CLAIM_LEASE", 300))
    MAIL_POLL_INTERVAL: float = float(_env_int("MAIL_POLL_INTERVAL", 60))
    MAIL_SHUTDOWN_TIMEOUT: float = float(_env_int("MAIL_SHUTDOWN_TIMEOUT", 10))
    # How many due messages a sender claims at once and sends over one connection.
    MAIL_BATCH_SIZE: int = _env_int("MAIL_BATCH_SIZE", 50)
    # How long a woken sender waits for more mail to join its batch, in ms.
    MAIL_BATCH_WAIT_MS: int = _env_int("MAIL_BATCH_WAIT_MS", 100)

    # Request bodies above this size are refused with 413. A post's 20,000
    # characters, form-encoded, take up to 12 bytes each (a 4-byte character
    # becomes %XX%XX%XX%XX): 240,000 bytes.
    MAX_CONTENT_LENGTH: int = _env_int("MAX_CONTENT_LENGTH", 256 * 1024)
    WTF_CSRF_TIME_LIMIT: int = _env_int("WTF_CSRF_TIME_LIMIT", 3600)

    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    SESSION_COOKIE_SECURE: bool = False

    # Accounts (quarty.auth). The sign-in cookie of quart-auth: HttpOnly,
    # SameSite=Lax, Secure where the session cookie is; "Keep me logged in"
    # keeps it for QUART_AUTH_DURATION seconds, else it ends with the browser.
    QUART_AUTH_COOKIE_NAME: str = "quarty_auth"
    QUART_AUTH_COOKIE_SECURE: bool = False
    QUART_AUTH_DURATION: int = _env_int("QUART_AUTH_DURATION", 365 * 24 * 3600)
    # argon2id cost (argon2-cffi's defaults, RFC 9106's second choice); stored
    # hashes made with other costs are re-hashed at the next login.
    ARGON2_TIME_COST: int = _env_int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST: int = _env_int("ARGON2_MEMORY_COST", 64 * 1024)  # KiB
    ARGON2_PARALLELISM: int = _env_int("ARGON2_PARALLELISM", 4)
    # Hashes a worker process works out at once; more wait their turn.
    ARGON2_MAX_CONCURRENT: int = _env_int("ARGON2_MAX_CONCURRENT", 2)
    # Lifetimes, in seconds, of the mailed links and of API tokens.
    QUARTY_LINK_EXPIRATION: int = _env_int("QUARTY_LINK_EXPIRATION", 3600)
    QUARTY_TOKEN_EXPIRATION: int = _env_int("QUARTY_TOKEN_EXPIRATION", 3600)
    # "identicon": quarty draws each avatar itself, offline; "gravatar": links
    # to Gravatar, which each visitor's browser must reach.
    AVATARS: str = os.environ.get("AVATARS", "identicon").strip().lower()
    # Profiles: a user's last_seen is written at most this often, in seconds.
    QUARTY_LAST_SEEN_INTERVAL: int = _env_int("QUARTY_LAST_SEEN_INTERVAL", 300)
    # Posts on each page of the home page and of a profile.
    QUARTY_POSTS_PER_PAGE: int = _env_int("QUARTY_POSTS_PER_PAGE", 20)
    # Comments on each page of a permalink and of the moderation page.
    QUARTY_COMMENTS_PER_PAGE: int = _env_int("QUARTY_COMMENTS_PER_PAGE", 30)
    # Users on each page of the followers and followed lists.
    QUARTY_FOLLOWERS_PER_PAGE: int = _env_int("QUARTY_FOLLOWERS_PER_PAGE", 50)
    # Limits on guessing (quarty.auth.limits); "off" for load tests only.
    QUART_RATE_LIMITER_ENABLED: bool = (
        os.environ.get("QUARTY_RATE_LIMITS", "on").strip().lower() != "off"
    )

    @staticmethod
    def init_app(settings: dict[str, Any]) -> None:
        """Check the final settings; raise ConfigError when they cannot work."""
        check_avatars(settings)


class DevelopmentConfig(Config):
    DEBUG = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("DEV_DATABASE_URL") or _sqlite_url(
        "data-dev.sqlite"
    )


class TestingConfig(Config):
    TESTING = True
    # Cheap hashes: the suite logs in hundreds of times.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or _sqlite_url(
        "data-test.sqlite"
    )


class IntegrationConfig(TestingConfig):
    """The test settings over PostgreSQL, as a scaled-out deployment runs."""

    SQLALCHEMY_DATABASE_URI = os.environ.get("INT_DATABASE_URL") or (
        "postgresql+asyncpg://quarty@127.0.0.1:5432/quarty_test"
    )


class ProductionConfig(Config):
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _sqlite_url(
        "data.sqlite"
    )
    # Production is served over HTTPS: its cookies go back over HTTPS only,
    # unless SESSION_COOKIE_SECURE=false (a deployment tried on plain HTTP).
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    QUART_AUTH_COOKIE_SECURE = SESSION_COOKIE_SECURE

    @staticmethod
    def init_app(settings: dict[str, Any]) -> None:
        check_avatars(settings)
        key = settings.get("SECRET_KEY")
        if not key or key == INSECURE_DEFAULT_KEY:
            raise ConfigError(
                "SECRET_KEY is not set: the production configuration refuses to "
                "start without a real secret key. Set SECRET_KEY in the "
                "environment or in .env (e.g. python -c "
                "'import secrets; print(secrets.token_hex(32))')."
            )
        # Other environments log these as warnings (quarty.mail.init_app).
        from quarty.mail.settings import config_problems

        if problems := config_problems(settings):
            raise ConfigError("invalid mail settings: " + "; ".join(problems))


config: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "integration": IntegrationConfig,
    "production": ProductionConfig,
    "default": DevelopmentConfig,
}


def select_config(config_name: str | None) -> type[Config]:
    """The config class for a name, falling back to QUARTY_CONFIG, then default."""
    name = config_name or os.environ.get("QUARTY_CONFIG") or "default"
    try:
        return config[name]
    except KeyError:
        known = ", ".join(sorted(config))
        raise ConfigError(
            f"unknown QUARTY_CONFIG {name!r}; use one of: {known}"
        ) from None
