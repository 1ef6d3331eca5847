"""The API's request and response shapes, separate from the ORM models."""

from __future__ import annotations

import sys

from pydantic import BaseModel, ConfigDict, Field, field_validator

from quarty.models import USERNAME_MAX_LENGTH
from quarty.services.accounts import clean_username

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


class UserPublic(BaseModel):
    """A user."""

    id: int
    url: str
    username: str
    role: str | None = Field(description="The role's name, if the user has one.")
    role_url: str | None


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


class UserSelf(UserPublic):
    """The caller's own user, with the email that only they see."""

    email: str


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
