"""Small helpers the tests share."""

from __future__ import annotations

import re

from quart.testing import QuartClient

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token_in(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_INPUT.search(html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "the page has no CSRF token"
    return match.group(1)


async def get_csrf_token(client: QuartClient, path: str = "/") -> str:
    """GET a page and return its form's CSRF token (the session cookie is kept)."""
    response = await client.get(path)
    assert response.status_code == 200
    return csrf_token_in(await response.get_data(as_text=True))


async def submit_name(client: QuartClient, name: str, *, follow: bool = False) -> str:
    """Submit the name form as a browser would; return the final page's HTML."""
    token = await get_csrf_token(client)
    response = await client.post(
        "/", form={"name": name, "csrf_token": token}, follow_redirects=follow
    )
    return await response.get_data(as_text=True)
