"""/openapi.json is valid OpenAPI 3 for the API alone; /docs works offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from openapi_spec_validator import validate
from playwright.async_api import Browser, ConsoleMessage, Request
from quart.testing import QuartClient

OPERATIONS = {
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users/{user_id}"),
    ("get", "/api/v1/roles"),
    ("get", "/api/v1/roles/{role_id}"),
    ("get", "/api/v1/roles/{role_id}/users"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/current"),
    ("get", "/api/v1/users/me"),
    ("patch", "/api/v1/users/me"),
    ("patch", "/api/v1/users/{user_id}"),
    ("get", "/api/v1/posts"),
    ("post", "/api/v1/posts"),
    ("get", "/api/v1/posts/{post_id}"),
    ("put", "/api/v1/posts/{post_id}"),
    ("get", "/api/v1/users/{user_id}/posts"),
    ("put", "/api/v1/users/{user_id}/follow"),
    ("delete", "/api/v1/users/{user_id}/follow"),
    ("get", "/api/v1/users/{user_id}/followers"),
    ("get", "/api/v1/users/{user_id}/following"),
    ("get", "/api/v1/users/{user_id}/timeline"),
    ("get", "/api/v1/posts/{post_id}/comments"),
    ("post", "/api/v1/posts/{post_id}/comments"),
    ("get", "/api/v1/comments"),
    ("get", "/api/v1/comments/{comment_id}"),
}


async def openapi(client: QuartClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = await response.get_json()
    return spec


def spec_schema(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The schema itself, where this one refers to it in components."""
    if "$ref" not in schema:
        return schema
    name = schema["$ref"].rsplit("/", 1)[-1]
    found: dict[str, Any] = spec["components"]["schemas"][name]
    return found


async def test_openapi_document_is_valid_openapi_3(client: QuartClient) -> None:
    spec = await openapi(client)
    validate(spec)  # raises on any violation of the OpenAPI 3.1 schema
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Quarty API"


async def test_openapi_documents_the_api_and_nothing_else(client: QuartClient) -> None:
    spec = await openapi(client)
    operations = {
        (method, path) for path, item in spec["paths"].items() for method in item
    }
    assert operations == OPERATIONS  # no HTML pages, assets or docs routes
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation["summary"], (method, path)
            assert operation["tags"], (method, path)


async def test_the_docs_lead_back_to_the_app(client: QuartClient) -> None:
    # Swagger UI shows the description as Markdown at the top of /docs; the
    # link is relative, so it leads to the app under any root path.
    assert "[Back to the app](./)" in (await openapi(client))["info"]["description"]


async def test_openapi_declares_parameters_bodies_and_errors(
    client: QuartClient,
) -> None:
    paths = (await openapi(client))["paths"]

    listing = paths["/api/v1/users"]["get"]
    query = {parameter["name"]: parameter for parameter in listing["parameters"]}
    assert query["page"]["schema"]["minimum"] == 1
    assert query["per_page"]["schema"]["maximum"] == 100
    assert query["per_page"]["schema"]["default"] == 20
    # 401 and 403 for credentials sent that fail: they are optional.
    assert set(listing["responses"]) == {"200", "400", "401", "403"}

    create = paths["/api/v1/users"]["post"]
    assert create["requestBody"]["required"] is True
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["username"]
    assert "pattern" in body["properties"]["username"]
    assert set(create["responses"]) == {"201", "400", "409", "413", "415"}
    assert "location" in create["responses"]["201"]["headers"]

    lookup = paths["/api/v1/users/{user_id}"]["get"]
    [user_id] = lookup["parameters"]
    assert user_id["in"] == "path"
    assert user_id["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**31 - 1,
    }
    assert set(lookup["responses"]) == {"200", "401", "403", "404"}
    error = lookup["responses"]["404"]["content"]["application/json"]["schema"]
    assert error["required"] == ["error", "message"]

    role_users = paths["/api/v1/roles/{role_id}/users"]["get"]
    assert set(role_users["responses"]) == {"200", "400", "401", "403", "404"}

    edit = paths["/api/v1/users/{user_id}"]["patch"]
    assert edit["security"] == [{"basic": []}, {"bearer": []}]
    statuses = {"200", "400", "401", "403", "404", "409", "413", "415"}
    assert set(edit["responses"]) == statuses
    changes = edit["requestBody"]["content"]["application/json"]["schema"]
    assert "required" not in changes  # only the fields sent change
    assert changes["additionalProperties"] is False
    assert changes["properties"]["role"]["enum"] == [
        "User",
        "Moderator",
        "Administrator",
    ]
    user = paths["/api/v1/users/me"]["patch"]["responses"]["200"]["content"]
    shown = spec_schema(await openapi(client), user["application/json"]["schema"])
    assert {"member_since", "last_seen", "avatar_url", "email"} <= set(
        shown["required"]
    )
    assert shown["properties"]["member_since"]["format"] == "date-time"


