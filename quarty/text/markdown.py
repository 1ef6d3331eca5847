"""Markdown to safe HTML: CommonMark with bare links linked, then an allow-list.

The HTML is made when a body is written and stored beside it; pages show the
stored HTML and never render Markdown. The preview calls the same function, so
what a writer sees is what is saved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Set
from typing import Final

import nh3
from markdown_it import MarkdownIt

# The book's allow-list for posts.
POST_TAGS: Final = frozenset(
    {
        "a",
        "abbr",
        "acronym",
        "b",
        "blockquote",
        "code",
        "em",
        "i",
        "li",
        "ol",
        "pre",
        "strong",
        "ul",
        "h1",
        "h2",
        "h3",
        "p",
    }
)
# The book's smaller allow-list for comments: inline markup only.
COMMENT_TAGS: Final = frozenset(
    {"a", "abbr", "acronym", "b", "code", "em", "i", "strong"}
)
# bleach's default attributes, which the book relied on.
_ATTRIBUTES: Final = {"a": {"href", "title"}, "abbr": {"title"}, "acronym": {"title"}}
_URL_SCHEMES: Final = {"http", "https", "mailto"}
# Written by users, so followed by no search engine and given no window.opener.
LINK_REL: Final = "nofollow noopener"

# CommonMark as specified (raw HTML included: the allow-list decides what of it
# stays), plus linkify, which makes "https://example.com" in text a link.
_MARKDOWN: Final = MarkdownIt("commonmark", {"linkify": True}).enable("linkify")


def markdown_to_html(text: str, *, tags: Set[str] = POST_TAGS) -> str:
    """The text as HTML with only `tags`; everything else is stripped.

    A `<script>` or `<style>` goes with its content; other tags not allowed
    leave their text behind. Links get rel="nofollow noopener".
    """
    return nh3.clean(
        _MARKDOWN.render(text),
        tags=set(tags),
        attributes={tag: attrs for tag, attrs in _ATTRIBUTES.items() if tag in tags},
        url_schemes=_URL_SCHEMES,
        link_rel=LINK_REL,
    )


async def render_markdown(text: str, *, tags: Set[str] = POST_TAGS) -> str:
    """`markdown_to_html` in a worker thread: a long body takes milliseconds."""
    return await asyncio.to_thread(markdown_to_html, text, tags=tags)
