"""Password hashes: argon2id, off the event loop, a few at a time."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from argon2 import PasswordHasher

from quarty.security.passwords import Passwords


class WatchedHasher(PasswordHasher):
    """A real hasher that notes how many hashes run at once, and on which thread."""

    def __init__(self, **costs: Any) -> None:
        super().__init__(**costs)
        self.lock = threading.Lock()
        self.running = 0
        self.most_at_once = 0
        self.threads: set[int] = set()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.threads.add(threading.get_ident())
        try:
            return super().hash(password, salt=salt)
        finally:
            with self.lock:
                self.running -= 1


async def test_hashes_run_off_the_loop_and_no_more_than_allowed_at_once() -> None:
    hasher = WatchedHasher(time_cost=2, memory_cost=16 * 1024, parallelism=1)
    passwords = Passwords(hasher, max_concurrent=2)
    hashes = await asyncio.gather(*(passwords.hash(f"password {n}") for n in range(6)))
    assert len(set(hashes)) == 6
    assert hasher.most_at_once == 2
    assert threading.get_ident() not in hasher.threads


async def test_a_stale_hash_is_renewed_and_a_wrong_password_is_not_accepted() -> None:
    old = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    new = Passwords(PasswordHasher(time_cost=2, memory_cost=8, parallelism=1))
    stored = await old.hash("secret words")
    assert (await new.verify(stored, "wrong words")).matches is False
    verdict = await new.verify(stored, "secret words")
    assert verdict.matches
    assert verdict.new_hash is not None
    assert (await new.verify(verdict.new_hash, "secret words")).new_hash is None
    assert (await new.verify(None, "secret words")).matches is False
