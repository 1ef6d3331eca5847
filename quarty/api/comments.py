"""Comments: a post's, oldest first; everyone's, newest first; one; write one.

The reads are public. A comment a moderator disabled is still listed, with
`disabled` true, but its body only for callers whose role has MODERATE (the
book's API shows it to anyone). Writing needs an account whose role grants
COMMENT.
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
    optional_caller,
    require_account,
)
from quarty.api.errors import documents_errors
from quarty.api.render import comment_public, comments_page
from quarty.api.schemas import LocationHeader, PageQuery
from quarty.api.schemas_social import CommentPublic, CommentsPage, CommentWrite
from quarty.db import get_session
from quarty.models import Permission
from quarty.security.limits import API_PASSWORD
from quarty.services import comments, posts


@bp.get("/posts/<id:post_id>/comments")
@tag(["comments"])
@API_PASSWORD
@optional_account(*ANY_SCHEME)
@validate_querystring(PageQuery)
@validate_response(CommentsPage)
@documents_errors(400, 404)
async def list_post_comments(post_id: int, query_args: PageQuery) -> CommentsPage:
    """List a post's comments, oldest first, a page at a time."""
    session = get_session()
    page = await comments.list_post_comments(
        session, post_id=post_id, page=query_args.page, per_page=query_args.per_page
    )
    # A post with comments exists; only an empty list asks whether it does.
    if page.total == 0 and await posts.get_post(session, post_id) is None:
        raise NotFound(f"There is no post with id {post_id}.")
    return comments_page(
        page,
        moderator=_caller_moderates(),
        endpoint="api.list_post_comments",
        post_id=post_id,
    )


@bp.post("/posts/<id:post_id>/comments")
@tag(["comments"])
@API_PASSWORD
@require_account(*ANY_SCHEME, permission=Permission.COMMENT)
@validate_request(CommentWrite)
@validate_response(CommentPublic, 201, LocationHeader)
@documents_errors(400, 404, 413, 415)
async def create_comment(
    post_id: int, data: CommentWrite
) -> tuple[CommentPublic, int, LocationHeader]:
    """Comment on a post as the caller."""
    try:
        published = await comments.create_comment(
            get_session(), author=current_account(), post_id=post_id, body=data.body
        )
    except posts.NotAllowedError as refused:  # the role changed meanwhile
        raise Forbidden(str(refused)) from None
    if published is None:
        raise NotFound(f"There is no post with id {post_id}.")
    comment = published.comment
    location = url_for("api.get_comment", comment_id=comment.id, _external=True)
    shown = comment_public(comment, moderator=_caller_moderates())
    return shown, 201, LocationHeader(location=location)


@bp.get("/comments")
@tag(["comments"])
@API_PASSWORD
@optional_account(*ANY_SCHEME)
@validate_querystring(PageQuery)
@validate_response(CommentsPage)
@documents_errors(400)
async def list_comments(query_args: PageQuery) -> CommentsPage:
    """List every comment, newest first, a page at a time."""
    page = await comments.list_comments(
        get_session(), page=query_args.page, per_page=query_args.per_page
    )
    return comments_page(
        page, moderator=_caller_moderates(), endpoint="api.list_comments"
    )


@bp.get("/comments/<id:comment_id>")
@tag(["comments"])
@API_PASSWORD
@optional_account(*ANY_SCHEME)
@validate_response(CommentPublic)
@documents_errors(404)
async def get_comment(comment_id: int) -> CommentPublic:
    """Get one comment."""
    comment = await comments.get_comment(get_session(), comment_id)
    if comment is None:
        raise NotFound(f"There is no comment with id {comment_id}.")
    return comment_public(comment, moderator=_caller_moderates())


def _caller_moderates() -> bool:
    """Whether the caller may read disabled comments: their role has MODERATE."""
    caller = optional_caller()
    return caller is not None and caller.can(Permission.MODERATE)
