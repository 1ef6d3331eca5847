"""Every error under /api/ is JSON {"error", "message"}: never HTML, never a 500."""

from __future__ import annotations

import json

import pytest
from quart.testing import QuartClient
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.services import accounts

USERS = "/api/v1/users"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"


async def post_raw(
    client: QuartClient, body: bytes | str, content_type: str | None
) -> tuple[int, dict[str, str]]:
    """POST a raw body to /api/v1/users as a browser-ish client; return the error."""
    headers = {"Accept": BROWSER_ACCEPT}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await client.post(USERS, data=body, headers=headers)
    assert response.content_type == "application/json"
    error = await response.get_json()
    assert set(error) == {"error", "message"}
    return response.status_code, error


@pytest.mark.parametrize(
    "body",
    [
        "{",
        "{'username': 'single quotes'}",
        '{"username": "a",}',
        "",
        "undefined",
    ],
)
async def test_malformed_json_is_a_400(
    client: QuartClient, session: AsyncSession, body: str
) -> None:
    status, error = await post_raw(client, body, "application/json")
    assert status == 400
    assert error["error"] == "bad request"
    assert error["message"].startswith("The request body is not valid JSON")
    assert await accounts.count_users(session) == 0


async def test_body_that_is_not_utf8_is_a_400(client: QuartClient) -> None:
    status, error = await post_raw(
        client, b'{"username": "\xff\xfe"}', "application/json"
    )
    assert status == 400
    assert error["message"].startswith("The request body is not UTF-8")


async def test_absurdly_nested_json_is_a_400(client: QuartClient) -> None:
    depth = 30_000  # fits the size limit, beats the parser's recursion limit
    status, error = await post_raw(
        client, "[" * depth + "]" * depth, "application/json"
    )
    assert status == 400
    assert error["message"] == "The request body is nested too deeply."


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ],
)
async def test_body_that_is_not_json_is_a_415(
    client: QuartClient, content_type: str | None
) -> None:
    status, error = await post_raw(client, '{"username": "x"}', content_type)
    assert status == 415
    assert error["error"] == "unsupported media type"
    assert "application/json" in error["message"]


async def test_json_with_a_suffix_media_type_is_accepted(client: QuartClient) -> None:
    response = await client.post(
        USERS,
        data=json.dumps({"username": "vnd"}),
        headers={"Content-Type": "application/vnd.quarty+json; charset=utf-8"},
    )
    assert response.status_code == 201


async def test_body_over_max_content_length_is_a_413(
    client: QuartClient, session: AsyncSession
) -> None:
    limit = client.app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps({"username": "big", "padding": "x" * limit})
    status, error = await post_raw(client, body, "application/json")
    assert status == 413
    assert error["error"] == "request entity too large"
    assert await accounts.count_users(session) == 0


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", USERS, {"GET", "POST"}),
        ("PUT", USERS, {"GET", "POST"}),
        ("PUT", f"{USERS}/1", {"GET", "PATCH"}),
        ("DELETE", f"{USERS}/1", {"GET", "PATCH"}),
        ("POST", "/api/v1/roles", {"GET"}),
        ("POST", "/api/v1/roles/1/users", {"GET"}),
    ],
)
async def test_wrong_method_is_a_json_405_with_allow(
    client: QuartClient, method: str, path: str, allowed: set[str]
) -> None:
    response = await client.open(
        path, method=method, headers={"Accept": BROWSER_ACCEPT}
    )
    assert response.status_code == 405
    assert response.content_type == "application/json"
    assert (await response.get_json())["error"] == "method not allowed"
    advertised = {part.strip() for part in response.headers["Allow"].split(",")}
    assert allowed <= advertised <= allowed | {"HEAD", "OPTIONS"}


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing", "/api/v1/users/1/friends", "/api/v2/users"]
)
async def test_unknown_api_path_is_a_json_404_even_for_browsers(
    client: QuartClient, path: str
) -> None:
    response = await client.get(path, headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 404
    assert response.content_type == "application/json"
    assert (await response.get_json())["error"] == "not found"


async def test_validation_error_is_json_for_browsers_too(client: QuartClient) -> None:
    response = await client.get(
        f"{USERS}?per_page=1000", headers={"Accept": BROWSER_ACCEPT}
    )
    assert response.status_code == 400
    assert response.content_type == "application/json"
    assert "per_page" in (await response.get_json())["message"]
