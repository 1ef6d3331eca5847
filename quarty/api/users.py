"""Users: list them a page at a time, fetch one, register one by name, and "me"."""

from __future__ import annotations

from quart import url_for
from quart_schema import tag, validate_querystring, validate_request, validate_response
from werkzeug.exceptions import Conflict, NotFound

from quarty.api import bp
from quarty.api.auth import Scheme, current_account, require_account
from quarty.api.errors import documents_errors
from quarty.api.render import page_offset, url_of_role, user_public, users_page
from quarty.api.schemas import (
    LocationHeader,
    PageQuery,
    UserCreate,
    UserPublic,
    UserSelf,
    UsersPage,
)
from quarty.db import get_session
from quarty.security.limits import API_PASSWORD
from quarty.services import accounts
from quarty.services.accounts import UserSummary

# Ids are 32-bit integers in the store; anything else cannot name a row.
ID = "int(min=1, max=2147483647)"


@bp.get("/users")
@tag(["users"])
@validate_querystring(PageQuery)
@validate_response(UsersPage)
@documents_errors(400)
async def list_users(query_args: PageQuery) -> UsersPage:
    """List users, ordered by id, a page at a time."""
    users, count = await accounts.list_user_summaries(
        get_session(), offset=page_offset(query_args), limit=query_args.per_page
    )
    return users_page(users, query=query_args, count=count, endpoint="api.list_users")


@bp.get(f"/users/<{ID}:user_id>")
@tag(["users"])
@validate_response(UserPublic)
@documents_errors(404)
async def get_user(user_id: int) -> UserPublic:
    """Get one user."""
    user = await accounts.get_user_summary(get_session(), user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return user_public(user, url_of_role(user.role_id))


@bp.get("/users/me")
@tag(["users"])
@API_PASSWORD
@require_account(Scheme.BASIC, Scheme.BEARER)
@validate_response(UserSelf)
async def get_me() -> UserSelf:
    """Get the caller's own user, with its email."""
    account = current_account()
    summary = UserSummary(
        account.id, account.username, account.role_id, account.role_name
    )
    public = user_public(summary, url_of_role(account.role_id))
    return UserSelf(**public.model_dump(), email=account.email)


@bp.post("/users")
@tag(["users"])
@validate_request(UserCreate)
@validate_response(UserPublic, 201, LocationHeader)
@documents_errors(400, 409, 413, 415)
async def create_user(data: UserCreate) -> tuple[UserPublic, int, LocationHeader]:
    """Register a user by name, as the name form does."""
    user, created = await accounts.register_name(get_session(), username=data.username)
    if not created:
        raise Conflict(f"A user named {data.username!r} already exists.")
    location = url_for("api.get_user", user_id=user.id, _external=True)
    return (
        user_public(user, url_of_role(user.role_id)),
        201,
        LocationHeader(location=location),
    )
