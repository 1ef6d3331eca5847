"""The API's request and response shapes, separate from the ORM models."""

from __future__ import annotations

import re
import sys
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import MISSING, BaseModel, ConfigDict, Field, field_validator

from quarty.models import (
    ABOUT_ME_MAX_LENGTH,
    DEFAULT_ROLES,
    EMAIL_MAX_LENGTH,
    LOCATION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    POST_BODY_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
)
from quarty.models import USERNAME_PATTERN as ACCOUNT_USERNAME_PATTERN
from quarty.services.accounts import clean_username
from quarty.services.auth import normalize_email
from quarty.services.posts import clean_body

# Page numbers stay within a 32-bit integer, so an offset always fits the database.
MAX_PAGE = 2**31 - 1
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


def _whitespace_class() -> str:
    # Exactly what str.strip() removes, spelled as code points so the pattern
    # means the same in Python's re and in the ECMAScript regexes of JSON Schema.
    spaces = (chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace())
    return "".join(f"\\u{ord(char):04x}" for char in spaces)


_SPACE = _whitespace_class()
# 1 to 64 characters once trimmed, no NUL (PostgreSQL text cannot hold it).
USERNAME_PATTERN = (
    f"^[{_SPACE}]*[^{_SPACE}\\u0000]"
    f"(?:[^\\u0000]{{0,{USERNAME_MAX_LENGTH - 2}}}[^{_SPACE}\\u0000])?[{_SPACE}]*$"
)


class UserCreate(BaseModel):
    """A new user: the same name rules as the name form."""

    username: str = Field(
        description=(
            f"1 to {USERNAME_MAX_LENGTH} characters; leading and trailing "
            "whitespace is trimmed."
        ),
        json_schema_extra={"pattern": USERNAME_PATTERN},
        examples=["alice"],
    )

    @field_validator("username")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        return clean_username(value)


# Any text but NUL, which PostgreSQL text cannot hold.
NO_NUL_PATTERN = "^[^\\u0000]*$"
ROLE_NAMES = tuple(DEFAULT_ROLES)


class UserPublic(BaseModel):
    """A user; `email` and `confirmed` only for the user themself and administrators."""

    id: int
    url: str
    username: str
    role: str | None = Field(description="The role's name, if the user has one.")
    role_url: str | None
    name: str | None = Field(description="The user's real name, if they gave one.")
    location: str | None
    about_me: str | None
    member_since: datetime = Field(description="When the user joined: ISO 8601, UTC.")
    last_seen: datetime = Field(
        description="When the user was last active: ISO 8601, UTC."
    )
    avatar_url: str = Field(description="The user's avatar, 80 pixels square.")
    posts_url: str = Field(description="The user's posts, newest first.")
    post_count: int = Field(description="How many posts the user has written.")
    followers_url: str = Field(description="Who follows the user.")
    followers_count: int = Field(description="How many users follow the user.")
    following_url: str = Field(description="Whom the user follows.")
    following_count: int = Field(description="How many users the user follows.")
    timeline_url: str = Field(
        description="The posts of the users the user follows, and their own."
    )
    email: str | MISSING | None = Field(
        default=MISSING,
        description=(
            "Only for the user themself and administrators; null for a user "
            "who cannot log in."
        ),
    )
    confirmed: bool | MISSING = Field(
        default=MISSING,
        description="Only for the user themself and administrators.",
    )


class UsersPage(BaseModel):
    """A page of users, ordered by id, with links to the pages around it."""

    users: list[UserPublic]
    prev: str | None = Field(description="The previous page, or null on the first.")
    next: str | None = Field(description="The next page, or null on the last.")
    count: int = Field(description="How many users there are in all.")


class RolePublic(BaseModel):
    """A role."""

    id: int
    url: str
    name: str
    users_url: str


class RolesList(BaseModel):
    """All roles, ordered by id."""

    roles: list[RolePublic]


class PageQuery(BaseModel):
    """Which page of a list to return."""

    model_config = ConfigDict(extra="ignore")

    page: int = Field(1, ge=1, le=MAX_PAGE, description="1-based page number.")
    per_page: int = Field(
        DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE, description="Items per page."
    )


class LocationHeader(BaseModel):
    """Where the created resource lives."""

    location: str


class ErrorBody(BaseModel):
    """An error: a short name and a sentence that explains it."""

    error: str
    message: str


class UserPrivate(UserPublic):
    """A user as administrators see them: with the email and whether confirmed."""

    email: str | None = Field(description="null for a user who cannot log in.")
    confirmed: bool


class UserSelf(UserPrivate):
    """The caller's own user, with their email."""

    email: str


def _no_nul(value: str | None) -> str | None:
    """The value, unless it has a NUL (which PostgreSQL text cannot hold)."""
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _profile_text(max_length: int, description: str) -> Any:
    # Trimmed by the service: within the limit as sent is within it as kept.
    return Field(
        default=MISSING,
        max_length=max_length,
        description=(
            f"{description} At most {max_length} characters; trimmed; null or "
            "blank clears it."
        ),
        json_schema_extra={"pattern": NO_NUL_PATTERN},
    )


