"""Users: list them a page at a time, fetch one, register one by name, and "me".

The reads are public; an administrator's credentials add each user's email,
as do the user's own. A user edits their own profile at /users/me; an
administrator edits anyone at /users/<id>.
"""

from __future__ import annotations

from quart import url_for
from quart_schema import tag, validate_querystring, validate_request, validate_response
from werkzeug.exceptions import BadRequest, Conflict, HTTPException, NotFound

from quarty.api import bp
from quarty.api.auth import (
    ANY_SCHEME,
    current_account,
    may_see_private,
    optional_account,
    require_account,
)
from quarty.api.errors import documents_errors
from quarty.api.render import (
    page_offset,
    url_of_role,
    user_private,
    user_public,
    user_self,
    users_page,
)
from quarty.api.schemas import (
    LocationHeader,
    PageQuery,
    ProfileUpdate,
    UserCreate,
    UserPrivate,
    UserPublic,
    UserSelf,
    UsersPage,
    UserUpdate,
)
from quarty.db import get_session
from quarty.models import Permission
from quarty.security.limits import API_PASSWORD
from quarty.services import accounts, profiles
from quarty.services.auth import EmailTakenError, UsernameTakenError


@bp.get("/users")
@tag(["users"])
@API_PASSWORD
@optional_account(*ANY_SCHEME)
@validate_querystring(PageQuery)
@validate_response(UsersPage)
@documents_errors(400)
async def list_users(query_args: PageQuery) -> UsersPage:
    """List users, ordered by id, a page at a time."""
    users, count = await accounts.list_user_summaries(
        get_session(), offset=page_offset(query_args), limit=query_args.per_page
    )
    return users_page(
        users,
        query=query_args,
        count=count,
        endpoint="api.list_users",
        private=may_see_private,
    )


@bp.get("/users/<id:user_id>")
@tag(["users"])
@API_PASSWORD
@optional_account(*ANY_SCHEME)
@validate_response(UserPublic)
@documents_errors(404)
async def get_user(user_id: int) -> UserPublic:
    """Get one user."""
    user = await user_or_404(user_id)
    return user_public(
        user, url_of_role(user.role_id), private=may_see_private(user_id)
    )


@bp.get("/users/me")
@tag(["users"])
@API_PASSWORD
@require_account(*ANY_SCHEME)
@validate_response(UserSelf)
async def get_me() -> UserSelf:
    """Get the caller's own user, with its email."""
    user = await accounts.get_user_summary(get_session(), current_account().id)
    if user is None:  # deleted since the credentials were checked
        raise NotFound("The account is gone.")
    return user_self(user)


@bp.patch("/users/me")
@tag(["users"])
@API_PASSWORD
@require_account(*ANY_SCHEME)
@validate_request(ProfileUpdate)
@validate_response(UserSelf)
@documents_errors(400, 413, 415)
async def update_me(data: ProfileUpdate) -> UserSelf:
    """Change the caller's own name, location or about me."""
    try:
        profile = await profiles.update_own_profile(
            get_session(),
            user_id=current_account().id,
            **data.model_dump(exclude_unset=True),
        )
    except profiles.InvalidProfileError as error:
        raise _refusal(error) from None
    if profile is None:
        raise NotFound("The account is gone.")
    return user_self(profile)


@bp.patch("/users/<id:user_id>")
@tag(["users"])
@API_PASSWORD
@require_account(*ANY_SCHEME, permission=Permission.ADMIN)
@validate_request(UserUpdate)
@validate_response(UserPrivate)
@documents_errors(400, 404, 409, 413, 415)
async def update_user(user_id: int, data: UserUpdate) -> UserPrivate:
    """Change any user's profile, username, email, role or confirmation (admins)."""
    session = get_session()
    changes = data.model_dump(exclude_unset=True)
    if "role" in changes:
        role_name = changes.pop("role")
        role_id = await accounts.role_id_named(session, role_name)
        if role_id is None:  # the schema names only the default roles
            raise BadRequest(
                f"Invalid request body: role: there is no role named {role_name!r}"
            )
        changes["role_id"] = role_id
    try:
        profile = await profiles.admin_update_user(session, user_id=user_id, **changes)
    except profiles.InvalidProfileError as error:
        raise _refusal(error) from None
    except (EmailTakenError, UsernameTakenError) as error:
        raise Conflict(str(error)) from None
    if profile is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return user_private(profile, url_of_role(profile.role_id))


def _refusal(error: profiles.InvalidProfileError) -> HTTPException:
    if error.field == "email":
        # The body's email is well formed (UserUpdate checked it), so it is
        # refused for the user it is meant for, who cannot log in: a conflict
        # with that user's state rather than a bad request.
        return Conflict(str(error))
    field = "role" if error.field == "role_id" else error.field
    return BadRequest(f"Invalid request body: {field}: {error}")


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


async def user_or_404(user_id: int) -> accounts.UserSummary:
    """The user with this id, or a 404 that says there is none."""
    user = await accounts.get_user_summary(get_session(), user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return user


async def check_user_of_list(total: int, user_id: int) -> None:
    """404 unless user `user_id` exists, for a list of theirs of `total`
    items: a row names the user, so only an empty list asks."""
    if total == 0:
        await user_or_404(user_id)
