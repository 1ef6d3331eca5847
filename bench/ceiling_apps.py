"""The two ceilings quarty is measured against, served like quarty itself.

`quart_app` is the least a Quart app can do: one route returning a fixed small
page. `raw_app` is the same page from a bare ASGI callable, without Quart. On the
same server and workers they bound what any Quart app (and any app at all) can
reach, so quarty's figures are read as fractions of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from quart import Quart

PAGE = b"<!doctype html><title>hello</title><p>Hello, World!</p>\n"

quart_app = Quart(__name__)


@quart_app.get("/")
async def hello() -> tuple[bytes, int, dict[str, str]]:
    """The fixed small page."""
    return PAGE, 200, {"Content-Type": "text/html; charset=utf-8"}


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"content-length", str(len(PAGE)).encode()),
]


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The same page from a bare ASGI callable (lifespan answered, nothing else)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": PAGE})
