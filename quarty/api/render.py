"""Store rows as the API's public shapes, with absolute URLs as Flasky gives them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quart import g, url_for

from quarty.api.schemas import PageQuery, RolePublic, UserPublic, UsersPage
from quarty.crud import UserSummary
from quarty.models import Role

# The largest id the routes accept: a placeholder that url_for always builds.
_ID_PLACEHOLDER = 2147483647


def id_url(endpoint: str, key: str, value: int) -> str:
    """`url_for(endpoint, **{key: value}, _external=True)`, built once per request.

    Werkzeug's URL building is a large part of a page of users (two URLs per
    user); the URL around the id is the same for every id, so it is built once
    with a placeholder and the id is put between its two halves.
    """
    halves: dict[str, tuple[str, str]] = g.setdefault("_api_id_urls", {})
    pair = halves.get(endpoint)
    if pair is None:
        values: dict[str, Any] = {key: _ID_PLACEHOLDER}
        url = url_for(endpoint, _external=True, **values)
        prefix, _, suffix = url.rpartition(str(_ID_PLACEHOLDER))
        pair = halves[endpoint] = (prefix, suffix)
    return f"{pair[0]}{value}{pair[1]}"


def user_public(user: UserSummary) -> UserPublic:
    """A user as the API shows it."""
    return UserPublic(
        id=user.id,
        url=id_url("api.get_user", "user_id", user.id),
        username=user.username,
        role=user.role_name,
        role_url=(
            id_url("api.get_role", "role_id", user.role_id)
            if user.role_id is not None
            else None
        ),
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
    return UsersPage(
        users=[user_public(user) for user in users],
        prev=page_url(query.page - 1) if query.page > 1 else None,
        next=page_url(query.page + 1) if has_next else None,
        count=count,
    )


def page_offset(query: PageQuery) -> int:
    """How many rows come before the requested page."""
    return (query.page - 1) * query.per_page
