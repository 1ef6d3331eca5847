"""Follows: follow and unfollow a user as the caller; who follows a user, and whom.

The lists are public. Following needs an account whose role grants FOLLOW;
both changes are idempotent, and answer 204 whether or not they changed
anything, so a client can repeat them safely.
"""

from __future__ import annotations

from quart import Response
from quart_schema import (
    document_response,
    tag,
    validate_querystring,
    validate_response,
)
from werkzeug.exceptions import Conflict, Forbidden

from quarty.api import bp
from quarty.api.auth import (
    ANY_SCHEME,
    current_account,
    optional_account,
    require_account,
)
from quarty.api.errors import documents_errors
from quarty.api.render import followers_page, following_page, no_content
from quarty.api.schemas import NoContent, PageQuery
from quarty.api.schemas_social import FollowersPage, FollowingPage
from quarty.api.users import check_user_of_list, user_or_404
from quarty.db import get_session
from quarty.models import Permission
from quarty.security.limits import API_PASSWORD
from quarty.services import follows
from quarty.services.paging import Page
from quarty.services.posts import NotAllowedError


@bp.put("/users/<id:user_id>/follow")
@tag(["follows"])
@API_PASSWORD
@require_account(*ANY_SCHEME, permission=Permission.FOLLOW)
@document_response(NoContent, 204)
@documents_errors(404, 409)
async def follow_user(user_id: int) -> Response:
    """Follow a user as the caller; following them already is no error."""
    try:
        await follows.follow(
            get_session(), follower=current_account(), followed_id=user_id
        )
    except NotAllowedError as refused:  # the role changed meanwhile
        raise Forbidden(str(refused)) from None
    except follows.FollowError as refused:
        raise await _unfollowable(user_id, refused) from None
    return no_content()


@bp.delete("/users/<id:user_id>/follow")
@tag(["follows"])
@API_PASSWORD
@require_account(*ANY_SCHEME, permission=Permission.FOLLOW)
@document_response(NoContent, 204)
@documents_errors(404)
async def unfollow_user(user_id: int) -> Response:
    """Stop following a user as the caller; not following them is no error."""
    session = get_session()
    try:
        change = await follows.unfollow(
            session, follower=current_account(), followed_id=user_id
        )
    except NotAllowedError as refused:  # the role changed meanwhile
        raise Forbidden(str(refused)) from None
    # A follow removed names a user; only a no-op asks whether there is one.
    if change is follows.Change.ALREADY:
        await user_or_404(user_id)
    return no_content()


@bp.get("/users/<id:user_id>/followers")
@tag(["follows"])
@API_PASSWORD
@optional_account(*ANY_SCHEME)
@validate_querystring(PageQuery)
@validate_response(FollowersPage)
@documents_errors(400, 404)
async def list_followers(user_id: int, query_args: PageQuery) -> FollowersPage:
    """List who follows a user, the newest follow first, a page at a time."""
    page = await _follows(user_id, query_args, followers=True)
    return followers_page(page, user_id=user_id)


@bp.get("/users/<id:user_id>/following")
@tag(["follows"])
@API_PASSWORD
@optional_account(*ANY_SCHEME)
@validate_querystring(PageQuery)
@validate_response(FollowingPage)
@documents_errors(400, 404)
async def list_following(user_id: int, query_args: PageQuery) -> FollowingPage:
    """List whom a user follows, the newest follow first, a page at a time."""
    page = await _follows(user_id, query_args, followers=False)
    return following_page(page, user_id=user_id)


async def _follows(
    user_id: int, query_args: PageQuery, *, followers: bool
) -> Page[follows.FollowView]:
    page = await follows.list_follows(
        get_session(),
        user_id=user_id,
        followers=followers,
        page=query_args.page,
        per_page=query_args.per_page,
    )
    await check_user_of_list(page.total, user_id)
    return page


async def _unfollowable(user_id: int, refused: follows.FollowError) -> Exception:
    """Why the caller cannot follow `user_id`: 404 if there is no such user."""
    if user_id == current_account().id:
        return Conflict(str(refused))
    user = await user_or_404(user_id)
    # The service found no account by that id: a user known only by name.
    return Conflict(f"{user.username} cannot be followed: they have no account.")
