"""Accounts that log in: look them up, register, authenticate, confirm.

A change that causes a mail queues it in the outbox in the change's own
transaction, and wakes the sender only after the commit. Changing the
password or the email is quarty.services.credentials.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from quart import current_app
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import run_to_completion, writing
from quarty.mail import (
    notify_sender,
    outbox,
    render_email,
    render_new_user_mail,
    send_email,
)
from quarty.mail.message import RenderedMail
from quarty.models import ADMINISTRATOR_ROLE, Permission, Role, User
from quarty.security.links import Purpose, make_token, read_token
from quarty.security.passwords import get_passwords

PASSWORD_MIN_LENGTH = 8
# Long enough for any passphrase, short enough that nobody makes the server
# hash megabytes.
PASSWORD_MAX_LENGTH = 256


class Account(NamedTuple):
    """A user who can log in, as the pages and the API see them."""

    id: int
    username: str
    email: str
    confirmed: bool
    session_version: int
    role_id: int | None
    role_name: str | None
    permissions: int
    # When the account was last seen, to within QUARTY_LAST_SEEN_INTERVAL
    # (quarty.auth.last_seen); naive UTC on SQLite.
    last_seen: datetime

    def can(self, permission: Permission) -> bool:
        """Whether the account's role grants every bit of this permission."""
        return self.permissions & permission == permission

    def is_administrator(self) -> bool:
        return self.can(Permission.ADMIN)

    @property
    def auth_id(self) -> str:
        """The id in the sign-in cookie: stale once the session version moves on."""
        return f"{self.id}:{self.session_version}"


class AccountError(Exception):
    """A change refused for a reason the user can act on; str() says which."""


class EmailTakenError(AccountError):
    def __init__(self) -> None:
        super().__init__("Email already registered.")


class UsernameTakenError(AccountError):
    def __init__(self) -> None:
        super().__init__("Username already in use.")


class UnknownRoleError(AccountError):
    def __init__(self, role_name: str) -> None:
        super().__init__(f"There is no role named {role_name!r}.")


# The columns of an Account, for the queries that load one.
ACCOUNTS = (
    select(
        User.id,
        User.username,
        User.email,
        User.confirmed,
        User.session_version,
        Role.id.label("role_id"),
        Role.name.label("role_name"),
        func.coalesce(Role.permissions, 0).label("permissions"),
        User.last_seen,
    )
    .outerjoin(User.role)
    # A name-only user has no email and no password: never an account.
    .where(User.email.is_not(None), User.password_hash.is_not(None))
)
_ACCOUNT_BY_ID = ACCOUNTS.where(User.id == bindparam("user_id"))
CREDENTIALS_BY_EMAIL = ACCOUNTS.add_columns(User.password_hash).where(
    User.email == bindparam("email")
)


def account_from_row(row: Any) -> Account:
    """The Account in the first columns of a row of ACCOUNTS."""
    # The query's WHERE makes the email non-null.
    return Account(*row[:9])


def normalize_email(email: str) -> str:
    """Emails are stored and compared lowercased, as the book compares them."""
    return email.strip().lower()


async def get_account(session: AsyncSession, user_id: int) -> Account | None:
    row = (await session.execute(_ACCOUNT_BY_ID, {"user_id": user_id})).first()
    return None if row is None else account_from_row(row)


async def account_for_auth_id(session: AsyncSession, auth_id: str) -> Account | None:
    """The account a sign-in cookie names, unless its session version is stale."""
    user_id, _, version = auth_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    account = await get_account(session, int(user_id))
    if account is None or account.session_version != int(version):
        return None
    return account


async def email_is_registered(session: AsyncSession, email: str) -> bool:
    query = select(User.id).where(User.email == normalize_email(email))
    return (await session.execute(query)).first() is not None


async def username_is_taken(session: AsyncSession, username: str) -> bool:
    query = select(User.id).where(User.username == username)
    return (await session.execute(query)).first() is not None


