"""Markdown made safe: what a post's body becomes in every page that shows it."""

from __future__ import annotations

import pytest

from quarty.text.markdown import markdown_to_html, render_markdown


def test_commonmark_is_rendered() -> None:
    html = markdown_to_html(
        "# Title\n\nSome **bold** and *em* and `code`.\n\n- one\n- two"
    )
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "<em>em</em>" in html
    assert "<code>code</code>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html


def test_bare_links_become_links_that_search_engines_do_not_follow() -> None:
    html = markdown_to_html("See https://example.com/page for more.")
    assert (
        '<a href="https://example.com/page" rel="nofollow noopener">'
        "https://example.com/page</a>"
    ) in html


def test_written_links_get_the_same_rel_and_keep_their_title() -> None:
    html = markdown_to_html('[docs](https://example.com "The docs")')
    assert (
        '<a href="https://example.com" title="The docs" rel="nofollow noopener">'
        "docs</a>"
    ) in html


@pytest.mark.parametrize(
    "body",
    [
        "<script>window.pwned = 1</script>",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
        '<img src="x" onerror="alert(1)">',
        '<a href="https://example.com" onclick="alert(1)">link</a>',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        "<style>body { display: none }</style>",
        '<iframe src="https://evil.example"></iframe>',
        '<p style="position:fixed">styled</p>',
    ],
)
def test_nothing_that_runs_or_restyles_the_page_survives(body: str) -> None:
    html = markdown_to_html(body).lower()
    for banned in ("<script", "onerror=", "onclick=", "<style", "<iframe", "<img"):
        assert banned not in html
    assert 'href="javascript:' not in html
    assert "style=" not in html
    assert "window.pwned" not in html  # a script's text goes with it


def test_tags_outside_the_allow_list_leave_their_text() -> None:
    html = markdown_to_html("<h4>Small heading</h4> and <u>underlined</u>")
    assert "Small heading" in html
    assert "underlined" in html
    assert "<h4>" not in html
    assert "<u>" not in html


def test_allowed_raw_html_stays() -> None:
    html = markdown_to_html('<abbr title="HyperText Markup Language">HTML</abbr>')
    assert '<abbr title="HyperText Markup Language">HTML</abbr>' in html


def test_markdown_headings_beyond_h3_are_flattened_to_text() -> None:
    html = markdown_to_html("#### Fourth")
    assert "<h4>" not in html
    assert "Fourth" in html


async def test_the_async_renderer_gives_the_same_html() -> None:
    body = "Hello **there** https://example.com <script>x()</script>"
    assert await render_markdown(body) == markdown_to_html(body)
