"""permission_required and admin_required, on test-only views: a visitor is sent
to log in, a user without the permission gets 403 (a page, or JSON under /api/),
and a user with it gets the view."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from quart import Blueprint, Quart
from quart.testing import QuartClient

from quarty.auth.signin import current_user
from quarty.models import Permission
from quarty.services import roles
from quarty.web.decorators import admin_required, permission_required
from tests.accounts import create_account, log_in, page_text
from tests.helpers import app_database, client_of, started_app

MODERATE = "/permission-test/moderate"
ADMIN = "/permission-test/admin"
API_MODERATE = "/api/permission-test/moderate"
CAN = "/permission-test/can"


def permission_views() -> Blueprint:
    """A view behind each decorator, one under /api/, and one that says what the
    current user can do."""
    views = Blueprint("permission_test", __name__)

    @views.get(MODERATE)
    @permission_required(Permission.MODERATE)
    async def moderate() -> str:
        return "moderating"

    @views.get(ADMIN)
    @admin_required
    async def administer() -> str:
        return "administering"

    @views.get(API_MODERATE)
    @permission_required(Permission.MODERATE)
    async def api_moderate() -> dict[str, str]:
        return {"doing": "moderating"}

    @views.get(CAN)
    async def can() -> dict[str, object]:
        return {
            "can": [str(p.name) for p in Permission if current_user.can(p)],
            "administrator": current_user.is_administrator(),
        }

    return views


@pytest.fixture
async def app(app_settings: dict[str, object]) -> AsyncIterator[Quart]:
    """The testing app with the views above and the default roles."""
    async with started_app(app_settings, blueprints=[permission_views()]) as app:
        async with app_database(app).sessionmaker() as session:
            await roles.insert_default_roles(session)
        yield app


async def signed_in(app: Quart, role: str) -> QuartClient:
    """A browser signed in to a new account that holds this role."""
    email = f"{role.lower()}@example.com"
    await create_account(app, email=email, username=role.lower())
    async with app_database(app).sessionmaker() as session:
        await roles.set_role(session, email=email, role_name=role)
    client = client_of(app)
    assert await log_in(client, email) == "/"
    return client


async def status_of(client: QuartClient, path: str) -> int:
    return (await client.get(path)).status_code


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (None, []),
        ("User", ["FOLLOW", "COMMENT", "WRITE"]),
        ("Moderator", ["FOLLOW", "COMMENT", "WRITE", "MODERATE"]),
        ("Administrator", ["FOLLOW", "COMMENT", "WRITE", "MODERATE", "ADMIN"]),
    ],
)
async def test_each_role_can_do_what_it_permits_and_a_visitor_nothing(
    app: Quart, client: QuartClient, role: str | None, expected: list[str]
) -> None:
    browser = client if role is None else await signed_in(app, role)
    response = await browser.get(CAN)
    assert await response.get_json() == {
        "can": expected,
        "administrator": role == "Administrator",
    }


@pytest.mark.parametrize("path", [MODERATE, ADMIN])
async def test_a_visitor_is_sent_to_log_in_and_back(
    app: Quart, client: QuartClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/auth/login?next={path}"
    login_page = await page_text(client, response.headers["Location"])
    assert "Please log in to access this page." in login_page

    await create_account(app)
    async with app_database(app).sessionmaker() as session:
        await roles.set_role(
            session, email="ada@example.com", role_name="Administrator"
        )
    assert await log_in(client, next_url=path) == path
    assert await status_of(client, path) == 200


async def test_a_user_without_the_permission_gets_a_forbidden_page(
    app: Quart,
) -> None:
    user = await signed_in(app, "User")
    for path in (MODERATE, ADMIN):
        response = await user.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 403
        assert response.mimetype == "text/html"
        page = await response.get_data(as_text=True)
        assert "Forbidden" in page
        assert "Insufficient permissions" in page


async def test_a_moderator_may_moderate_but_not_administer(app: Quart) -> None:
    moderator = await signed_in(app, "Moderator")
    response = await moderator.get(MODERATE)
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == "moderating"
    assert await status_of(moderator, ADMIN) == 403


async def test_an_administrator_may_moderate_and_administer(app: Quart) -> None:
    administrator = await signed_in(app, "Administrator")
    for path, answer in [(MODERATE, "moderating"), (ADMIN, "administering")]:
        response = await administrator.get(path)
        assert response.status_code == 200
        assert await response.get_data(as_text=True) == answer


async def test_under_api_the_answers_are_json(app: Quart, client: QuartClient) -> None:
    user = await signed_in(app, "User")
    forbidden = await user.get(API_MODERATE)
    assert forbidden.status_code == 403
    assert await forbidden.get_json() == {
        "error": "forbidden",
        "message": "Insufficient permissions",
    }
    visitor = await client.get(API_MODERATE)
    assert visitor.status_code == 401
    assert (await visitor.get_json())["error"] == "unauthorized"
    moderator = await signed_in(app, "Moderator")
    allowed = await moderator.get(API_MODERATE)
    assert allowed.status_code == 200
    assert await allowed.get_json() == {"doing": "moderating"}


async def test_a_new_role_applies_from_the_next_request(app: Quart) -> None:
    browser = await signed_in(app, "User")
    assert await status_of(browser, MODERATE) == 403
    async with app_database(app).sessionmaker() as session:
        change = await roles.set_role(
            session, email="user@example.com", role_name="Moderator"
        )
    assert (change.old_role, change.new_role) == ("User", "Moderator")
    assert await status_of(browser, MODERATE) == 200
    assert await status_of(browser, ADMIN) == 403
