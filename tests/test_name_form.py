"""The name form at /: greetings, the session, flashes, CSRF and bad input."""

from __future__ import annotations

import asyncio

from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.models import User
from tests.helpers import client_of, get_csrf_token, submit_name


async def count_users(session: AsyncSession, username: str | None = None) -> int:
    query = select(func.count()).select_from(User)
    if username is not None:
        query = query.where(User.username == username)
    return (await session.execute(query)).scalar_one()


async def test_stranger_is_greeted_with_a_form(client: QuartClient) -> None:
    response = await client.get("/")
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hello, Stranger!" in html
    assert "What is your name?" in html
    assert 'name="csrf_token"' in html


async def test_new_name_is_stored_and_greeted_as_new(
    client: QuartClient, session: AsyncSession
) -> None:
    token = await get_csrf_token(client)
    response = await client.post("/", form={"name": "susan", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

    html = await (await client.get("/")).get_data(as_text=True)
    assert "Hello, susan!" in html
    assert "Pleased to meet you!" in html
    assert await count_users(session, "susan") == 1


async def test_known_name_is_welcomed_back(
    client: QuartClient, session: AsyncSession
) -> None:
    await submit_name(client, "john")
    html = await submit_name(client, "john", follow=True)
    assert "Hello, john!" in html
    assert "Happy to see you again!" in html
    assert await count_users(session, "john") == 1


async def test_changing_name_flashes_a_dismissible_notice(client: QuartClient) -> None:
    await submit_name(client, "john")
    html = await submit_name(client, "david", follow=True)
    assert "Looks like you have changed your name!" in html
    assert "alert-dismissible" in html
    # A flash shows once.
    html = await (await client.get("/")).get_data(as_text=True)
    assert "Looks like you have changed your name!" not in html


async def test_same_name_again_does_not_flash(client: QuartClient) -> None:
    await submit_name(client, "john")
    html = await submit_name(client, "john", follow=True)
    assert "changed your name" not in html


async def test_name_is_trimmed(client: QuartClient, session: AsyncSession) -> None:
    await submit_name(client, "  padded  ")
    assert await count_users(session, "padded") == 1


async def test_empty_name_rerenders_the_form_with_an_error(
    client: QuartClient, session: AsyncSession
) -> None:
    token = await get_csrf_token(client)
    response = await client.post("/", form={"name": "   ", "csrf_token": token})
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This field is required." in html
    assert "is-invalid" in html
    assert await count_users(session) == 0


async def test_name_over_64_characters_is_a_form_error(
    client: QuartClient, session: AsyncSession
) -> None:
    token = await get_csrf_token(client)
    response = await client.post("/", form={"name": "x" * 65, "csrf_token": token})
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Field cannot be longer than 64 characters." in html
    assert await count_users(session) == 0


async def test_name_of_exactly_64_characters_is_accepted(
    client: QuartClient, session: AsyncSession
) -> None:
    await submit_name(client, "y" * 64)
    assert await count_users(session, "y" * 64) == 1


async def test_markup_in_a_name_is_escaped(client: QuartClient) -> None:
    html = await submit_name(client, "<b>bold</b>", follow=True)
    assert "Hello, &lt;b&gt;bold&lt;/b&gt;!" in html
    assert "<b>bold</b>" not in html


async def test_missing_csrf_token_is_refused(
    client: QuartClient, session: AsyncSession
) -> None:
    await client.get("/")
    response = await client.post("/", form={"name": "mallory"})
    assert response.status_code == 400
    assert "security token" in await response.get_data(as_text=True)
    assert await count_users(session) == 0


async def test_forged_csrf_token_is_refused(
    client: QuartClient, session: AsyncSession
) -> None:
    token = await get_csrf_token(client)
    forged = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    response = await client.post("/", form={"name": "mallory", "csrf_token": forged})
    assert response.status_code == 400
    assert await count_users(session) == 0


async def test_token_from_another_session_is_refused(
    client: QuartClient, app: Quart, session: AsyncSession
) -> None:
    other_client = client_of(app)
    other_token = await get_csrf_token(other_client)
    await client.get("/")
    response = await client.post(
        "/", form={"name": "mallory", "csrf_token": other_token}
    )
    assert response.status_code == 400
    assert await count_users(session) == 0


async def test_token_without_any_session_is_refused(
    client: QuartClient, app: Quart, session: AsyncSession
) -> None:
    # A real token, sent by a client that never got the session cookie.
    token = await get_csrf_token(client_of(app))
    response = await client.post("/", form={"name": "mallory", "csrf_token": token})
    assert response.status_code == 400
    assert "security token" in await response.get_data(as_text=True)
    assert await count_users(session) == 0


async def test_csrf_refusal_is_json_for_json_clients(client: QuartClient) -> None:
    response = await client.post(
        "/", form={"name": "x"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    body = await response.get_json()
    assert body["error"] == "bad request"
    assert "security token" in body["message"]


async def test_body_over_the_limit_is_refused_with_413(
    app: Quart, client: QuartClient, session: AsyncSession
) -> None:
    token = await get_csrf_token(client)
    padding = "x" * app.config["MAX_CONTENT_LENGTH"]
    response = await client.post(
        "/", form={"name": "big", "csrf_token": token, "padding": padding}
    )
    assert response.status_code == 413
    assert await count_users(session) == 0


async def test_racing_submits_of_one_new_name_make_one_row(
    app: Quart, session: AsyncSession
) -> None:
    clients = [client_of(app) for _ in range(8)]
    tokens = [await get_csrf_token(c) for c in clients]
    responses = await asyncio.gather(
        *(
            c.post("/", form={"name": "racer", "csrf_token": t})
            for c, t in zip(clients, tokens, strict=True)
        )
    )
    assert [r.status_code for r in responses] == [302] * len(clients)
    assert await count_users(session, "racer") == 1
    # Exactly one of the racers was the one who created it.
    greetings = [await (await c.get("/")).get_data(as_text=True) for c in clients]
    assert sum("Pleased to meet you!" in g for g in greetings) == 1
    assert sum("Happy to see you again!" in g for g in greetings) == len(clients) - 1


async def test_user_page_greets_a_known_name(client: QuartClient) -> None:
    await submit_name(client, "dave")
    response = await client.get("/user/dave")
    assert response.status_code == 200
    assert "Hello, Dave!" in await response.get_data(as_text=True)


async def test_user_page_of_an_unknown_name_is_not_found(client: QuartClient) -> None:
    assert (await client.get("/user/nobody")).status_code == 404


async def test_session_cookie_is_httponly_and_samesite(client: QuartClient) -> None:
    await submit_name(client, "cookie")
    token = await get_csrf_token(client)
    response = await client.post("/", form={"name": "cookie2", "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


async def test_nul_character_in_a_name_is_a_form_error(
    client: QuartClient, session: AsyncSession
) -> None:
    token = await get_csrf_token(client)
    response = await client.post("/", form={"name": "nul\x00name", "csrf_token": token})
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The name must not contain NUL characters." in html
    assert await count_users(session) == 0
