"""Store rows as the API's public shapes, with absolute URLs as Flasky gives them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quart import url_for

from quarty.api.schemas import PageQuery, RolePublic, UserPublic, UsersPage
from quarty.crud import UserSummary
from quarty.models import Role

# The largest id the routes accept: a placeholder that url_for always builds.
_ID_PLACEHOLDER = 2147483647


class IdUrl:
    """`url_for(endpoint, **{key: id}, _external=True)` for any id, built once.

    Werkzeug's URL building was a large part of a page of users (two URLs per
    user); the URL around the id is the same for every id, so it is built once
    with a placeholder and each id is put between its two halves.
    """

    def __init__(self, endpoint: str, key: str) -> None:
        values: dict[str, Any] = {key: _ID_PLACEHOLDER}
        url = url_for(endpoint, _external=True, **values)
        self.prefix, _, self.suffix = url.rpartition(str(_ID_PLACEHOLDER))

    def __call__(self, value: int) -> str:
        return f"{self.prefix}{value}{self.suffix}"


def id_url(endpoint: str, key: str, value: int) -> str:
    """`url_for(endpoint, **{key: value}, _external=True)`, through an IdUrl."""
    return IdUrl(endpoint, key)(value)


def user_public(
    user: UserSummary,
    *,
    user_url: IdUrl | None = None,
    role_url: IdUrl | None = None,
) -> UserPublic:
    """A user as the API shows it; a list passes the IdUrls it made once."""
    user_url = user_url or IdUrl("api.get_user", "user_id")
    role_url = role_url or IdUrl("api.get_role", "role_id")
    return UserPublic(
        id=user.id,
        url=user_url(user.id),
        username=user.username,
        role=user.role_name,
        role_url=role_url(user.role_id) if user.role_id is not None else None,
    )


def role_public(role: Role) -> RolePublic:
    """A role as the API shows it."""
    return RolePublic(
        id=role.id,
        url=id_url("api.get_role", "role_id", role.id),
        name=role.name,
        users_url=id_url("api.list_role_users", "role_id", role.id),
    )


def users_page(
    users: Sequence[UserSummary],
    *,
    query: PageQuery,
    count: int,
    endpoint: str,
    **values: Any,
) -> UsersPage:
    """The page envelope: the users, links to the pages around it, the total."""

    def page_url(page: int) -> str:
        return url_for(
            endpoint, page=page, per_page=query.per_page, _external=True, **values
        )

    has_next = query.page * query.per_page < count
    user_url = IdUrl("api.get_user", "user_id")
    role_url = IdUrl("api.get_role", "role_id")
    return UsersPage(
        users=[
            user_public(user, user_url=user_url, role_url=role_url) for user in users
        ],
        prev=page_url(query.page - 1) if query.page > 1 else None,
        next=page_url(query.page + 1) if has_next else None,
        count=count,
    )


def page_offset(query: PageQuery) -> int:
    """How many rows come before the requested page."""
    return (query.page - 1) * query.per_page
