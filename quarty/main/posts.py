"""The blog post pages: a post's permalink with its comments and the comment
form, its edit form, the writer's preview.

The home page and the profile list posts too (quarty.main.views), a page at a
time through `posts_page`.
"""

from __future__ import annotations

from quart import abort, current_app, flash, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue
from quart_auth import login_required
from werkzeug.exceptions import Forbidden

from quarty.api.converters import MAX_ID
from quarty.auth.signin import current_user, signed_in_account
from quarty.db import get_session
from quarty.main import bp
from quarty.main.forms import CommentForm, PostForm
from quarty.models import Permission
from quarty.services import comments, posts
from quarty.services.auth import Account
from quarty.services.paging import Page, page_count
from quarty.web.decorators import permission_required
from quarty.web.errors import json_error

# Ids past what the store holds would overflow its integers: they are 404s.
_POST_ID = f"<int(max={MAX_ID}):post_id>"


def page_number() -> int:
    """`?page=N`; anything else (missing, 0, negative, not a number) is page 1.

    Past MAX_ID every page is past the end, and the offset would overflow.
    """
    number = request.args.get("page", 1, type=int)
    return min(max(number, 1), MAX_ID)


async def posts_page(
    *,
    author_id: int | None = None,
    followed_by: int | None = None,
    known_total: int | None = None,
) -> Page[posts.PostView]:
    """The page of posts this request asks for: everyone's, one author's, or
    the feed of whom `followed_by` follows."""
    return await posts.list_posts(
        get_session(),
        page=page_number(),
        per_page=current_app.config["QUARTY_POSTS_PER_PAGE"],
        author_id=author_id,
        followed_by=followed_by,
        known_total=known_total,
    )


@bp.get(f"/post/{_POST_ID}")
async def post(post_id: int) -> ResponseReturnValue:
    """One post alone, at its permanent address, with a page of its comments."""
    viewer = await current_user.load()
    form = None
    if viewer is not None and viewer.can(Permission.COMMENT):
        form = CommentForm()
    return await _permalink(post_id, viewer, form)


@bp.post(f"/post/{_POST_ID}")
@permission_required(Permission.COMMENT)
async def comment(post_id: int) -> ResponseReturnValue:
    """Publish a comment, then show it on the last page of the post's comments."""
    account = await signed_in_account()
    form = await CommentForm.from_request()
    if form.validate_on_submit():
        try:
            published = await comments.create_comment(
                get_session(), author=account, post_id=post_id, body=str(form.body.data)
            )
        except comments.InvalidCommentError as invalid:  # the form checks the same
            form.body.errors = [*form.body.errors, str(invalid)]
        except posts.NotAllowedError as refused:  # the role changed meanwhile
            raise Forbidden(str(refused)) from None
        else:
            if published is None:  # no such post, or deleted meanwhile
                abort(404)
            await flash("Your comment has been published.")
            per_page = current_app.config["QUARTY_COMMENTS_PER_PAGE"]
            last_page = page_count(published.post_comment_count, per_page)
            return redirect(
                url_for(
                    "main.post", post_id=post_id, page=last_page, _anchor="comments"
                )
            )
    return await _permalink(post_id, account, form)


async def _permalink(
    post_id: int, viewer: Account | None, form: CommentForm | None
) -> ResponseReturnValue:
    """The permalink: the post and the page of its comments this request asks for."""
    db = get_session()
    found = await posts.get_post(db, post_id)
    if found is None:
        abort(404)
    number = page_number()
    per_page = current_app.config["QUARTY_COMMENTS_PER_PAGE"]
    page: Page[comments.CommentView]
    if (number - 1) * per_page >= found.comment_count:
        # The post counted its comments: none to read here (most posts have
        # none at all), so no query.
        page = Page([], number, per_page, found.comment_count)
    else:
        page = await comments.list_post_comments(
            db,
            post_id=post_id,
            page=number,
            per_page=per_page,
            known_total=found.comment_count,
        )
    return await render_template(
        "main/post.html",
        post=found,
        viewer=viewer,
        form=form,
        page=page,
    )


@bp.route(f"/edit/{_POST_ID}", methods=["GET", "POST"])
@login_required
async def edit_post(post_id: int) -> ResponseReturnValue:
    """Its author's or an administrator's edit of a post."""
    account = await signed_in_account()
    db = get_session()
    found = await posts.get_post(db, post_id)
    if found is None:
        abort(404)
    if not posts.may_edit(account, found):
        raise Forbidden("Only its author or an administrator may edit this post.")
    form = await PostForm.from_request(data={"body": found.body})
    if form.validate_on_submit():
        try:
            updated = await posts.update_post(
                db, editor=account, post_id=post_id, body=str(form.body.data)
            )
        except posts.InvalidPostError as invalid:  # the form checks the same
            form.body.errors = [*form.body.errors, str(invalid)]
        except posts.NotAllowedError as refused:  # the role changed meanwhile
            raise Forbidden(str(refused)) from None
        else:
            if updated is None:  # deleted since it was loaded
                abort(404)
            await flash("The post has been updated.")
            return redirect(url_for("main.post", post_id=post_id))
    return await render_template("main/edit_post.html", form=form)


@bp.post("/preview")
@permission_required(Permission.WRITE)
async def preview() -> ResponseReturnValue:
    """A draft's HTML as it would be saved: {"html": ...}, or a JSON error."""
    form = await PostForm.from_request()
    if not form.validate_on_submit():  # a bad CSRF token raised already
        return json_error(400, form.body.errors[0])
    return {"html": await posts.render_body(str(form.body.data))}
