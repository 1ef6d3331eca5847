"""Changing what an account logs in with: its password and its email.

The mailed links are bound to the state they change (the password hash, the
email), so each works once. A new password moves the session version on,
which signs out every other browser, and deletes the account's API tokens.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import run_to_completion, writing
from quarty.models import ApiToken, User, avatar_hash_of
from quarty.security.links import Purpose, fingerprint, make_token, read_token
from quarty.security.passwords import get_passwords
from quarty.services.auth import (
    CREDENTIALS_BY_EMAIL,
    Account,
    account_from_row,
    normalize_email,
    send_link,
)

_PASSWORD_HASH_BY_ID = select(User.password_hash).where(User.id == bindparam("user_id"))


async def change_password(
    session: AsyncSession, account: Account, *, old_password: str, new_password: str
) -> Account | None:
    """Set a new password if the old one is right; None if it is not.

    Every other browser is signed out and every API token revoked; the
    account returned carries the new session version for this browser.
    """
    params = {"user_id": account.id}
    old_hash = (await session.execute(_PASSWORD_HASH_BY_ID, params)).scalar()
    verdict = await get_passwords().verify(old_hash, old_password)
    if old_hash is None or not verdict.matches:
        return None
    new_hash = await get_passwords().hash(new_password)
    if not await run_to_completion(
        _set_password(session, account.id, old_hash, new_hash)
    ):
        return None
    return account._replace(session_version=account.session_version + 1)


async def _set_password(
    session: AsyncSession, user_id: int, old_hash: str, new_hash: str
) -> bool:
    async with writing(session):
        result = await session.execute(
            update(User)
            .where(User.id == user_id, User.password_hash == old_hash)
            .values(password_hash=new_hash, session_version=User.session_version + 1)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        await session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    return True


async def request_password_reset(session: AsyncSession, email: str) -> None:
    """Queue the reset mail if an account has this email; say nothing either way."""
    params = {"email": normalize_email(email)}
    row = (await session.execute(CREDENTIALS_BY_EMAIL, params)).first()
    if row is None:
        return
    token = make_token(
        Purpose.RESET_PASSWORD,
        {"reset": row.id, "state": fingerprint(row.password_hash)},
    )
    await send_link(
        row.email,
        "Reset Your Password",
        "auth/email/reset_password",
        account_from_row(row),
        token,
    )


async def reset_password(session: AsyncSession, token: str, new_password: str) -> bool:
    """Set the password a valid reset link is for; False for a dead link.

    The link is bound to the password it replaces, so it works once.
    """
    payload = read_token(Purpose.RESET_PASSWORD, token)
    user_id = None if payload is None else payload.get("reset")
    if not isinstance(user_id, int) or payload is None:
        return False
    params = {"user_id": user_id}
    old_hash = (await session.execute(_PASSWORD_HASH_BY_ID, params)).scalar()
    if old_hash is None or fingerprint(old_hash) != payload.get("state"):
        return False
    new_hash = await get_passwords().hash(new_password)
    return await run_to_completion(_set_password(session, user_id, old_hash, new_hash))


async def request_email_change(
    session: AsyncSession, account: Account, *, new_email: str, password: str
) -> bool:
    """Mail a confirmation link to the new address; False for a wrong password."""
    params = {"user_id": account.id}
    password_hash = (await session.execute(_PASSWORD_HASH_BY_ID, params)).scalar()
    verdict = await get_passwords().verify(password_hash, password)
    if not verdict.matches:
        return False
    new_email = normalize_email(new_email)
    token = make_token(
        Purpose.CHANGE_EMAIL,
        {
            "change_email": account.id,
            "new_email": new_email,
            "state": fingerprint(account.email),
        },
    )
    await send_link(
        new_email,
        "Confirm your email address",
        "auth/email/change_email",
        account,
        token,
    )
    return True


async def change_email(session: AsyncSession, account: Account, token: str) -> bool:
    """Move the account to the address a valid link confirms; False otherwise.

    The link is bound to the current address, so it works once, and is
    refused when another account has taken the new address meanwhile.
    """
    payload: dict[str, Any] = read_token(Purpose.CHANGE_EMAIL, token) or {}
    new_email = payload.get("new_email")
    if (
        payload.get("change_email") != account.id
        or payload.get("state") != fingerprint(account.email)
        or not isinstance(new_email, str)
    ):
        return False
    try:
        return await run_to_completion(
            _set_email(session, account.id, account.email, new_email)
        )
    except IntegrityError:
        return False


async def _set_email(
    session: AsyncSession, user_id: int, old_email: str, new_email: str
) -> bool:
    async with writing(session):
        result = await session.execute(
            update(User)
            .where(User.id == user_id, User.email == old_email)
            .values(email=new_email, avatar_hash=avatar_hash_of(new_email, ""))
        )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
