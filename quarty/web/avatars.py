"""Avatars without the internet: an identicon per user, drawn by the app as SVG.

The key is the user's avatar hash (quarty.models.avatar_hash_of), kept on the
row and changed with the email, so an avatar's URL never changes meaning and
is cached for a year. AVATARS=gravatar links to Gravatar instead, with the
same key and sizes.
"""

from __future__ import annotations

from quart import Quart, Response, current_app, request, url_for
from werkzeug.exceptions import NotFound

GRAVATAR = "https://secure.gravatar.com/avatar"
DEFAULT_SIZE = 80
MAX_SIZE = 512
GRID = 5
ONE_YEAR = 365 * 24 * 3600


def avatar_url(
    avatar_hash: str, size: int = DEFAULT_SIZE, *, external: bool = False
) -> str:
    """Where the avatar with this key, at this size in pixels, is served."""
    if current_app.config["AVATARS"] == "gravatar":
        return f"{GRAVATAR}/{avatar_hash}?s={size}&d=identicon&r=g"
    return url_for("avatar", avatar_hash=avatar_hash, s=size, _external=external)


def identicon(avatar_hash: str, size: int) -> str:
    """A 5 by 5 mirrored pattern in one colour, both taken from the key."""
    digest = bytes.fromhex(avatar_hash)
    hue = int.from_bytes(digest[:2]) % 360
    colour = f"hsl({hue} 55% 50%)"
    cell = size / (GRID + 1)
    margin = cell / 2
    cells = []
    for row in range(GRID):
        for column in range((GRID + 1) // 2):
            if digest[2 + row * 3 + column] % 2:
                top = margin + row * cell
                for x in {column, GRID - 1 - column}:
                    left = margin + x * cell
                    cells.append(
                        f'<rect x="{left:.2f}" y="{top:.2f}"'
                        f' width="{cell:.2f}" height="{cell:.2f}"/>'
                    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}"'
        f' viewBox="0 0 {size} {size}" role="img">'
        f'<rect width="{size}" height="{size}" fill="#f0f0f0"/>'
        f'<g fill="{colour}">{"".join(cells)}</g></svg>'
    )


def init_app(app: Quart) -> None:
    """Serve /avatar/<hash>?s=<size>."""

    @app.route("/avatar/<avatar_hash>")
    async def avatar(avatar_hash: str) -> Response:
        if len(avatar_hash) != 64 or any(
            c not in "0123456789abcdef" for c in avatar_hash
        ):
            raise NotFound("No such avatar.")
        size = request.args.get("s", DEFAULT_SIZE, type=int)
        # No size, or one that is not a positive whole number, means the
        # default (a link never breaks over it); too large a one, the largest.
        size = min(size, MAX_SIZE) if size > 0 else DEFAULT_SIZE
        response = Response(identicon(avatar_hash, size), content_type="image/svg+xml")
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
        response.set_etag(f"{avatar_hash[:16]}-{size}")
        return await response.make_conditional(request)
