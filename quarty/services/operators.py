"""What an operator does to accounts from the command line: create one
confirmed, confirm one, list them all."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.models import Role, User
from quarty.security.passwords import get_passwords
from quarty.services.auth import (
    ACCOUNTS,
    Account,
    EmailTakenError,
    UnknownRoleError,
    UsernameTakenError,
    account_from_row,
    email_is_registered,
    get_account,
    normalize_email,
    role_of_new_account,
    username_is_taken,
)


async def create_account(
    session: AsyncSession,
    *,
    email: str,
    username: str,
    password: str,
    role_name: str | None = None,
) -> Account:
    """An operator's account: confirmed at once, no mail, with the role named.

    Without a role name it gets the one registration would give it.

    Raises EmailTakenError, UsernameTakenError or UnknownRoleError.
    """
    email = normalize_email(email)
    if await email_is_registered(session, email):
        raise EmailTakenError()
    if await username_is_taken(session, username):
        raise UsernameTakenError()
    role_id = await role_of_new_account(session, email)
    if role_name is not None:
        query = select(Role.id).where(Role.name == role_name)
        role_id = (await session.execute(query)).scalar()
        if role_id is None:
            raise UnknownRoleError(role_name)
    password_hash = await get_passwords().hash(password)
    try:
        async with writing(session):
            user = User(
                email=email,
                username=username,
                password_hash=password_hash,
                confirmed=True,
                role_id=role_id,
            )
            session.add(user)
    except IntegrityError:
        if await email_is_registered(session, email):
            raise EmailTakenError() from None
        raise UsernameTakenError() from None
    account = await get_account(session, user.id)
    assert account is not None
    return account


async def confirm_email(session: AsyncSession, email: str) -> bool:
    """Confirm the account with this email; False if there is none."""
    async with writing(session):
        result = await session.execute(
            update(User)
            .where(
                User.email == normalize_email(email), User.password_hash.is_not(None)
            )
            .values(confirmed=True)
        )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def list_accounts(session: AsyncSession) -> list[Account]:
    """Every account that can log in, by id (name-only users are left out)."""
    rows = (await session.execute(ACCOUNTS.order_by(User.id))).all()
    return [account_from_row(row) for row in rows]
