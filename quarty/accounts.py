"""Registering people by name: the one path the name form and the API share."""

from __future__ import annotations

from functools import partial

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from quarty import crud
from quarty.crud import UserSummary
from quarty.db import run_to_completion, write_and_commit
from quarty.mail import notify_sender, outbox, render_new_user_mail
from quarty.mail.message import RenderedMail
from quarty.models import USERNAME_MAX_LENGTH


async def register_name(
    session: AsyncSession, *, username: str
) -> tuple[UserSummary, bool]:
    """Get or create the user and commit; return it and whether it is new.

    A new user's "New User" mail to QUARTY_ADMIN enters the outbox in the same
    transaction, and the app's sender is woken only once both are committed.
    The transaction runs to its end even if the client hangs up meanwhile.
    """
    return await run_to_completion(_register_name(session, username=username))


async def _register_name(
    session: AsyncSession, *, username: str
) -> tuple[UserSummary, bool]:
    known = await crud.get_user_by_username(session, username=username)
    if known is not None:
        return known, False
    # Rendered first, so that the write transaction holds only the writes.
    mail = await render_new_user_mail(username=username)
    user_id, mail_id = await write_and_commit(
        session, partial(_insert_user_and_mail, username=username, mail=mail)
    )
    if mail_id is not None:
        notify_sender(mail_id)
    if user_id is not None:
        # The row as inserted: nothing gives a new user a role.
        return UserSummary(user_id, username, None, None), True
    # Another request added the name since it was looked up.
    user = await crud.get_user_by_username(session, username=username)
    if user is None:  # pragma: no cover - deleted in between
        raise LookupError(f"user {username!r} vanished during creation")
    return user, False


def _insert_user_and_mail(
    connection: Connection, *, username: str, mail: RenderedMail | None
) -> tuple[int | None, int | None]:
    # Another request may have added the name since it was looked up: then
    # nothing is inserted and nobody is told twice.
    user_id = crud.insert_user(connection, username=username)
    if user_id is None or mail is None:
        return user_id, None
    return user_id, outbox.insert_message(connection, mail)


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