async def test_openapi_declares_the_posts(client: QuartClient) -> None:
    spec = await openapi(client)
    paths = spec["paths"]
    required: list[dict[str, list[str]]] = [{"basic": []}, {"bearer": []}]
    optional = [*required, {}]  # {}: or no credentials at all

    for path in ("/api/v1/posts", "/api/v1/users/{user_id}/posts"):
        listing = paths[path]["get"]
        assert listing["security"] == optional
        query = {parameter["name"] for parameter in listing["parameters"]}
        assert {"page", "per_page"} <= query
        page = spec_schema(
            spec, listing["responses"]["200"]["content"]["application/json"]["schema"]
        )
        assert set(page["required"]) == {"posts", "prev", "next", "count"}
    assert set(paths["/api/v1/users/{user_id}/posts"]["get"]["responses"]) == {
        "200",
        "400",
        "401",
        "403",
        "404",
    }

    lookup = paths["/api/v1/posts/{post_id}"]["get"]
    assert lookup["security"] == optional
    assert set(lookup["responses"]) == {"200", "401", "403", "404"}
    post = spec_schema(
        spec, lookup["responses"]["200"]["content"]["application/json"]["schema"]
    )
    assert set(post["required"]) == {
        "id",
        "url",
        "body",
        "body_html",
        "timestamp",
        "author_url",
        "comment_count",
        "comments_url",
    }
    assert post["properties"]["timestamp"]["format"] == "date-time"

    create = paths["/api/v1/posts"]["post"]
    assert create["security"] == required
    assert set(create["responses"]) == {"201", "400", "401", "403", "413", "415"}
    assert "location" in create["responses"]["201"]["headers"]
    edit = paths["/api/v1/posts/{post_id}"]["put"]
    assert edit["security"] == required
    assert set(edit["responses"]) == {"200", "400", "401", "403", "404", "413", "415"}
    for operation in (create, edit):
        assert operation["requestBody"]["required"] is True
        body = spec_schema(
            spec, operation["requestBody"]["content"]["application/json"]["schema"]
        )
        assert body["required"] == ["body"]
        assert body["additionalProperties"] is False
        assert body["properties"]["body"]["maxLength"] == 20_000
        assert "pattern" in body["properties"]["body"]


async def test_docs_page_loads_swagger_ui_from_the_app(client: QuartClient) -> None:
    response = await client.get("/docs")
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'src="/vendor/swagger-ui/swagger-ui-bundle.js"' in html
    assert 'href="/vendor/swagger-ui/swagger-ui.css"' in html
    assert "http://" not in html and "https://" not in html  # no CDN


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
    ],
)
async def test_swagger_ui_files_are_served_from_the_installed_wheel(
    client: QuartClient, filename: str, content_type: str
) -> None:
    response = await client.get(f"/vendor/swagger-ui/{filename}")
    assert response.status_code == 200
    assert response.content_type.startswith(content_type)
    assert len(await response.get_data()) > 10_000


@pytest.mark.parametrize(
    "filename", ["index.html", "oauth2-redirect.html", "swagger-initializer.js", "x"]
)
async def test_other_swagger_ui_files_are_not_served(
    client: QuartClient, filename: str
) -> None:
    response = await client.get(f"/vendor/swagger-ui/{filename}")
    assert response.status_code == 404


async def test_navbar_links_to_the_api_docs(client: QuartClient) -> None:
    html = await (await client.get("/")).get_data(as_text=True)
    assert 'href="/docs"' in html


# --- in a real browser -------------------------------------------------------


@pytest.mark.browser
async def test_docs_page_renders_every_operation_offline(
    browser: Browser, live_url: str, artifacts_dir: Path
) -> None:
    page = await browser.new_page()
    requested: list[str] = []
    failed: list[str] = []
    console_errors: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)
    page.on("requestfailed", lambda request: failed.append(request.url))

    def record_error(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(f"{message.text} {message.location}")

    page.on("console", record_error)

    await page.goto(live_url + "/docs")
    await page.wait_for_selector(".opblock-summary", timeout=15_000)
    await page.wait_for_load_state("networkidle")

    blocks = page.locator(".opblock")
    assert await blocks.count() == len(OPERATIONS)
    shown = set()
    for index in range(await blocks.count()):
        block = blocks.nth(index)
        method = await block.locator(".opblock-summary-method").inner_text()
        path = await block.locator(".opblock-summary-path").get_attribute("data-path")
        shown.add((method.lower(), path))
    assert shown == OPERATIONS
    assert await page.locator(".info .title").inner_text() != ""
    assert "Quarty API" in await page.locator(".info .title").inner_text()

    # Try the user listing from the page itself: Swagger UI calls the live API.
    listing = page.locator("#operations-users-get_list_users")
    await listing.locator(".opblock-summary").click()
    await listing.locator("button.try-out__btn").click()
    await listing.locator("button.execute").click()
    status = listing.locator(".live-responses-table tbody .response-col_status").first
    await status.wait_for()
    assert (await status.inner_text()).strip() == "200"

    await page.screenshot(path=str(artifacts_dir / "api-docs.png"), full_page=True)
    await page.close()

    hosts = {urlsplit(url).hostname for url in requested}
    assert hosts == {"127.0.0.1"}, requested
    assert failed == []
    assert console_errors == []
    assert any(url.endswith("/openapi.json") for url in requested)
    assert any("/api/v1/users" in url for url in requested)