class ProfileUpdate(BaseModel):
    """Changes to what a user says about themselves: only the fields sent change."""

    # Strict: JSON's true is a boolean, "true" or 1 is not; and a string with a
    # lone surrogate (a JSON escape can make one) is no string to store.
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | MISSING | None = _profile_text(NAME_MAX_LENGTH, "A real name.")
    location: str | MISSING | None = _profile_text(LOCATION_MAX_LENGTH, "A place.")
    about_me: str | MISSING | None = _profile_text(
        ABOUT_ME_MAX_LENGTH, "A few words about the user."
    )

    @field_validator("name", "location", "about_me")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        return _no_nul(value)


class UserUpdate(ProfileUpdate):
    """An administrator's changes to a user: only the fields sent change."""

    username: str | MISSING = Field(
        default=MISSING,
        max_length=USERNAME_MAX_LENGTH,
        description=(
            f"1 to {USERNAME_MAX_LENGTH} letters, numbers, dots or underscores, "
            "starting with a letter."
        ),
        json_schema_extra={"pattern": ACCOUNT_USERNAME_PATTERN},
    )
    email: str | MISSING = Field(
        default=MISSING,
        max_length=EMAIL_MAX_LENGTH,
        description=(
            "Stored lowercased. Only a user who can log in has one: setting it "
            "for another is a 409."
        ),
        json_schema_extra={"format": "email"},
    )
    confirmed: bool | MISSING = Field(default=MISSING)
    role: str | MISSING = Field(
        default=MISSING,
        description="The new role, by name.",
        json_schema_extra={"enum": list(ROLE_NAMES)},
    )

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if re.fullmatch(ACCOUNT_USERNAME_PATTERN, value) is None:
            raise ValueError(
                "must start with a letter and have only letters, numbers, dots "
                "or underscores"
            )
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        # The checks of the registration form, which email-validator makes too.
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as error:
            raise ValueError(str(error)) from None
        if len(normalize_email(value)) > EMAIL_MAX_LENGTH:
            raise ValueError(f"must be at most {EMAIL_MAX_LENGTH} characters")
        return value

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in ROLE_NAMES:
            choices = ", ".join(repr(name) for name in ROLE_NAMES)
            raise ValueError(f"must be one of {choices}")
        return value


class TokenIssued(BaseModel):
    """A bearer token and how long it lasts."""

    token: str = Field(description="Send it as 'Authorization: Bearer <token>'.")
    expiration: int = Field(description="Seconds until the token expires.")


class NoContent(BaseModel):
    """Done; the answer has no body."""


class NoStoreHeader(BaseModel):
    """An answer that no cache may keep: it holds a secret."""

    cache_control: str


class AuthenticateHeader(BaseModel):
    """The credentials the endpoint takes."""

    www_authenticate: str


class RetryAfterHeader(BaseModel):
    """When to try again."""

    retry_after: int = Field(description="Seconds to wait.")


# Some text besides whitespace, and no NUL. The leading run and the first other
# character cannot overlap, so even a backtracking engine checks it in one pass.
POST_BODY_PATTERN = f"^[{_SPACE}]*[^{_SPACE}\\u0000][^\\u0000]*$"


class PostWrite(BaseModel):
    """A post's body, new or replacing the old one."""

    # Strict, as ProfileUpdate: only a JSON string is a body, and pydantic
    # refuses a string with a lone surrogate (a JSON escape can make one).
    model_config = ConfigDict(extra="forbid", strict=True)

    body: str = Field(
        max_length=POST_BODY_MAX_LENGTH,
        description=(
            f"Markdown, 1 to {POST_BODY_MAX_LENGTH:,} characters, not all "
            "whitespace. Raw HTML is kept only where the allow-list permits it."
        ),
        json_schema_extra={"pattern": POST_BODY_PATTERN},
        examples=["Hello, *world*!"],
    )

    @field_validator("body")
    @classmethod
    def _storable(cls, value: str) -> str:
        # The service's own rules, so the 400 names the field as the others do.
        return clean_body(value)


class PostPublic(BaseModel):
    """A post, with its HTML and links to it and its author."""

    id: int
    url: str
    body: str = Field(description="The Markdown as written.")
    body_html: str = Field(
        description="The body as HTML, made when it was written, allow-listed."
    )
    timestamp: datetime = Field(description="When it was written: ISO 8601, UTC.")
    author_url: str
    comment_count: int = Field(description="How many comments it has, disabled too.")
    comments_url: str = Field(description="Its comments, oldest first.")


class PostsPage(BaseModel):
    """A page of posts, newest first, with links to the pages around it."""

    posts: list[PostPublic]
    prev: str | None = Field(description="The previous page, or null on the first.")
    next: str | None = Field(description="The next page, or null on the last.")
    count: int = Field(description="How many posts the whole list has.")
