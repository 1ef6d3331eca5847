"""Rendered fragments of pages, kept under everything they show.

A fragment's key holds every value its template reads (a post card's key is
the post's id, time, HTML and author), so an entry is never stale: an edit or
a renamed author makes a new key, and the old entry ages out, least recently
used first. Nothing needs invalidating, and each worker process keeps its own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from flask.sansio.app import App
from markupsafe import Markup
from quart import current_app, render_template, request

EXTENSION_KEY = "quarty.fragments"


class FragmentCache:
    """One template's rendered fragments, within a budget of characters."""

    def __init__(self, template: str, *, max_characters: int) -> None:
        self.template = template
        self.max_characters = max_characters
        self.characters = 0
        self._entries: OrderedDict[Hashable, Markup] = OrderedDict()

    async def render(self, key: Hashable, **context: Any) -> Markup:
        """The template rendered with `context`, which `key` must determine."""
        # Its URLs depend on where the app is mounted too.
        full_key = (request.root_path, key)
        fragment = self._entries.get(full_key)
        if fragment is not None:
            self._entries.move_to_end(full_key)
            return fragment
        fragment = Markup(await render_template(self.template, **context))
        self._entries[full_key] = fragment
        self.characters += _cost(fragment)
        while self.characters > self.max_characters and len(self._entries) > 1:
            _, evicted = self._entries.popitem(last=False)
            self.characters -= _cost(evicted)
        return fragment

    def __len__(self) -> int:
        return len(self._entries)


def _cost(fragment: str) -> int:
    # The key usually holds the fragment's largest part again (a post's HTML).
    return 2 * len(fragment)


def fragment_cache(template: str) -> FragmentCache:
    """The current app's cache for this template (see `init_app`)."""
    caches: dict[str, FragmentCache] = current_app.extensions[EXTENSION_KEY]
    return caches[template]


def init_app(app: App, templates: dict[str, int]) -> None:
    """Give the app a cache per template, each with its budget of characters."""
    caches = app.extensions.setdefault(EXTENSION_KEY, {})
    for template, max_characters in templates.items():
        caches[template] = FragmentCache(template, max_characters=max_characters)
