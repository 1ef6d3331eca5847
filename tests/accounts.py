"""Helpers for tests of accounts: make one, read its mailed links, log in."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

from quart import Quart, Response
from quart.testing import QuartClient
from sqlalchemy import select, update

from quarty.db import writing
from quarty.models import OutboxMessage, User
from quarty.services import auth as accounts
from tests.helpers import app_database, get_csrf_token

PASSWORD = "correct horse battery"
LINK = re.compile(r"https?://[^\s\"<>]+/auth/[a-z_-]+/[A-Za-z0-9_.\-]+")


async def create_account(
    app: Quart,
    *,
    email: str = "ada@example.com",
    username: str = "ada",
    password: str = PASSWORD,
    confirmed: bool = True,
) -> accounts.Account:
    """An account made as registration makes it, confirmed unless told otherwise."""
    async with (
        app.test_request_context("/"),
        app_database(app).sessionmaker() as session,
    ):
        account = await accounts.register_account(
            session, email=email, username=username, password=password
        )
        if confirmed:
            async with writing(session):
                await session.execute(
                    update(User).where(User.id == account.id).values(confirmed=True)
                )
            account = account._replace(confirmed=True)
    return account


async def mails_to(app: Quart, address: str) -> list[EmailMessage]:
    """The messages in the outbox for this address, oldest first."""
    async with app_database(app).sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxMessage.message)
            .where(OutboxMessage.recipient == address)
            .order_by(OutboxMessage.id)
        )
        return [
            email.message_from_string(text, policy=email.policy.default)
            for text in rows
        ]


def link_in(message: EmailMessage) -> str:
    """The account link in a mail's plain-text part."""
    body = message.get_body(("plain",))
    assert body is not None
    match = LINK.search(body.get_content())
    assert match, "the mail has no account link"
    return match.group(0)


async def last_link_to(app: Quart, address: str, subject: str) -> str:
    """The link in the newest mail with this subject to this address."""
    found = [m for m in await mails_to(app, address) if subject in str(m["Subject"])]
    assert found, f"no {subject!r} mail to {address}"
    return link_in(found[-1])


async def log_in(
    client: QuartClient,
    email: str = "ada@example.com",
    password: str = PASSWORD,
    *,
    remember: bool = False,
    next_url: str | None = None,
) -> str:
    """POST the login form; return where it redirects (the Location header)."""
    token = await get_csrf_token(client, "/auth/login")
    form = {"email": email, "password": password, "csrf_token": token}
    if remember:
        form["remember_me"] = "y"
    path = "/auth/login" if next_url is None else f"/auth/login?next={next_url}"
    response = await client.post(path, form=form)
    return response.headers.get("Location", "")


async def submit(
    client: QuartClient, path: str, form_page: str | None = None, **fields: str
) -> Response:
    """POST a form as a browser would: its page first, for the CSRF token, then
    the POST, naming that page as its Referer."""
    page = form_page or path
    token = await get_csrf_token(client, page)
    return await client.post(
        path,
        form={**fields, "csrf_token": token},
        headers={"Referer": f"http://localhost{page}"},
    )


async def page_text(client: QuartClient, path: str) -> str:
    """GET a page, following redirects; its HTML."""
    response = await client.get(path, follow_redirects=True)
    return await response.get_data(as_text=True)


def path_of(link: str) -> str:
    """The path of an absolute link from a mail, for the test client."""
    return "/" + link.split("://", 1)[1].split("/", 1)[1]
