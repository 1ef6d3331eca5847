"""Questions the bench asks a running quarty: a form token, a login, the API's size,
a count."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


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
