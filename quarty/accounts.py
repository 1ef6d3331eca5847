"""Registering people by name: the one path the name form and the API share."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quarty import crud
from quarty.models import User


async def register_name(session: AsyncSession, *, username: str) -> tuple[User, bool]:
    """Get or create the user and commit; return it and whether it is new."""
    user, created = await crud.get_or_create_user(session, username=username)
    await session.commit()
    return user, created