async def authenticate(
    session: AsyncSession, *, email: str, password: str
) -> Account | None:
    """The account with this email and password, or None.

    An unknown email costs a password check too, so that a failed login takes
    about as long either way. A hash made with outdated costs is replaced.
    """
    params = {"email": normalize_email(email)}
    row = (await session.execute(CREDENTIALS_BY_EMAIL, params)).first()
    verdict = await get_passwords().verify(
        None if row is None else row.password_hash, password
    )
    if row is None or not verdict.matches:
        return None
    if verdict.new_hash is not None:
        await run_to_completion(
            _replace_hash(session, row.id, row.password_hash, verdict.new_hash)
        )
    return account_from_row(row)


async def _replace_hash(
    session: AsyncSession, user_id: int, old_hash: str, new_hash: str
) -> None:
    async with writing(session):
        # Only if nothing changed the password since it was checked.
        await session.execute(
            update(User)
            .where(User.id == user_id, User.password_hash == old_hash)
            .values(password_hash=new_hash)
        )


async def register_account(
    session: AsyncSession, *, email: str, username: str, password: str
) -> Account:
    """Create an unconfirmed account and queue its confirmation mail.

    Raises EmailTakenError or UsernameTakenError, even when another request takes the
    email or name between the check and the insert.
    """
    email = normalize_email(email)
    if await email_is_registered(session, email):
        raise EmailTakenError()
    if await username_is_taken(session, username):
        raise UsernameTakenError()
    password_hash = await get_passwords().hash(password)
    new_user_mail = await render_new_user_mail(username=username)
    role_id = await role_of_new_account(session, email)
    user = User(
        email=email, username=username, password_hash=password_hash, role_id=role_id
    )
    await run_to_completion(_insert_account(session, user, new_user_mail))
    account = await get_account(session, user.id)
    assert account is not None
    return account


async def role_of_new_account(session: AsyncSession, email: str) -> int | None:
    # QUARTY_ADMIN's account is the administrator; everyone else gets the default.
    admin = current_app.config.get("QUARTY_ADMIN")
    if admin and email == normalize_email(admin):
        query = select(Role.id).where(Role.name == ADMINISTRATOR_ROLE)
    else:
        query = select(Role.id).where(Role.default.is_(True))
    return (await session.execute(query)).scalar()


async def _insert_account(
    session: AsyncSession, user: User, new_user_mail: RenderedMail | None
) -> None:
    email, username = str(user.email), user.username
    try:
        async with writing(session):
            session.add(user)
            await session.flush()  # the id, which the confirmation link carries
            messages = [
                outbox.add_message(
                    session, await _confirmation_mail(user.id, username, email)
                )
            ]
            if new_user_mail is not None:
                messages.append(outbox.add_message(session, new_user_mail))
    except IntegrityError:
        if await email_is_registered(session, email):
            raise EmailTakenError() from None
        if await username_is_taken(session, username):
            raise UsernameTakenError() from None
        raise
    for message in messages:
        notify_sender(message.id)


async def _confirmation_mail(user_id: int, username: str, email: str) -> RenderedMail:
    token = make_token(Purpose.CONFIRM, {"confirm": user_id})
    return await render_email(
        email,
        "Confirm Your Account",
        "auth/email/confirm",
        username=username,
        token=token,
    )


async def resend_confirmation(account: Account) -> None:
    """Queue a new confirmation mail for an unconfirmed account."""
    token = make_token(Purpose.CONFIRM, {"confirm": account.id})
    await send_link(
        account.email, "Confirm Your Account", "auth/email/confirm", account, token
    )


async def send_link(
    to: str, subject: str, template: str, account: Account, token: str
) -> None:
    """Mail an account's link in a transaction of its own, which runs to its end."""
    await run_to_completion(
        send_email(to, subject, template, username=account.username, token=token)
    )


async def confirm_account(session: AsyncSession, account: Account, token: str) -> bool:
    """Confirm the account if the token is its own and still valid."""
    payload = read_token(Purpose.CONFIRM, token)
    if payload is None or payload.get("confirm") != account.id:
        return False
    async with writing(session):
        await session.execute(
            update(User).where(User.id == account.id).values(confirmed=True)
        )
    return True
