"""Store rows as the API's public shapes, with absolute URLs as Flasky gives them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from quart import Response, url_for

from quarty.api.schemas import (
    PageQuery,
    PostPublic,
    PostsPage,
    RolePublic,
    UserPrivate,
    UserPublic,
    UserSelf,
    UsersPage,
)
from quarty.api.schemas_social import (
    CommentPublic,
    CommentsPage,
    FollowersPage,
    FollowingPage,
    FollowPublic,
)
from quarty.models import Role
from quarty.services.accounts import UserSummary
from quarty.services.comments import CommentView
from quarty.services.follows import FollowView
from quarty.services.paging import Page
from quarty.services.posts import PostView
from quarty.services.profiles import Profile
from quarty.web.avatars import avatar_url

# A user as the store gives it: a row of a listing, or a profile just changed.
ShownUser = UserSummary | Profile


def url_of_role(role_id: int | None) -> str | None:
    """The role's absolute URL, or None for no role."""
    if role_id is None:
        return None
    return url_for("api.get_role", role_id=role_id, _external=True)


def user_public(
    user: ShownUser, role_url: str | None, *, private: bool = False
) -> UserPublic:
    """A user as the API shows it, given its role's URL (see `url_of_role`).

    Private, it has the email and whether the user is confirmed.
    """
    if private:
        return user_private(user, role_url)
    return UserPublic(
        id=user.id,
        url=_user_url(user.id),
        username=user.username,
        role=user.role_name,
        role_url=role_url,
        name=user.name,
        location=user.location,
        about_me=user.about_me,
        member_since=user.member_since,
        last_seen=user.last_seen,
        avatar_url=avatar_url(user.avatar_hash, external=True),
        posts_url=url_for("api.list_user_posts", user_id=user.id, _external=True),
        post_count=user.post_count,
        followers_url=url_for("api.list_followers", user_id=user.id, _external=True),
        followers_count=user.followers_count,
        following_url=url_for("api.list_following", user_id=user.id, _external=True),
        following_count=user.following_count,
        timeline_url=url_for("api.list_timeline", user_id=user.id, _external=True),
    )


def _user_url(user_id: int) -> str:
    return url_for("api.get_user", user_id=user_id, _external=True)


def user_private(user: ShownUser, role_url: str | None) -> UserPrivate:
    """A user as administrators see them: with the email and `confirmed`."""
    public = user_public(user, role_url).model_dump()
    return UserPrivate(**public, email=user.email, confirmed=user.confirmed)


def user_self(user: ShownUser) -> UserSelf:
    """The caller's own user; an account always has an email."""
    return UserSelf.model_validate(
        user_private(user, url_of_role(user.role_id)).model_dump()
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
    private: Callable[[int], bool],
    **values: Any,
) -> UsersPage:
    """The page envelope: the users, links to the pages around it, the total.

    `private(user_id)` says whose email and `confirmed` the page shows.
    """
    # A page holds a few roles among many users: each role's URL is built once.
    role_ids = {user.role_id for user in users}
    role_urls = {role_id: url_of_role(role_id) for role_id in role_ids}
    prev_url, next_url = _page_links(
        page=query.page,
        per_page=query.per_page,
        count=count,
        endpoint=endpoint,
        **values,
    )
    return UsersPage(
        users=[
            user_public(user, role_urls[user.role_id], private=private(user.id))
            for user in users
        ],
        prev=prev_url,
        next=next_url,
        count=count,
    )


def post_public(post: PostView) -> PostPublic:
    """A post as the API shows it."""
    return PostPublic(
        id=post.id,
        url=_post_url(post.id),
        body=post.body,
        body_html=post.body_html,
        timestamp=post.timestamp,
        author_url=_user_url(post.author_id),
        comment_count=post.comment_count,
        comments_url=url_for("api.list_post_comments", post_id=post.id, _external=True),
    )


def posts_page(page: Page[PostView], *, endpoint: str, **values: Any) -> PostsPage:
    """The page envelope of posts, as `users_page` makes it for users."""
    prev_url, next_url = _page_links(
        page=page.number,
        per_page=page.per_page,
        count=page.total,
        endpoint=endpoint,
        **values,
    )
    return PostsPage(
        posts=[post_public(post) for post in page.items],
        prev=prev_url,
        next=next_url,
        count=page.total,
    )


def _post_url(post_id: int) -> str:
    return url_for("api.get_post", post_id=post_id, _external=True)


def comment_public(comment: CommentView, *, moderator: bool) -> CommentPublic:
    """A comment as the API shows it; a disabled one's body only to a moderator."""
    shown = moderator or not comment.disabled
    return CommentPublic(
        id=comment.id,
        url=url_for("api.get_comment", comment_id=comment.id, _external=True),
        post_url=_post_url(comment.post_id),
        body=comment.body if shown else None,
        body_html=comment.body_html if shown else None,
        timestamp=comment.timestamp,
        author_url=_user_url(comment.author_id),
        disabled=comment.disabled,
    )


def comments_page(
    page: Page[CommentView], *, moderator: bool, endpoint: str, **values: Any
) -> CommentsPage:
    """The page envelope of comments, as `posts_page` makes it for posts."""
    prev_url, next_url = _page_links(
        page=page.number,
        per_page=page.per_page,
        count=page.total,
        endpoint=endpoint,
        **values,
    )
    return CommentsPage(
        comments=[comment_public(item, moderator=moderator) for item in page.items],
        prev=prev_url,
        next=next_url,
        count=page.total,
    )


def followers_page(page: Page[FollowView], *, user_id: int) -> FollowersPage:
    """A page of who follows the user, as `posts_page` makes one of posts."""
    shown, prev_url, next_url = _follows(page, "api.list_followers", user_id)
    return FollowersPage(
        followers=shown, prev=prev_url, next=next_url, count=page.total
    )


def following_page(page: Page[FollowView], *, user_id: int) -> FollowingPage:
    """A page of whom the user follows, as `followers_page` makes one."""
    shown, prev_url, next_url = _follows(page, "api.list_following", user_id)
    return FollowingPage(
        following=shown, prev=prev_url, next=next_url, count=page.total
    )


def _follows(
    page: Page[FollowView], endpoint: str, user_id: int
) -> tuple[list[FollowPublic], str | None, str | None]:
    prev_url, next_url = _page_links(
        page=page.number,
        per_page=page.per_page,
        count=page.total,
        endpoint=endpoint,
        user_id=user_id,
    )
    shown = [
        FollowPublic(
            user_url=_user_url(follow.user_id),
            username=follow.username,
            timestamp=follow.timestamp,
        )
        for follow in page.items
    ]
    return shown, prev_url, next_url


def no_content() -> Response:
    """A 204: done, and nothing to say."""
    response = Response(status=204)
    del response.headers["Content-Type"]  # no body, so no type (not text/html)
    return response


def _page_links(
    *, page: int, per_page: int, count: int, endpoint: str, **values: Any
) -> tuple[str | None, str | None]:
    """The absolute URLs of the pages before and after this one, None at the ends.

    A page past the end has no next, but still links the page before it.
    """

    def page_url(number: int) -> str:
        return url_for(
            endpoint, page=number, per_page=per_page, _external=True, **values
        )

    prev_url = page_url(page - 1) if page > 1 else None
    next_url = page_url(page + 1) if page * per_page < count else None
    return prev_url, next_url


def page_offset(query: PageQuery) -> int:
    """How many rows come before the requested page."""
    return (query.page - 1) * query.per_page
