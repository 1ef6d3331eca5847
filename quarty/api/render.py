"""Store rows as the API's public shapes, with absolute URLs as Flasky gives them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quart import url_for

from quarty.api.schemas import PageQuery, RolePublic, UserPublic, UsersPage
from quarty.models import Role
from quarty.services.accounts import UserSummary


def url_of_role(role_id: int | None) -> str | None:
    """The role's absolute URL, or None for no role."""
    if role_id is None:
        return None
    return url_for("api.get_role", role_id=role_id, _external=True)


def user_public(user: UserSummary, role_url: str | None) -> UserPublic:
    """A user as the API shows it, given its role's URL (see `url_of_role`)."""
    return UserPublic(
        id=user.id,
        url=url_for("api.get_user", user_id=user.id, _external=True),
        username=user.username,
        role=user.role_name,
        role_url=role_url,
    )


def role_public(role: Role) -> RolePublic:
    """A role as the API shows it."""
    return RolePublic(
        id=role.id,
        url=url_for("api.get_role", role_id=role.id, _external=True),
        name=role.name,
        users_url=url_for("api.list_role_users", role_id=role.id, _external=True),
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
    # A page holds a few roles among many users: each role's URL is built once.
    role_ids = {user.role_id for user in users}
    role_urls = {role_id: url_of_role(role_id) for role_id in role_ids}
    return UsersPage(
        users=[user_public(user, role_urls[user.role_id]) for user in users],
        prev=page_url(query.page - 1) if query.page > 1 else None,
        next=page_url(query.page + 1) if has_next else None,
        count=count,
    )


def page_offset(query: PageQuery) -> int:
    """How many rows come before the requested page."""
    return (query.page - 1) * query.per_page
