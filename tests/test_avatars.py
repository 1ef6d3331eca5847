"""Avatars: an identicon per avatar hash, served as SVG and cached for a year;
the hash follows the account's email; AVATARS=gravatar links to Gravatar."""

from __future__ import annotations

import hashlib
import re

import pytest
from quart import Quart, render_template_string
from quart.testing import QuartClient
from sqlalchemy import select

from quarty.models import User, avatar_hash_of
from quarty.services import credentials
from quarty.web.avatars import avatar_url
from tests.accounts import PASSWORD, create_account, last_link_to
from tests.helpers import app_database, started_app

ADA = avatar_hash_of("ada@example.com", "ada")
BOB = avatar_hash_of("bob@example.com", "bob")
SVG_SIZE = re.compile(r'^<svg [^>]*width="(\d+)" height="(\d+)"')


async def avatar(client: QuartClient, path: str) -> tuple[int, str]:
    response = await client.get(path)
    return response.status_code, await response.get_data(as_text=True)


def size_of(svg: str) -> int:
    match = SVG_SIZE.match(svg)
    assert match, svg[:80]
    width, height = match.groups()
    assert width == height
    return int(width)


async def test_an_avatar_is_an_svg_that_caches_for_a_year(client: QuartClient) -> None:
    response = await client.get(f"/avatar/{ADA}?s=64")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.cache_control.public
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert response.cache_control.immutable
    assert size_of(await response.get_data(as_text=True)) == 64


async def test_an_unchanged_avatar_is_not_sent_again(client: QuartClient) -> None:
    first = await client.get(f"/avatar/{ADA}?s=64")
    etag = first.headers["ETag"]
    again = await client.get(f"/avatar/{ADA}?s=64", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert await again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert again.cache_control.max_age == first.cache_control.max_age
    # Another size is another image.
    other = await client.get(f"/avatar/{ADA}?s=32", headers={"If-None-Match": etag})
    assert other.status_code == 200
    assert other.headers["ETag"] != etag


async def test_one_hash_and_size_always_draw_the_same_image(
    client: QuartClient,
) -> None:
    first = await avatar(client, f"/avatar/{ADA}?s=64")
    assert await avatar(client, f"/avatar/{ADA}?s=64") == first
    assert (await avatar(client, f"/avatar/{BOB}?s=64"))[1] != first[1]
    assert (await avatar(client, f"/avatar/{ADA}?s=65"))[1] != first[1]


@pytest.mark.parametrize(
    "avatar_hash",
    [
        ADA[:-1],  # too short
        ADA + "0",  # too long
        ADA.upper(),  # the hashes are lowercase hex
        "g" * 64,
        "../" + ADA[3:],
    ],
)
async def test_a_bad_hash_is_not_found(client: QuartClient, avatar_hash: str) -> None:
    assert (await client.get(f"/avatar/{avatar_hash}")).status_code == 404


@pytest.mark.parametrize(
    ("size", "drawn"),
    [
        ("", 80),
        ("s=1", 1),
        ("s=512", 512),
        ("s=100000", 512),
        ("s=0", 80),
        ("s=-5", 80),
        ("s=big", 80),
        ("s=2.5", 80),
        ("s=" + "9" * 5000, 80),  # past int()'s limit on digits
    ],
)
async def test_the_size_is_clamped_and_nonsense_means_the_default(
    client: QuartClient, size: str, drawn: int
) -> None:
    status, svg = await avatar(client, f"/avatar/{ADA}?{size}")
    assert status == 200
    assert size_of(svg) == drawn


def test_the_hash_of_an_email_is_gravatars_whatever_its_case() -> None:
    expected = hashlib.sha256(b"ada@example.com").hexdigest()
    assert avatar_hash_of("Ada@Example.COM", "ada") == expected
    assert avatar_hash_of(" ada@example.com ", "someone.else") == expected
    # Without an email, the username: different users, different avatars.
    assert avatar_hash_of(None, "ada") != avatar_hash_of(None, "bob")
    assert avatar_hash_of(None, "ada") != expected


async def stored_avatar_hash(app: Quart, user_id: int) -> str:
    async with app_database(app).sessionmaker() as session:
        query = select(User.avatar_hash).where(User.id == user_id)
        return (await session.execute(query)).scalar_one()


async def test_an_accounts_avatar_hash_follows_its_email(app: Quart) -> None:
    account = await create_account(app, email="Ada@Example.COM")
    assert await stored_avatar_hash(app, account.id) == ADA

    async with (
        app.test_request_context("/"),
        app_database(app).sessionmaker() as session,
    ):
        assert await credentials.request_email_change(
            session, account, new_email="Ada.New@Example.com", password=PASSWORD
        )
    link = await last_link_to(app, "ada.new@example.com", "Confirm your email address")
    async with app.app_context(), app_database(app).sessionmaker() as session:
        assert await credentials.change_email(session, account, link.rsplit("/")[-1])

    moved = await stored_avatar_hash(app, account.id)
    assert moved == avatar_hash_of("ada.new@example.com", "ada")
    assert moved != ADA


async def test_by_default_the_app_serves_the_avatars(app: Quart) -> None:
    async with app.test_request_context("/"):
        assert avatar_url(ADA) == f"/avatar/{ADA}?s=80"
        assert avatar_url(ADA, 40, external=True) == (
            f"http://localhost/avatar/{ADA}?s=40"
        )
        rendered = await render_template_string("{{ avatar_url(h, 32) }}", h=ADA)
    assert rendered == f"/avatar/{ADA}?s=32"


async def test_avatars_gravatar_links_to_gravatar_with_the_size(
    app_settings: dict[str, object],
) -> None:
    app_settings["AVATARS"] = "gravatar"
    async with started_app(app_settings) as app, app.test_request_context("/"):
        expected = f"https://secure.gravatar.com/avatar/{ADA}?s=256&d=identicon&r=g"
        assert avatar_url(ADA, 256) == expected
        rendered = await render_template_string("{{ avatar_url(h, 256) }}", h=ADA)
    assert rendered == expected.replace("&", "&amp;")
