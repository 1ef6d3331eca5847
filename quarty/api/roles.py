"""Roles: list them, fetch one, and page through the users who hold one."""

from __future__ import annotations

from quart_schema import tag, validate_querystring, validate_response
from werkzeug.exceptions import NotFound

from quarty.api import bp
from quarty.api.auth import ANY_SCHEME, may_see_private, optional_account
from quarty.api.errors import documents_errors
from quarty.api.render import page_offset, role_public, users_page
from quarty.api.schemas import PageQuery, RolePublic, RolesList, UsersPage
from quarty.db import get_session
from quarty.models import Role
from quarty.security.limits import API_PASSWORD
from quarty.services import accounts, roles


@bp.get("/roles")
@tag(["roles"])
@validate_response(RolesList)
async def list_roles() -> RolesList:
    """List all roles, ordered by id."""
    all_roles = await roles.list_roles(get_session())
    return RolesList(roles=[role_public(role) for role in all_roles])


@bp.get("/roles/<id:role_id>")
@tag(["roles"])
@validate_response(RolePublic)
@documents_errors(404)
async def get_role(role_id: int) -> RolePublic:
    """Get one role."""
    return role_public(await _role_or_404(role_id))


@bp.get("/roles/<id:role_id>/users")
@tag(["roles"])
@API_PASSWORD
@optional_account(*ANY_SCHEME)
@validate_querystring(PageQuery)
@validate_response(UsersPage)
@documents_errors(400, 404)
async def list_role_users(role_id: int, query_args: PageQuery) -> UsersPage:
    """List the users who hold a role, ordered by id, a page at a time."""
    role = await _role_or_404(role_id)
    users, count = await accounts.list_user_summaries(
        get_session(),
        offset=page_offset(query_args),
        limit=query_args.per_page,
        role_id=role.id,
    )
    return users_page(
        users,
        query=query_args,
        count=count,
        endpoint="api.list_role_users",
        private=may_see_private,
        role_id=role.id,
    )


async def _role_or_404(role_id: int) -> Role:
    role = await roles.get_role(get_session(), role_id)
    if role is None:
        raise NotFound(f"There is no role with id {role_id}.")
    return role
