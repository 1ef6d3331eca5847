"""Error pages: JSON or HTML as the Accept header ranks them, however often it comes."""

from __future__ import annotations

import pytest
from quart import Quart, request
from quart.testing import QuartClient

from quarty.web.errors import MAX_CACHED_ACCEPT

BROWSER = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
    "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
ACCEPT_HEADERS = [
    BROWSER,
    "*/*",
    "text/html",
    "application/json",
    "application/json, text/html;q=0.5",
    "text/html;q=0.5, application/json;q=0.5",
    "application/*",
    "application/*;q=1, text/html;q=0.9",
    "text/*, application/json;q=0.1",
    "application/json;q=0",
    "image/png",
    "application/json, " + ", ".join(f"text/x-{n};q=0.{n % 9 + 1}" for n in range(60)),
]


def json_first() -> bool:
    """The decision from request.accept_mimetypes, as errors.wants_json made it."""
    accepted = request.accept_mimetypes
    best = accepted.best_match(["text/html", "application/json"])
    return best == "application/json" and accepted[best] > accepted["text/html"]


@pytest.mark.parametrize("accept", ACCEPT_HEADERS)
async def test_missing_page_answers_in_the_type_the_client_ranks_first(
    app: Quart, client: QuartClient, accept: str
) -> None:
    async with app.test_request_context("/nope", headers={"Accept": accept}):
        expected_json = json_first()
    for _ in range(2):  # the second time the header has been seen before
        response = await client.get("/nope", headers={"Accept": accept})
        assert response.status_code == 404
        assert (response.mimetype == "application/json") is expected_json


async def test_the_headers_cover_both_answers(app: Quart) -> None:
    answers = set()
    for accept in ACCEPT_HEADERS:
        async with app.test_request_context("/nope", headers={"Accept": accept}):
            answers.add(json_first())
    assert answers == {True, False}


async def test_missing_page_without_accept_is_html(client: QuartClient) -> None:
    response = await client.get("/nope", headers={"Accept": ""})
    assert response.mimetype == "text/html"


def test_the_long_header_is_past_the_cache_bound() -> None:
    assert len(ACCEPT_HEADERS[-1]) > MAX_CACHED_ACCEPT
