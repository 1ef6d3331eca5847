"""API bearer tokens: issue one, find whose it is, revoke it.

A token is random and only its SHA-256 digest is stored, so a copy of the
table lets nobody call the API. A plain digest is enough: 32 random bytes
cannot be guessed from it, unlike a password. Changing or resetting the
password deletes the user's tokens (quarty.services.auth).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, delete
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import run_to_completion, writing
from quarty.models import ApiToken, User
from quarty.services.auth import ACCOUNTS, Account, account_from_row

# 32 bytes, as the standard library recommends: 43 URL-safe characters.
TOKEN_BYTES = 32

# The account and the token's id, in one query.
_LIVE_TOKEN = (
    ACCOUNTS.add_columns(ApiToken.id.label("token_id"))
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.expires_at > bindparam("now"),
    )
)


class TokenHolder(NamedTuple):
    """Who a live token belongs to, and which row it is."""

    account: Account
    token_id: int


def token_digest(token: str) -> str:
    """What the table stores for a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(
    session: AsyncSession, *, user_id: int, lifetime: timedelta
) -> str:
    """A new token for the user, valid for `lifetime`; their expired ones go."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await run_to_completion(
        _insert(session, user_id, token_digest(token), datetime.now(UTC), lifetime)
    )
    return token


async def _insert(
    session: AsyncSession,
    user_id: int,
    token_hash: str,
    now: datetime,
    lifetime: timedelta,
) -> None:
    async with writing(session):
        # Expired rows are never read again; each issue clears the user's own.
        await session.execute(
            delete(ApiToken).where(
                ApiToken.user_id == user_id, ApiToken.expires_at <= now
            )
        )
        session.add(
            ApiToken(user_id=user_id, token_hash=token_hash, expires_at=now + lifetime)
        )


async def token_holder(session: AsyncSession, token: str) -> TokenHolder | None:
    """The account holding this unexpired token, or None."""
    params = {"token_hash": token_digest(token), "now": datetime.now(UTC)}
    row = (await session.execute(_LIVE_TOKEN, params)).first()
    return None if row is None else TokenHolder(account_from_row(row), row.token_id)


async def revoke_token(session: AsyncSession, token_id: int) -> None:
    """Delete the token; a token already gone stays gone."""

    async def delete_row() -> None:
        async with writing(session):
            await session.execute(delete(ApiToken).where(ApiToken.id == token_id))

    await run_to_completion(delete_row())
