"""A signed-in user's last_seen, written at most once per QUARTY_LAST_SEEN_INTERVAL.

The request decides from the last_seen its account was loaded with, and only
when that is stale hands the write to a background task with a session of its
own: a page never waits for it. The UPDATE is conditional
(quarty.services.profiles.touch_last_seen), so processes that decide at once
write once; within a process, a write already handed off for the same stale
value is not handed off again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from quart import current_app

from quarty.db import get_database
from quarty.services.auth import Account
from quarty.services.profiles import last_seen_is_stale, touch_last_seen

EXTENSION_KEY = "quarty.last_seen"
# Past this many handed-off writes not yet seen back, forget them all: at
# worst a few conditional UPDATEs that change nothing.
_MAX_PENDING = 10_000


def _pending() -> dict[int, datetime]:
    """The app's writes handed off and not yet seen back: user id -> stale value."""
    pending: dict[int, datetime] = current_app.extensions.setdefault(EXTENSION_KEY, {})
    return pending


def note_seen(account: Account) -> None:
    """Have the account's last_seen written after this request, if it is stale."""
    pending = _pending()
    stale_after = timedelta(seconds=current_app.config["QUARTY_LAST_SEEN_INTERVAL"])
    if not last_seen_is_stale(account.last_seen, stale_after=stale_after):
        # The write, if there was one, is seen: the next stale value is new.
        pending.pop(account.id, None)
        return
    # A request that loaded the account before the write committed sees the
    # same stale value: that write is already on its way.
    if pending.get(account.id) == account.last_seen:
        return
    if len(pending) >= _MAX_PENDING:
        pending.clear()
    pending[account.id] = account.last_seen
    current_app.add_background_task(
        _write_last_seen, account.id, account.last_seen, stale_after
    )


async def _write_last_seen(
    user_id: int, stale_value: datetime, stale_after: timedelta
) -> None:
    try:
        async with get_database().sessionmaker() as session:
            await touch_last_seen(session, user_id=user_id, stale_after=stale_after)
    except BaseException:
        # Let the next request try again.
        pending = _pending()
        if pending.get(user_id) == stale_value:
            del pending[user_id]
        raise
