"""Registering people by name: the one path the name form and the API share."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quarty import crud
from quarty.db import run_to_completion
from quarty.mail import notify_sender, queue_new_user_mail
from quarty.models import USERNAME_MAX_LENGTH, User


async def register_name(session: AsyncSession, *, username: str) -> tuple[User, bool]:
    """Get or create the user and commit; return it and whether it is new.

    A new user's "New User" mail to QUARTY_ADMIN enters the outbox in the same
    transaction, and the app's sender is woken only once both are committed.
    The transaction runs to its end even if the client hangs up meanwhile.
    """
    return await run_to_completion(_register_name(session, username=username))


async def _register_name(session: AsyncSession, *, username: str) -> tuple[User, bool]:
    user, created = await crud.get_or_create_user(session, username=username)
    mail_id = None
    if created:
        mail_id = await queue_new_user_mail(session, username=user.username)
    await session.commit()
    if mail_id is not None:
        notify_sender(mail_id)
    return user, created


def clean_username(value: str) -> str:
    """The username trimmed, or ValueError saying which rule it breaks."""
    username = value.strip()
    if not username:
        raise ValueError("must not be blank")
    if len(username) > USERNAME_MAX_LENGTH:
        raise ValueError(
            f"must be at most {USERNAME_MAX_LENGTH} characters once trimmed, "
            f"not {len(username)}"
        )
    if "\x00" in username:
        raise ValueError("must not contain NUL characters")
    try:
        username.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return username
