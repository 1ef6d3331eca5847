"""404, 405 and 500: HTML pages for browsers, JSON for JSON clients and /api/."""

from __future__ import annotations

import logging

import pytest
from quart import Quart
from quart.testing import QuartClient


async def test_unknown_page_is_an_html_404(client: QuartClient) -> None:
    response = await client.get("/no/such/page")
    html = await response.get_data(as_text=True)
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")
    assert "Not Found" in html
    assert "navbar" in html  # the custom page, extending base.html


async def test_unknown_page_is_json_when_json_is_preferred(client: QuartClient) -> None:
    response = await client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    body = await response.get_json()
    assert body["error"] == "not found"
    assert body["message"]


async def test_unknown_api_path_is_json_whatever_accept_says(
    client: QuartClient,
) -> None:
    response = await client.get("/api/v1/nothing-here", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert (await response.get_json())["error"] == "not found"


async def test_wrong_method_is_a_405_with_allow(client: QuartClient) -> None:
    response = await client.delete("/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "Method Not Allowed" in await response.get_data(as_text=True)


async def test_wrong_method_is_json_for_json_clients(client: QuartClient) -> None:
    response = await client.delete("/", headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert (await response.get_json())["error"] == "method not allowed"


@pytest.fixture
def failing_app(app: Quart) -> Quart:
    @app.route("/boom")
    async def boom() -> str:
        raise RuntimeError("secret internals: password=hunter2")

    return app


async def test_server_error_is_a_500_page_without_traceback(
    failing_app: Quart, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    response = await failing_app.test_client().get("/boom")
    html = await response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Internal Server Error" in html
    assert "Traceback" not in html
    assert "hunter2" not in html
    # The traceback goes to the log instead.
    assert any(r.exc_info for r in caplog.records)


async def test_server_error_is_json_for_json_clients(failing_app: Quart) -> None:
    response = await failing_app.test_client().get(
        "/boom", headers={"Accept": "application/json"}
    )
    assert response.status_code == 500
    body = await response.get_json()
    assert body["error"] == "internal server error"
    assert "hunter2" not in body["message"]
