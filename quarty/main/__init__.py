"""The HTML pages: home with the name form and the posts, profiles, posts."""

from quart import Blueprint

from quarty.main import cards

bp = Blueprint("main", __name__)
cards.register(bp)

from quarty.main import (  # noqa: E402, F401  - routes register on bp
    follows,
    moderation,
    posts,
    tabs,
    views,
)
