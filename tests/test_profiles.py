"""Profiles: the page of a user, editing one's own, and an administrator's edit."""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.models import Role, User, avatar_hash_of
from quarty.services import profiles
from quarty.services.auth import EmailTakenError, UsernameTakenError
from quarty.services.roles import insert_default_roles
from tests.accounts import create_account, log_in, page_text, submit
from tests.helpers import submit_name

ADMIN_EMAIL = "root@example.com"


class People(NamedTuple):
    ada: int
    admin: int


@pytest.fixture
def app_settings(app_settings: dict[str, object]) -> dict[str, object]:
    """QUARTY_ADMIN's account registers as the administrator."""
    return {**app_settings, "QUARTY_ADMIN": ADMIN_EMAIL}


@pytest.fixture
async def people(app: Quart, session: AsyncSession) -> People:
    """ada, a User, and root, the Administrator (the roles made first)."""
    await insert_default_roles(session)
    ada = await create_account(app)
    admin = await create_account(app, email=ADMIN_EMAIL, username="root")
    assert (ada.role_name, admin.role_name) == ("User", "Administrator")
    return People(ada.id, admin.id)


async def _describe_ada(session: AsyncSession, ada: int, **fields: str) -> None:
    changes = {"name": "Ada Lovelace", "location": "London"} | fields
    assert await profiles.update_own_profile(session, user_id=ada, **changes)


async def _stored(session: AsyncSession, user_id: int) -> User:
    session.expire_all()
    user = await session.get(User, user_id)
    assert user is not None
    return user


def _input_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]* name="{name}"[^>]*value="([^"]*)"', html)
    assert match, f"no value for {name}"
    return match.group(1)


# The page.


