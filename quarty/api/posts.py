"""Posts: list them newest first, fetch one, write one, edit one; a user's posts,
and a user's timeline (the posts of whom they follow, and their own).

The reads are public, the timeline too, as in the book. Writing needs an
account whose role grants WRITE; editing, the post's author or an
administrator.
"""

from __future__ import annotations

from quart import url_for
from quart_schema import tag, validate_querystring, validate_request, validate_response
from werkzeug.exceptions import Forbidden, NotFound

from quarty.api import bp
from quarty.api.auth import (
    ANY_SCHEME,
    current_account,
    optional_account,
    require_account,
)
from quarty.api.errors import documents_errors
from quarty.api.render import post_public, posts_page
from quarty.api.schemas import (
    LocationHeader,
    PageQuery,
    PostPublic,
    PostsPage,
    PostWrite,
)
from quarty.api.users import check_user_of_list
from quarty.db import get_session
from quarty.models import Permission
from quarty.security.limits import API_PASSWORD
from quarty.services import posts


@bp.get("/posts")
@tag(["posts"])
@API_PASSWORD
@optional_account(*ANY_SCHEME)
@validate_querystring(PageQuery)
@validate_response(PostsPage)
@documents_errors(400)
async def list_posts(query_args: PageQuery) -> PostsPage:
    """List every post, newest first, a page at a time."""
    page = await posts.list_posts(
        get_session(), page=query_args.page, per_page=query_args.per_page
    )
    return posts_page(page, endpoint="api.list_posts")


@bp.get("/posts/<id:post_id>")
@tag(["posts"])
@API_PASSWORD
@optional_account(*ANY_SCHEME)
@validate_response(PostPublic)
@documents_errors(404)
async def get_post(post_id: int) -> PostPublic:
    """Get one post."""
    return post_public(await _post_or_404(post_id))


@bp.post("/posts")
@tag(["posts"])
@API_PASSWORD
@require_account(*ANY_SCHEME, permission=Permission.WRITE)
@validate_request(PostWrite)
@validate_response(PostPublic, 201, LocationHeader)
@documents_errors(400, 413, 415)
async def create_post(data: PostWrite) -> tuple[PostPublic, int, LocationHeader]:
    """Write a post as the caller."""
    try:
        post = await posts.create_post(
            get_session(), author=current_account(), body=data.body
        )
    except posts.NotAllowedError as refused:  # the role changed meanwhile
        raise Forbidden(str(refused)) from None
    location = url_for("api.get_post", post_id=post.id, _external=True)
    return post_public(post), 201, LocationHeader(location=location)


@bp.put("/posts/<id:post_id>")
@tag(["posts"])
@API_PASSWORD
@require_account(*ANY_SCHEME, permission=Permission.WRITE)
@validate_request(PostWrite)
@validate_response(PostPublic)
@documents_errors(400, 404, 413, 415)
async def update_post(post_id: int, data: PostWrite) -> PostPublic:
    """Replace a post's body (its author, or an administrator)."""
    session = get_session()
    if not posts.may_edit(current_account(), await _post_or_404(post_id)):
        raise Forbidden("Insufficient permissions")
    try:
        post = await posts.update_post(
            session, editor=current_account(), post_id=post_id, body=data.body
        )
    except posts.NotAllowedError as refused:  # the role changed meanwhile
        raise Forbidden(str(refused)) from None
    if post is None:  # deleted since it was read
        raise NotFound(f"There is no post with id {post_id}.")
    return post_public(post)


@bp.get("/users/<id:user_id>/posts")
@tag(["posts"])
@API_PASSWORD
@optional_account(*ANY_SCHEME)
@validate_querystring(PageQuery)
@validate_response(PostsPage)
@documents_errors(400, 404)
async def list_user_posts(user_id: int, query_args: PageQuery) -> PostsPage:
    """List a user's posts, newest first, a page at a time."""
    page = await posts.list_posts(
        get_session(),
        page=query_args.page,
        per_page=query_args.per_page,
        author_id=user_id,
    )
    await check_user_of_list(page.total, user_id)
    return posts_page(page, endpoint="api.list_user_posts", user_id=user_id)


@bp.get("/users/<id:user_id>/timeline")
@tag(["posts"])
@API_PASSWORD
@optional_account(*ANY_SCHEME)
@validate_querystring(PageQuery)
@validate_response(PostsPage)
@documents_errors(400, 404)
async def list_timeline(user_id: int, query_args: PageQuery) -> PostsPage:
    """List the posts of whom a user follows, and their own, newest first."""
    page = await posts.list_posts(
        get_session(),
        page=query_args.page,
        per_page=query_args.per_page,
        followed_by=user_id,
    )
    await check_user_of_list(page.total, user_id)
    return posts_page(page, endpoint="api.list_timeline", user_id=user_id)


async def _post_or_404(post_id: int) -> posts.PostView:
    post = await posts.get_post(get_session(), post_id)
    if post is None:
        raise NotFound(f"There is no post with id {post_id}.")
    return post
