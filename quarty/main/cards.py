"""Post and comment cards: their markup in every list, rendered once per
version of each.

A list of 20 posts rendered in async Jinja cost more than the rest of its
page: about 30 µs a post, for url_for, the avatar, moment() and the markup
passing up through each nesting level of templates; a page of 30 comments
the same. A card is the same for everyone who sees the same Edit link (a
post) or the same parts (a comment), so each is rendered once and kept (see
quarty.web.fragments), and a page joins the cards it needs.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup
from quart import Blueprint
from quart.blueprints import BlueprintSetupState

from quarty.services.auth import Account
from quarty.services.comments import CommentView
from quarty.services.posts import PostView, may_edit
from quarty.web import fragments

CARD_TEMPLATE = "main/_post.html"
# About 16 MB of cards a worker: thousands of posts of ordinary length.
MAX_CARD_CHARACTERS = 8_000_000
COMMENT_CARD_TEMPLATE = "main/_comment.html"
# About 8 MB of comment cards a worker: comments are short.
MAX_COMMENT_CARD_CHARACTERS = 4_000_000


def _edit_link(post: PostView, viewer: Account | None) -> str | None:
    if viewer is None or not may_edit(viewer, post):
        return None
    return "author" if viewer.id == post.author_id else "admin"


async def post_cards(posts: Sequence[PostView], viewer: Account | None) -> Markup:
    """The cards of `posts` as `viewer` sees them, one after the other.

    A card's key is everything it shows, so no card is ever stale: an edit,
    or an author's new name or avatar, makes a new key (the old card ages
    out), and the key holds the viewer's Edit link.
    """
    cache = fragments.fragment_cache(CARD_TEMPLATE)
    cards = []
    for post in posts:
        edit = _edit_link(post, viewer)
        key = (
            post.id,
            post.timestamp,
            post.body_html,
            post.author_username,
            post.author_avatar_hash,
            post.comment_count,
            edit,
        )
        cards.append(await cache.render(key, post=post, edit=edit))
    return Markup("").join(cards)


async def comment_card(comment: CommentView, moderate: bool) -> Markup:
    """A comment's card, the inside of its list item (the moderation page adds
    its buttons after it): its body shows unless it is disabled, or on the
    moderation page (`moderate`) in any case. Its key is everything it shows."""
    show_body = moderate or not comment.disabled
    key = (
        comment.id,
        comment.timestamp,
        comment.disabled,
        comment.body_html if show_body else None,
        comment.author_username,
        comment.author_avatar_hash,
    )
    cache = fragments.fragment_cache(COMMENT_CARD_TEMPLATE)
    return await cache.render(key, comment=comment, show_body=show_body)


def register(bp: Blueprint) -> None:
    """Give the blueprint's app its card caches and the `post_cards` and
    `comment_card` globals."""

    def setup(state: BlueprintSetupState) -> None:
        fragments.init_app(
            state.app,
            {
                CARD_TEMPLATE: MAX_CARD_CHARACTERS,
                COMMENT_CARD_TEMPLATE: MAX_COMMENT_CARD_CHARACTERS,
            },
        )

    bp.record_once(setup)
    bp.add_app_template_global(post_cards)
    bp.add_app_template_global(comment_card)