async def test_an_accounts_profile_shows_its_fields(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await _describe_ada(session, people.ada, about_me="I write programs.")
    user = await _stored(session, people.ada)
    html = await page_text(client, "/user/ada")
    assert f'src="/avatar/{user.avatar_hash}?s=256"' in html
    assert "<h1>ada</h1>" in html
    assert "Ada Lovelace" in html
    assert "London" in html
    assert "maps.google" not in html
    assert "I write programs." in html
    assert re.search(r'Member since <time [^>]*data-format="L"', html)
    assert re.search(r'Last seen <time [^>]*data-kind="fromNow"', html)
    # A visitor: no email, nothing to edit.
    assert "mailto:" not in html
    assert "/edit-profile" not in html


async def test_a_name_only_user_is_greeted_without_a_profile(
    client: QuartClient,
) -> None:
    await submit_name(client, "dave")
    response = await client.get("/user/dave")
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hello, Dave!" in html
    assert "Member since" not in html
    assert "/avatar/" not in html


async def test_an_unknown_username_is_not_found(
    client: QuartClient, people: People
) -> None:
    assert (await client.get("/user/nobody")).status_code == 404
    assert (await client.get("/user/Ada")).status_code == 404


async def test_about_me_is_shown_as_text(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await _describe_ada(session, people.ada, about_me="<script>alert(1)</script>")
    html = await page_text(client, "/user/ada")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html


async def test_only_an_administrator_sees_the_email(
    client: QuartClient, people: People
) -> None:
    await log_in(client)
    assert "mailto:" not in await page_text(client, "/user/ada")
    await log_in(client, ADMIN_EMAIL)
    html = await page_text(client, "/user/ada")
    assert '<a href="mailto:ada@example.com">ada@example.com</a>' in html


async def test_the_owner_may_edit_the_profile_and_an_administrator_any(
    client: QuartClient, people: People
) -> None:
    await log_in(client)
    own = await page_text(client, "/user/ada")
    other = await page_text(client, "/user/root")
    assert 'href="/edit-profile">Edit Profile</a>' in own
    assert "Edit Profile" not in other
    assert "Edit Profile [Admin]" not in own

    await log_in(client, ADMIN_EMAIL)
    html = await page_text(client, "/user/ada")
    assert f'href="/edit-profile/{people.ada}">Edit Profile [Admin]</a>' in html
    assert 'href="/edit-profile">' not in html


async def test_the_navbar_links_a_signed_in_user_to_their_profile(
    client: QuartClient, people: People
) -> None:
    assert ">Profile</a>" not in await page_text(client, "/")
    await log_in(client)
    home = await page_text(client, "/")
    assert re.search(r'class="nav-link"\s+href="/user/ada">Profile</a>', home)
    own = await page_text(client, "/user/ada")
    assert re.search(r'class="nav-link active"\s+href="/user/ada">Profile</a>', own)


# Editing one's own profile.


async def test_edit_profile_is_filled_in_and_saves(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await _describe_ada(session, people.ada, about_me="Old words.")
    await log_in(client)
    form = await page_text(client, "/edit-profile")
    assert _input_value(form, "name") == "Ada Lovelace"
    assert _input_value(form, "location") == "London"
    assert re.search(r"<textarea[^>]*>\s*Old words\.</textarea>", form)

    response = await submit(
        client,
        "/edit-profile",
        name="  Augusta Ada King ",
        location="Marylebone",
        about_me="Notes on the engine.",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/user/ada"
    html = await page_text(client, "/user/ada")
    assert "Your profile has been updated." in html
    assert "Augusta Ada King" in html
    assert "Marylebone" in html
    assert "Notes on the engine." in html


async def test_edit_profile_refuses_a_value_too_long(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await _describe_ada(session, people.ada)
    await log_in(client)
    for field, length in [("name", 65), ("location", 65), ("about_me", 2001)]:
        fields = {"name": "New", "location": "Paris", "about_me": "New"}
        fields[field] = "x" * length
        response = await submit(client, "/edit-profile", **fields)
        html = await response.get_data(as_text=True)
        assert response.status_code == 200
        assert f"Field cannot be longer than {length - 1} characters." in html
    user = await _stored(session, people.ada)
    assert (user.name, user.location, user.about_me) == ("Ada Lovelace", "London", None)


async def test_edit_profile_is_for_signed_in_users(
    client: QuartClient, people: People
) -> None:
    response = await client.get("/edit-profile")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/edit-profile"


# An administrator's edit.


def _admin_form(**fields: str) -> dict[str, str]:
    """Every field of ada's admin form, changed where told."""
    return {
        "email": "ada@example.com",
        "username": "ada",
        "confirmed": "y",
        "role": "1",
        "name": "",
        "location": "",
        "about_me": "",
    } | fields


async def _role_id(session: AsyncSession, name: str) -> int:
    return (
        await session.execute(select(Role.id).where(Role.name == name))
    ).scalar_one()


async def test_the_admin_form_is_filled_in(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await _describe_ada(session, people.ada)
    await log_in(client, ADMIN_EMAIL)
    html = await page_text(client, f"/edit-profile/{people.ada}")
    assert _input_value(html, "email") == "ada@example.com"
    assert _input_value(html, "username") == "ada"
    assert _input_value(html, "name") == "Ada Lovelace"
    assert re.search(r'<input[^>]*checked[^>]*name="confirmed"', html) or re.search(
        r'<input[^>]*name="confirmed"[^>]*checked', html
    )
    user_role = await _role_id(session, "User")
    assert re.search(rf'<option selected value="{user_role}">User</option>', html)


async def test_an_administrator_edits_any_account(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    moderator = await _role_id(session, "Moderator")
    await log_in(client, ADMIN_EMAIL)
    path = f"/edit-profile/{people.ada}"
    fields = _admin_form(
        email="Countess@Example.com",
        username="countess",
        role=str(moderator),
        name="Ada",
        location="Ockham",
        about_me="Poetical science.",
    )
    del fields["confirmed"]  # unticked
    response = await submit(client, path, **fields)
    assert response.status_code == 302
    assert response.headers["Location"] == "/user/countess"
    assert "The profile has been updated." in await page_text(client, "/user/countess")

    user = await _stored(session, people.ada)
    assert (user.email, user.username, user.confirmed) == (
        "countess@example.com",
        "countess",
        False,
    )
    assert (user.role_id, user.name, user.location, user.about_me) == (
        moderator,
        "Ada",
        "Ockham",
        "Poetical science.",
    )
    assert user.avatar_hash == avatar_hash_of("countess@example.com", "countess")
    assert (await client.get("/user/ada")).status_code == 404


async def test_the_admin_form_refuses_another_users_email_or_username(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await log_in(client, ADMIN_EMAIL)
    path = f"/edit-profile/{people.ada}"
    role = str(await _role_id(session, "User"))
    response = await submit(client, path, **_admin_form(email="ROOT@example.com"))
    assert response.status_code == 200
    assert "Email already registered." in await response.get_data(as_text=True)
    response = await submit(client, path, **_admin_form(username="root", role=role))
    assert response.status_code == 200
    assert "Username already in use." in await response.get_data(as_text=True)
    user = await _stored(session, people.ada)
    assert (user.email, user.username) == ("ada@example.com", "ada")
    # The user's own email and username are no conflict.
    response = await submit(client, path, **_admin_form(role=role, name="Ada"))
    assert response.status_code == 302


async def test_the_admin_form_holds_an_account_to_the_username_rule(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await log_in(client, ADMIN_EMAIL)
    role = str(await _role_id(session, "User"))
    response = await submit(
        client,
        f"/edit-profile/{people.ada}",
        **_admin_form(username="ada lovelace", role=role),
    )
    assert response.status_code == 200
    assert "Usernames must have only letters" in await response.get_data(as_text=True)


async def test_an_administrator_edits_a_name_only_user(
    client: QuartClient, session: AsyncSession, people: People
) -> None:
    await submit_name(client, "dave")
    dave = (
        await session.execute(select(User.id).where(User.username == "dave"))
    ).scalar_one()
    await log_in(client, ADMIN_EMAIL)
    path = f"/edit-profile/{dave}"
    form = await page_text(client, path)
    assert 'name="email"' not in form
    assert 'name="confirmed"' not in form
    role = str(await _role_id(session, "User"))
    response = await submit(
        client, path, username="Dave Bowman", role=role, name="Dave"
    )
    assert response.headers["Location"] == "/user/Dave%20Bowman"
    user = await _stored(session, dave)
    assert (user.username, user.email, user.name) == ("Dave Bowman", None, "Dave")
    assert "Hello, Dave bowman!" in await page_text(client, "/user/Dave%20Bowman")


async def test_the_admin_edit_of_an_unknown_id_is_not_found(
    client: QuartClient, people: People
) -> None:
    await log_in(client, ADMIN_EMAIL)
    assert (await client.get("/edit-profile/999")).status_code == 404


async def test_the_admin_edit_is_for_administrators_only(
    client: QuartClient, people: People
) -> None:
    path = f"/edit-profile/{people.admin}"
    response = await client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/auth/login?next={path}"
    await log_in(client)
    assert (await client.get(path)).status_code == 403
    assert (await submit(client, path, "/edit-profile", name="x")).status_code == 403


# The service, as the API uses it.


async def test_the_services_return_none_for_an_unknown_id(
    session: AsyncSession, people: People
) -> None:
    assert await profiles.update_own_profile(session, user_id=999, name="x") is None
    assert await profiles.admin_update_user(session, user_id=999, name="x") is None
    assert await profiles.get_profile_by_id(session, user_id=999) is None


async def test_a_partial_change_leaves_the_other_fields(
    session: AsyncSession, people: People
) -> None:
    await _describe_ada(session, people.ada)
    profile = await profiles.admin_update_user(
        session, user_id=people.ada, location="  "
    )
    assert profile is not None
    assert (profile.name, profile.location, profile.email) == (
        "Ada Lovelace",
        None,
        "ada@example.com",
    )
    assert await profiles.get_profile_by_id(session, user_id=people.ada) == profile


async def test_the_admin_service_refuses_what_a_user_cannot_have(
    session: AsyncSession, people: People
) -> None:
    change = profiles.admin_update_user
    with pytest.raises(EmailTakenError):
        await change(session, user_id=people.ada, email=ADMIN_EMAIL.upper())
    with pytest.raises(UsernameTakenError):
        await change(session, user_id=people.ada, username="root")
    with pytest.raises(profiles.InvalidProfileError) as invalid:
        await change(session, user_id=people.ada, role_id=999)
    assert invalid.value.field == "role_id"
    with pytest.raises(profiles.InvalidProfileError) as invalid:
        await change(session, user_id=people.ada, name="x" * 65)
    assert invalid.value.field == "name"
    session.add(User(username="dave"))
    await session.commit()
    dave = await profiles.get_profile(session, username="dave")
    assert dave is not None
    with pytest.raises(profiles.InvalidProfileError) as invalid:
        await change(session, user_id=dave.id, email="dave@example.com")
    assert invalid.value.field == "email"
    assert await profiles.get_profile(session, username="ada") == (
        await profiles.get_profile_by_id(session, user_id=people.ada)
    )
