"""Questions the bench asks a running quarty (a form token, a login, the API's
size) and its database (counts, the seeded posts)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from typing import NamedTuple

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# Any form's token, its attributes in any order: one serves every form of
# the session.
ANY_CSRF_INPUT = re.compile(r'<input (?=[^>]*name="csrf_token")[^>]*value="([^"]+)"')


def get(url: str) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers={"Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return (
                response.status,
                dict(response.headers.items()),
                response.read().decode(),
            )
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read().decode()


def session_form(base_url: str, path: str = "/") -> tuple[str, str]:
    """A session cookie and the CSRF token of the page's form."""
    status, headers, body = get(base_url + path)
    cookie_header = next(
        (v for k, v in headers.items() if k.lower() == "set-cookie"), ""
    )
    match = CSRF_INPUT.search(body)
    if status != 200 or not cookie_header or not match:
        raise RuntimeError(f"GET {path} gave no session cookie and CSRF token")
    return cookie_header.split(";", 1)[0], match.group(1)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None  # the redirect's own headers are the answer


def _cookies_set(headers: Message) -> dict[str, str]:
    pairs = (value.split(";", 1)[0] for value in headers.get_all("Set-Cookie") or [])
    return dict(pair.split("=", 1) for pair in pairs)


def log_in(base_url: str, *, email: str, password: str) -> str:
    """Log in as a browser does; the Cookie header it then sends (session and
    quarty_auth)."""
    session_cookie, token = session_form(base_url, "/auth/login")
    form = {"email": email, "password": password, "csrf_token": token}
    request = urllib.request.Request(
        base_url + "/auth/login",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Cookie": session_cookie},
    )
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=30) as response:
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as error:
        status, headers = error.code, error.headers
    cookies = dict([session_cookie.split("=", 1)]) | _cookies_set(headers)
    if status != 302 or "quarty_auth" not in cookies:
        raise RuntimeError(f"POST /auth/login answered {status}, not a login")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def signed_in_form(base_url: str, cookie: str, path: str = "/") -> tuple[str, str]:
    """GET a page as a signed-in browser: its Cookie header after the page's
    Set-Cookie, and a CSRF token of its session."""
    request = urllib.request.Request(base_url + path, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            headers, body = response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"GET {path} signed in answered {error.code}") from None
    match = ANY_CSRF_INPUT.search(body)
    if match is None:
        raise RuntimeError(f"GET {path} signed in gave no CSRF token")
    pairs = (pair.split("=", 1) for pair in cookie.split("; "))
    cookies = dict(pairs) | _cookies_set(headers)
    return "; ".join(f"{n}={v}" for n, v in cookies.items()), match.group(1)


def api_pages(base_url: str) -> int | None:
    """How many pages GET /api/v1/users has, or None when the API is not there."""
    status, _headers, body = get(base_url + "/api/v1/users")
    if status != 200:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict):
        for key in ("pages", "total_pages", "page_count"):
            if isinstance(data.get(key), int):
                return max(1, int(data[key]))
        total = next(
            (data[k] for k in ("total", "count") if isinstance(data.get(k), int)), None
        )
        per_page = data.get("per_page")
        if not isinstance(per_page, int):
            items = next((v for v in data.values() if isinstance(v, list)), [])
            per_page = len(items) or None
        if total and per_page:
            return max(1, -(-int(total) // int(per_page)))
    return 1


async def count_users(url: str) -> int:
    from quarty.db import Database
    from quarty.services import accounts

    database = Database(url)
    try:
        async with database.sessionmaker() as session:
            return await accounts.count_users(session)
    finally:
        await database.dispose()


async def count_posts(url: str) -> int:
    from sqlalchemy import func, select

    from quarty.db import Database
    from quarty.models import Post

    database = Database(url)
    try:
        async with database.sessionmaker() as session:
            query = select(func.count()).select_from(Post)
            return (await session.execute(query)).scalar_one()
    finally:
        await database.dispose()


class SeededPosts(NamedTuple):
    """What the pages with posts are asked for: the author of the most posts,
    the first and last post's ids, and how many posts there are."""

    author: str
    first_id: int
    last_id: int
    total: int


async def seeded_posts(url: str) -> SeededPosts:
    from sqlalchemy import func, select

    from quarty.db import Database
    from quarty.models import Post, User

    database = Database(url)
    try:
        async with database.sessionmaker() as session:
            ids = select(func.min(Post.id), func.max(Post.id), func.count())
            first_id, last_id, total = (await session.execute(ids)).one()
            busiest = (
                select(User.username)
                .join(Post, Post.author_id == User.id)
                .group_by(User.id, User.username)
                .order_by(func.count().desc(), User.id)
                .limit(1)
            )
            author = (await session.execute(busiest)).scalar()
    finally:
        await database.dispose()
    if author is None:
        raise RuntimeError("the database has no posts after `quart --app quarty fake`")
    return SeededPosts(author, first_id, last_id, total)
