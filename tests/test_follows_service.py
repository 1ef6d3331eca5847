"""The follows service: idempotent, never of oneself, true counts both ways."""

from __future__ import annotations

import pytest
from quart import Quart
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import writing
from quarty.models import Follow, Permission, User
from quarty.services import follows
from quarty.services.auth import Account
from quarty.services.posts import NotAllowedError
from quarty.services.roles import insert_default_roles
from tests.accounts import create_account


@pytest.fixture
async def people(app: Quart, session: AsyncSession) -> list[Account]:
    await insert_default_roles(session)
    await session.commit()
    return [
        await create_account(app, email=f"{name}@example.com", username=name)
        for name in ("ada", "bob", "cy")
    ]


async def followers_of(session: AsyncSession, user_id: int) -> list[str]:
    page = await follows.list_follows(
        session, user_id=user_id, followers=True, page=1, per_page=50
    )
    return [view.username for view in page.items]


async def test_following_twice_changes_nothing_the_second_time(
    session: AsyncSession, people: list[Account]
) -> None:
    ada, bob, _cy = people
    assert await follows.follow(session, follower=ada, followed_id=bob.id) == (
        follows.Change.DONE
    )
    assert await follows.follow(session, follower=ada, followed_id=bob.id) == (
        follows.Change.ALREADY
    )
    assert await followers_of(session, bob.id) == ["ada"]
    assert await follows.is_following(session, follower_id=ada.id, followed_id=bob.id)
    assert not await follows.is_following(
        session, follower_id=bob.id, followed_id=ada.id
    )


async def test_unfollowing_twice_changes_nothing_the_second_time(
    session: AsyncSession, people: list[Account]
) -> None:
    ada, bob, _cy = people
    await follows.follow(session, follower=ada, followed_id=bob.id)
    assert await follows.unfollow(session, follower=ada, followed_id=bob.id) == (
        follows.Change.DONE
    )
    assert await follows.unfollow(session, follower=ada, followed_id=bob.id) == (
        follows.Change.ALREADY
    )
    assert await followers_of(session, bob.id) == []


async def test_nobody_follows_themself_not_even_through_the_table(
    session: AsyncSession, people: list[Account]
) -> None:
    ada = people[0]
    with pytest.raises(follows.FollowError, match=r"You cannot follow yourself\."):
        await follows.follow(session, follower=ada, followed_id=ada.id)
    # The database refuses it too (the book stored one per user).
    with pytest.raises(IntegrityError):
        async with writing(session):
            session.add(Follow(follower_id=ada.id, followed_id=ada.id))
    assert await followers_of(session, ada.id) == []


async def test_only_accounts_are_followed_and_only_with_follow(
    session: AsyncSession, people: list[Account]
) -> None:
    ada, bob, _cy = people
    name_only = User(username="Dave")  # as the name form makes one
    async with writing(session):
        session.add(name_only)
    for target in (name_only.id, 999_999):
        with pytest.raises(follows.FollowError, match=r"Invalid user\."):
            await follows.follow(session, follower=ada, followed_id=target)
    reader = ada._replace(permissions=Permission.COMMENT)
    with pytest.raises(NotAllowedError):
        await follows.follow(session, follower=reader, followed_id=bob.id)
    with pytest.raises(NotAllowedError):
        await follows.unfollow(session, follower=reader, followed_id=bob.id)
    assert (await session.execute(select(Follow))).first() is None


async def test_the_lists_run_newest_first_with_true_counts_and_pages(
    session: AsyncSession, people: list[Account]
) -> None:
    ada, bob, cy = people
    await follows.follow(session, follower=ada, followed_id=cy.id)
    await follows.follow(session, follower=bob, followed_id=cy.id)
    await follows.follow(session, follower=cy, followed_id=ada.id)
    first = await follows.list_follows(
        session, user_id=cy.id, followers=True, page=1, per_page=1
    )
    second = await follows.list_follows(
        session, user_id=cy.id, followers=True, page=2, per_page=1
    )
    past = await follows.list_follows(
        session, user_id=cy.id, followers=True, page=9, per_page=1
    )
    assert [v.username for v in [*first.items, *second.items]] == ["bob", "ada"]
    assert (first.total, past.total, past.items) == (2, 2, [])
    assert first.items[0].timestamp.tzinfo is not None
    followed = await follows.list_follows(
        session, user_id=cy.id, followers=False, page=1, per_page=50
    )
    assert ([v.username for v in followed.items], followed.total) == (["ada"], 1)


async def test_deleting_a_user_deletes_their_follows_both_ways_only(
    session: AsyncSession, people: list[Account]
) -> None:
    ada, bob, cy = people
    await follows.follow(session, follower=ada, followed_id=bob.id)
    await follows.follow(session, follower=bob, followed_id=ada.id)
    await follows.follow(session, follower=cy, followed_id=ada.id)
    async with writing(session):
        await session.execute(delete(User).where(User.id == bob.id))
    pairs = (
        await session.execute(select(Follow.follower_id, Follow.followed_id))
    ).all()
    assert [tuple(pair) for pair in pairs] == [(cy.id, ada.id)]
