"""`urls` in templates: the links a page always has, built once per root path.

The layout links the home page, stylesheets and scripts on every page. Their
relative URLs depend only on the app and the request's root path, so each is
built through Werkzeug's URL builder once, not on every render, and the
template reads it from a dict instead of calling a function (a Jinja call costs
more than the lookup).
"""

from __future__ import annotations

from typing import Any

from quart import Quart, current_app, has_request_context, request, url_for

URLS_KEY = "quarty.root_urls"
# Root paths come from the server's configuration; the bounds keep the memo
# small whatever arrives.
MAX_ROOT_PATHS = 16
MAX_URLS = 256

UrlKey = str | tuple[str, str]


class RootUrls(dict[UrlKey, str]):
    """The URLs of one root path: `urls['main.index']` is `url_for('main.index')`,
    `urls['static', 'css/quarty.css']` is `url_for('static', filename=...)`.
    """

    def __missing__(self, key: UrlKey) -> str:
        endpoint, filename = key if isinstance(key, tuple) else (key, None)
        # A relative endpoint ('.index') would depend on the current blueprint.
        if endpoint.startswith("."):
            raise KeyError(f"urls needs a full endpoint name, not {endpoint!r}")
        if filename is None:
            url = url_for(endpoint)
        else:
            url = url_for(endpoint, filename=filename)
        if len(self) < MAX_URLS:
            self[key] = url
        return url


def root_urls() -> RootUrls:
    """The memo for this request's root path (a fresh one past the bound)."""
    memo: dict[str, RootUrls] = current_app.extensions[URLS_KEY]
    root_path = request.root_path
    urls = memo.get(root_path)
    if urls is None:
        urls = RootUrls()
        if len(memo) < MAX_ROOT_PATHS:
            memo[root_path] = urls
    return urls


async def _urls_context() -> dict[str, Any]:
    # Async, so Quart calls it directly rather than in a worker thread. Mail
    # is rendered outside requests too; it has no layout.
    if not has_request_context():
        return {}
    return {"urls": root_urls()}


def init_app(app: Quart) -> None:
    """Give every template rendered in a request the `urls` of its root path."""
    app.extensions[URLS_KEY] = {}
    app.context_processor(_urls_context)
