"""Profiles in the API: what the user JSON shows to whom, and editing it by PATCH."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.models import (
    ABOUT_ME_MAX_LENGTH,
    LOCATION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    Role,
    User,
    avatar_hash_of,
)
from quarty.services import auth, operators
from quarty.services import roles as roles_service
from tests.accounts import PASSWORD
from tests.helpers import app_database

API = "/api/v1"
ME = f"{API}/users/me"
ADMIN_EMAIL = "root@example.com"
USER_EMAIL = "ada@example.com"
PROFILE_FIELDS = {"name", "location", "about_me", "member_since", "last_seen"}
PRIVATE_FIELDS = {"email", "confirmed"}


def basic(email: str, password: str = PASSWORD) -> dict[str, str]:
    pair = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_account(
    app: Quart, *, email: str, username: str, role: str = "User"
) -> auth.Account:
    """A confirmed account with this role (the default roles must exist)."""
    async with (
        app.test_request_context("/"),
        app_database(app).sessionmaker() as session,
    ):
        return await operators.create_account(
            session, email=email, username=username, password=PASSWORD, role_name=role
        )


async def token_for(client: QuartClient, email: str) -> dict[str, str]:
    """Bearer headers for the account: Basic on every call would hit the limits."""
    response = await client.post(f"{API}/tokens", headers=basic(email))
    assert response.status_code == 200, await response.get_data(as_text=True)
    return bearer((await response.get_json())["token"])


async def call(
    client: QuartClient,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    json_body: Any = None,
    status: int = 200,
) -> Any:
    """Make a request; check its status and JSON type; return its JSON."""
    if json_body is None:
        response = await client.open(path, method=method, headers=headers or {})
    else:
        response = await client.open(
            path, method=method, headers=headers or {}, json=json_body
        )
    assert response.status_code == status, await response.get_data(as_text=True)
    assert response.content_type == "application/json"
    return await response.get_json()


async def patch(
    client: QuartClient,
    path: str,
    headers: dict[str, str],
    *,
    json_body: Any,
    status: int = 200,
) -> Any:
    """PATCH a JSON body; check the status; return the JSON answer."""
    return await call(
        client, "PATCH", path, headers, json_body=json_body, status=status
    )


@pytest.fixture
async def roles(session: AsyncSession) -> dict[str, Role]:
    await roles_service.insert_default_roles(session)
    return {role.name: role for role in await session.scalars(select(Role))}


@pytest.fixture
async def admin(app: Quart, roles: dict[str, Role]) -> auth.Account:
    return await make_account(
        app, email=ADMIN_EMAIL, username="root", role="Administrator"
    )


@pytest.fixture
async def ada(app: Quart, roles: dict[str, Role]) -> auth.Account:
    return await make_account(app, email=USER_EMAIL, username="ada")


@pytest.fixture
async def admin_headers(client: QuartClient, admin: auth.Account) -> dict[str, str]:
    return await token_for(client, ADMIN_EMAIL)


@pytest.fixture
async def ada_headers(client: QuartClient, ada: auth.Account) -> dict[str, str]:
    return await token_for(client, USER_EMAIL)


async def add_named_user(session: AsyncSession, username: str) -> User:
    user = User(username=username)
    async with writing(session):
        session.add(user)
    return user


def parse_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == timedelta(0), text
    return moment


# --- what the user JSON holds ------------------------------------------------


async def test_a_user_shows_its_profile_with_typed_fields(
    client: QuartClient, session: AsyncSession, ada: auth.Account
) -> None:
    before = datetime.now(UTC)
    async with writing(session):
        await session.execute(
            update(User)
            .where(User.id == ada.id)
            .values(name="Ada Lovelace", location="London", about_me="Engines.")
        )

    body = await call(client, "GET", f"{API}/users/{ada.id}")

    assert (body["name"], body["location"], body["about_me"]) == (
        "Ada Lovelace",
        "London",
        "Engines.",
    )
    # ISO 8601 in UTC, from the account's creation a moment ago.
    for field in ("member_since", "last_seen"):
        assert body[field].endswith("Z")
        moment = parse_utc(body[field])
        assert before - timedelta(minutes=1) < moment <= datetime.now(UTC)
    avatar = urlsplit(body["avatar_url"])
    assert (avatar.scheme, avatar.netloc) == ("http", "localhost")
    assert avatar.path == f"/avatar/{avatar_hash_of(USER_EMAIL, 'ada')}"
    image = await client.get(f"{avatar.path}?{avatar.query}")
    assert image.status_code == 200
    assert image.content_type.startswith("image/svg+xml")
    assert PRIVATE_FIELDS.isdisjoint(body)


async def test_a_name_only_user_has_an_empty_profile(
    client: QuartClient, session: AsyncSession
) -> None:
    user = await add_named_user(session, "susan")
    body = await call(client, "GET", f"{API}/users/{user.id}")
    assert (body["name"], body["location"], body["about_me"]) == (None, None, None)
    joined, seen = parse_utc(body["member_since"]), parse_utc(body["last_seen"])
    assert abs(seen - joined) < timedelta(seconds=1)
    assert body["avatar_url"].startswith("http://localhost/avatar/")


async def test_every_listing_shows_the_profile_fields(
    client: QuartClient, roles: dict[str, Role], ada: auth.Account
) -> None:
    role_id = roles["User"].id
    for path in (f"{API}/users", f"{API}/roles/{role_id}/users"):
        [user] = (await call(client, "GET", path))["users"]
        assert PROFILE_FIELDS | {"avatar_url"} <= set(user)
        assert PRIVATE_FIELDS.isdisjoint(user)


async def test_avatars_follow_gravatar_when_configured(
    app: Quart, client: QuartClient, ada: auth.Account
) -> None:
    app.config["AVATARS"] = "gravatar"
    body = await call(client, "GET", f"{API}/users/{ada.id}")
    digest = avatar_hash_of(USER_EMAIL, "ada")
    assert body["avatar_url"] == (
        f"https://secure.gravatar.com/avatar/{digest}?s=80&d=identicon&r=g"
    )


# --- who sees the email ------------------------------------------------------


async def test_an_administrator_sees_every_email(
    client: QuartClient,
    session: AsyncSession,
    roles: dict[str, Role],
    ada: auth.Account,
    admin_headers: dict[str, str],
) -> None:
    named = await add_named_user(session, "susan")

    one = await call(client, "GET", f"{API}/users/{ada.id}", admin_headers)
    listing = await call(client, "GET", f"{API}/users", admin_headers)
    holders = await call(
        client, "GET", f"{API}/roles/{roles['User'].id}/users", admin_headers
    )

    assert (one["email"], one["confirmed"]) == (USER_EMAIL, True)
    emails = {user["username"]: user["email"] for user in listing["users"]}
    # A name-only user cannot log in: no email, and never confirmed.
    assert emails == {"root": ADMIN_EMAIL, "ada": USER_EMAIL, "susan": None}
    [shown_named] = [u for u in listing["users"] if u["id"] == named.id]
    assert shown_named["confirmed"] is False
    assert [user["email"] for user in holders["users"]] == [USER_EMAIL]


async def test_an_administrators_password_shows_the_email_too(
    client: QuartClient, ada: auth.Account, admin: auth.Account
) -> None:
    body = await call(client, "GET", f"{API}/users/{ada.id}", basic(ADMIN_EMAIL))
    assert body["email"] == USER_EMAIL


async def test_other_users_see_no_email_but_their_own(
    client: QuartClient,
    admin: auth.Account,
    ada: auth.Account,
    ada_headers: dict[str, str],
) -> None:
    theirs = await call(client, "GET", f"{API}/users/{admin.id}", ada_headers)
    own = await call(client, "GET", f"{API}/users/{ada.id}", ada_headers)
    listing = await call(client, "GET", f"{API}/users", ada_headers)

    assert PRIVATE_FIELDS.isdisjoint(theirs)
    assert own["email"] == USER_EMAIL
    shown = {user["username"]: user.get("email") for user in listing["users"]}
    assert shown == {"root": None, "ada": USER_EMAIL}
    # Without credentials nobody's email shows.
    anonymous = await call(client, "GET", f"{API}/users")
    assert all(PRIVATE_FIELDS.isdisjoint(user) for user in anonymous["users"])


async def test_users_me_shows_the_profile_and_the_email(
    client: QuartClient, ada: auth.Account, ada_headers: dict[str, str]
) -> None:
    me = await call(client, "GET", ME, ada_headers)
    public = await call(client, "GET", f"{API}/users/{ada.id}")
    assert me == {**public, "email": USER_EMAIL, "confirmed": True}


@pytest.mark.parametrize(
    "header", ["Bearer not-a-token", "Basic YWRh", "Digest username=ada", "junk"]
)
@pytest.mark.parametrize("path", [f"{API}/users", f"{API}/users/1"])
async def test_bad_credentials_on_a_public_read_are_a_401(
    client: QuartClient, ada: auth.Account, header: str, path: str
) -> None:
    response = await client.get(path, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Basic realm="quarty", Bearer realm="quarty"'
        + (', error="invalid_token"' if header.startswith("Bearer") else "")
    )
    assert (await response.get_json())["error"] == "unauthorized"


async def test_a_wrong_password_on_a_public_read_is_a_401(
    client: QuartClient, ada: auth.Account
) -> None:
    body = await call(
        client,
        "GET",
        f"{API}/users",
        basic(USER_EMAIL, "a guess"),
        status=401,
    )
    assert body["message"] == "Invalid email or password."


async def test_an_unconfirmed_account_reading_is_a_403(
    client: QuartClient, session: AsyncSession, ada: auth.Account
) -> None:
    async with writing(session):
        await session.execute(
            update(User).where(User.id == ada.id).values(confirmed=False)
        )
    body = await call(client, "GET", f"{API}/users", basic(USER_EMAIL), status=403)
    assert body == {"error": "forbidden", "message": "Unconfirmed account."}


async def test_a_blank_authorization_header_reads_anonymously(
    client: QuartClient, ada: auth.Account
) -> None:
    body = await call(client, "GET", f"{API}/users/{ada.id}", {"Authorization": " "})
    assert PRIVATE_FIELDS.isdisjoint(body)


# --- PATCH /users/me ---------------------------------------------------------


async def test_patch_me_changes_the_profile_and_answers_the_user(
    client: QuartClient, ada: auth.Account, ada_headers: dict[str, str]
) -> None:
    changes = {
        "name": "  Ada Lovelace ",
        "location": "London",
        "about_me": "Poetical science.\nEngines.",
    }

    body = await patch(client, ME, ada_headers, json_body=changes)

    assert body["name"] == "Ada Lovelace"  # trimmed
    assert body["location"] == "London"
    assert body["about_me"] == "Poetical science.\nEngines."
    assert (body["email"], body["id"]) == (USER_EMAIL, ada.id)
    public = await call(client, "GET", f"{API}/users/{ada.id}")
    assert {field: public[field] for field in changes} == {
        field: body[field] for field in changes
    }
    assert await call(client, "GET", ME, ada_headers) == body


async def test_patch_me_changes_only_the_fields_sent(
    client: QuartClient, ada: auth.Account, ada_headers: dict[str, str]
) -> None:
    await patch(
        client,
        ME,
        ada_headers,
        json_body={"name": "Ada", "location": "London", "about_me": "Hi"},
    )

    body = await patch(client, ME, ada_headers, json_body={"location": None})
    assert (body["name"], body["location"], body["about_me"]) == ("Ada", None, "Hi")

    body = await patch(client, ME, ada_headers, json_body={"name": "  "})
    assert body["name"] is None  # blank clears, as null does

    body = await patch(client, ME, ada_headers, json_body={})
    assert (body["name"], body["location"], body["about_me"]) == (None, None, "Hi")


async def test_patch_me_takes_the_password_too(
    client: QuartClient, ada: auth.Account
) -> None:
    body = await patch(client, ME, basic(USER_EMAIL), json_body={"location": "Paris"})
    assert body["location"] == "Paris"


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("name", NAME_MAX_LENGTH),
        ("location", LOCATION_MAX_LENGTH),
        ("about_me", ABOUT_ME_MAX_LENGTH),
    ],
)
async def test_patch_me_takes_each_field_up_to_its_limit(
    client: QuartClient,
    ada_headers: dict[str, str],
    field: str,
    limit: int,
) -> None:
    longest = "é" * limit
    body = await patch(client, ME, ada_headers, json_body={field: longest})
    assert body[field] == longest

    error = await patch(
        client,
        ME,
        ada_headers,
        json_body={field: "x" * (limit + 1)},
        status=400,
    )
    assert error["message"] == (
        f"Invalid request body: {field}: String should have at most {limit} characters"
    )
    assert (await call(client, "GET", ME, ada_headers))[field] == longest


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"name": 42}, "name: Input should be a valid string"),
        ({"location": ["x"]}, "location: Input should be a valid string"),
        ({"about_me": "nul\x00"}, "about_me: must not contain NUL characters"),
        ({"name": "\ud800"}, "name: Input should be a valid string"),
        ({"email": "eve@example.com"}, "email: Extra inputs are not permitted"),
        ({"role": "Administrator"}, "role: Extra inputs are not permitted"),
        ([], "body: Input should be a valid dictionary"),
    ],
)
async def test_patch_me_refuses_bad_values_naming_the_field(
    client: QuartClient,
    ada_headers: dict[str, str],
    payload: Any,
    expected: str,
) -> None:
    # Sent as ASCII JSON, so a lone surrogate travels as its \u escape.
    response = await client.patch(
        ME,
        data=json.dumps(payload),
        headers={**ada_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    body = await response.get_json()
    assert body["error"] == "bad request"
    assert body["message"].startswith(f"Invalid request body: {expected}")
    me = await call(client, "GET", ME, ada_headers)
    assert (me["name"], me["location"], me["about_me"], me["role"]) == (
        None,
        None,
        None,
        "User",
    )


async def test_patch_me_needs_credentials_and_json(
    client: QuartClient, ada_headers: dict[str, str]
) -> None:
    response = await client.patch(ME, json={"name": "Eve"})
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]
    response = await client.patch(
        ME, data="name=Eve", headers={**ada_headers, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415


# --- PATCH /users/<id> -------------------------------------------------------


async def test_an_administrator_changes_a_role_seen_by_every_read(
    client: QuartClient,
    roles: dict[str, Role],
    ada: auth.Account,
    admin_headers: dict[str, str],
) -> None:
    path = f"{API}/users/{ada.id}"
    body = await patch(client, path, admin_headers, json_body={"role": "Moderator"})

    moderator = roles["Moderator"]
    assert body["role"] == "Moderator"
    assert body["role_url"] == f"http://localhost{API}/roles/{moderator.id}"
    assert body["email"] == USER_EMAIL  # the answer is the administrator's view
    public = await call(client, "GET", path)
    assert (public["role"], public["role_url"]) == (body["role"], body["role_url"])
    holders = await call(client, "GET", f"{API}/roles/{moderator.id}/users")
    assert [user["id"] for user in holders["users"]] == [ada.id]
    # And the new role's permissions apply from the user's next request.
    async with app_database(client.app).sessionmaker() as session:
        account = await auth.get_account(session, ada.id)
    assert account is not None and account.role_name == "Moderator"


async def test_an_administrator_changes_everything_at_once(
    client: QuartClient, ada: auth.Account, admin_headers: dict[str, str]
) -> None:
    path = f"{API}/users/{ada.id}"
    changes = {
        "username": "countess",
        "email": "Lovelace@Example.COM",
        "confirmed": False,
        "name": "Augusta Ada King",
        "location": "Marylebone",
        "about_me": None,
    }

    body = await patch(client, path, admin_headers, json_body=changes)

    assert body["username"] == "countess"
    assert body["email"] == "lovelace@example.com"  # stored lowercased
    assert body["confirmed"] is False
    assert (body["name"], body["location"], body["about_me"]) == (
        "Augusta Ada King",
        "Marylebone",
        None,
    )
    # The avatar follows the new email.
    digest = avatar_hash_of("lovelace@example.com", "countess")
    assert urlsplit(body["avatar_url"]).path == f"/avatar/{digest}"
    shown = await call(client, "GET", path, admin_headers)
    assert shown == body
    # Unconfirmed now, the account's own credentials are refused.
    refused = await call(client, "GET", ME, basic("lovelace@example.com"), status=403)
    assert refused["message"] == "Unconfirmed account."


async def test_an_administrator_confirms_an_account(
    client: QuartClient,
    session: AsyncSession,
    ada: auth.Account,
    admin_headers: dict[str, str],
) -> None:
    async with writing(session):
        await session.execute(
            update(User).where(User.id == ada.id).values(confirmed=False)
        )
    body = await patch(
        client,
        f"{API}/users/{ada.id}",
        admin_headers,
        json_body={"confirmed": True},
    )
    assert body["confirmed"] is True
    assert (await client.get(ME, headers=basic(USER_EMAIL))).status_code == 200


async def test_an_administrator_renames_a_name_only_user(
    client: QuartClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    user = await add_named_user(session, "susan")
    body = await patch(
        client,
        f"{API}/users/{user.id}",
        admin_headers,
        json_body={"username": "susan.b", "location": "Oslo"},
    )
    assert (body["username"], body["location"], body["email"]) == (
        "susan.b",
        "Oslo",
        None,
    )


async def test_a_taken_email_or_username_is_a_409(
    client: QuartClient,
    session: AsyncSession,
    admin: auth.Account,
    ada: auth.Account,
    admin_headers: dict[str, str],
) -> None:
    path = f"{API}/users/{ada.id}"
    for changes, message in [
        ({"email": ADMIN_EMAIL.upper()}, "Email already registered."),
        ({"username": "root"}, "Username already in use."),
        ({"username": "root", "name": "Mallory"}, "Username already in use."),
    ]:
        body = await patch(client, path, admin_headers, json_body=changes, status=409)
        assert body == {"error": "conflict", "message": message}
    # Nothing was written, not even the name sent with the taken username.
    shown = await call(client, "GET", path, admin_headers)
    assert (shown["email"], shown["username"], shown["name"]) == (
        USER_EMAIL,
        "ada",
        None,
    )
    # One's own email and username are no conflict.
    same = {"email": USER_EMAIL, "username": "ada"}
    await patch(client, path, admin_headers, json_body=same)


async def test_an_email_for_a_name_only_user_is_a_409(
    client: QuartClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    user = await add_named_user(session, "susan")
    body = await patch(
        client,
        f"{API}/users/{user.id}",
        admin_headers,
        json_body={"email": "susan@example.com"},
        status=409,
    )
    assert body["message"] == "A user who cannot log in has no email."


async def test_an_unknown_user_is_a_404(
    client: QuartClient, admin_headers: dict[str, str]
) -> None:
    body = await patch(
        client,
        f"{API}/users/4242",
        admin_headers,
        json_body={"name": "Nobody"},
        status=404,
    )
    assert body == {"error": "not found", "message": "There is no user with id 4242."}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"role": "Boss"}, "role: must be one of 'User', 'Moderator', 'Administrator'"),
        ({"role": None}, "role: Input should be a valid string"),
        ({"confirmed": "yes"}, "confirmed: Input should be a valid boolean"),
        ({"confirmed": 1}, "confirmed: Input should be a valid boolean"),
        ({"email": "not an email"}, "email: An email address must have an @-sign"),
        ({"email": None}, "email: Input should be a valid string"),
        ({"email": "a" * 250 + "@x.io"}, "email: String should have at most 254"),
        ({"username": "9lives"}, "username: must start with a letter"),
        ({"username": "two words"}, "username: must start with a letter"),
        ({"username": "x" * 65}, "username: String should have at most 64"),
        ({"name": "n" * 65}, "name: String should have at most 64 characters"),
        ({"nickname": "Ada"}, "nickname: Extra inputs are not permitted"),
    ],
)
async def test_an_administrators_bad_values_are_a_400_naming_the_field(
    client: QuartClient,
    ada: auth.Account,
    admin_headers: dict[str, str],
    payload: dict[str, Any],
    expected: str,
) -> None:
    path = f"{API}/users/{ada.id}"
    before = await call(client, "GET", path, admin_headers)
    body = await patch(client, path, admin_headers, json_body=payload, status=400)
    assert body["message"].startswith(f"Invalid request body: {expected}")
    assert await call(client, "GET", path, admin_headers) == before


async def test_a_role_missing_from_the_store_is_a_400_naming_the_field(
    client: QuartClient,
    session: AsyncSession,
    ada: auth.Account,
    admin_headers: dict[str, str],
) -> None:
    async with writing(session):
        await session.execute(
            update(Role).where(Role.name == "Moderator").values(name="Mod")
        )
    body = await patch(
        client,
        f"{API}/users/{ada.id}",
        admin_headers,
        json_body={"role": "Moderator"},
        status=400,
    )
    assert body["message"] == (
        "Invalid request body: role: there is no role named 'Moderator'"
    )


@pytest.mark.parametrize("role", ["User", "Moderator"])
async def test_only_an_administrator_may_change_a_user(
    app: Quart,
    client: QuartClient,
    admin: auth.Account,
    ada: auth.Account,
    role: str,
) -> None:
    await make_account(app, email="mod@example.com", username="mod", role=role)
    headers = await token_for(client, "mod@example.com")
    for target in (admin.id, ada.id, 4242):
        body = await patch(
            client,
            f"{API}/users/{target}",
            headers,
            json_body={"role": "Administrator"},
            status=403,
        )
        assert body == {"error": "forbidden", "message": "Insufficient permissions"}
    shown = await call(client, "GET", f"{API}/users/{ada.id}")
    assert shown["role"] == "User"


async def test_changing_a_user_needs_credentials(
    client: QuartClient, ada: auth.Account
) -> None:
    response = await client.patch(f"{API}/users/{ada.id}", json={"name": "Eve"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Basic realm="quarty", Bearer realm="quarty"'
    )
    error = await response.get_json()
    assert error["message"].startswith("Authentication required: send ")


async def test_an_administrator_may_use_the_password_to_change_a_user(
    client: QuartClient, admin: auth.Account, ada: auth.Account
) -> None:
    body = await patch(
        client,
        f"{API}/users/{ada.id}",
        basic(ADMIN_EMAIL),
        json_body={"location": "Paris"},
    )
    assert body["location"] == "Paris"
