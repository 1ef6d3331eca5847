"""Database work that a hung-up client's cancelled request must still finish."""

from __future__ import annotations

import asyncio

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database, run_to_completion
from quarty.services import accounts
from quarty.services.accounts import register_name


async def test_cancelled_caller_still_commits_the_registration(
    app: Quart, database: Database, session: AsyncSession
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def registration() -> bool:
        async with app.app_context(), database.sessionmaker() as own_session:
            started.set()
            await release.wait()
            _user, created = await register_name(own_session, username="hangup")
            return created

    caller = asyncio.create_task(run_to_completion(registration()))
    await started.wait()
    caller.cancel()
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller

    user = await accounts.get_user_by_username(session, username="hangup")
    assert user is not None


async def test_uncancelled_caller_gets_the_result() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert await run_to_completion(answer()) == 42


async def test_error_of_the_work_reaches_the_caller() -> None:
    async def failing() -> None:
        await asyncio.sleep(0)
        raise LookupError("no such row")

    with pytest.raises(LookupError, match="no such row"):
        await run_to_completion(failing())


async def test_registration_finishes_when_its_request_is_cancelled(
    app: Quart, database: Database, session: AsyncSession
) -> None:
    async with app.app_context(), database.sessionmaker() as request_session:
        request = asyncio.create_task(
            register_name(request_session, username="hung-up")
        )
        await asyncio.sleep(0)  # the registration has started
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
    user = await accounts.get_user_by_username(session, username="hung-up")
    assert user is not None
