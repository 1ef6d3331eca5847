"""argon2id password hashes, worked out off the event loop.

Hashing costs tens of milliseconds of CPU by design; run on the loop it would
stall every other request, so each hash and check goes to a worker thread. A
few at a time: each holds ARGON2_MEMORY_COST of memory and cores' worth of CPU,
and a burst of logins would otherwise starve the loop's other requests.
"""

from __future__ import annotations

import asyncio
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from quart import Quart, current_app

EXTENSION_KEY = "quarty.passwords"


class Verdict(NamedTuple):
    """Whether a password matched, and its new hash when the stored one is stale."""

    matches: bool
    new_hash: str | None = None


class Passwords:
    """The app's hasher, and a hash of nothing to check unknown accounts against."""

    def __init__(self, hasher: PasswordHasher, *, max_concurrent: int = 2) -> None:
        self.hasher = hasher
        self._slots = asyncio.Semaphore(max_concurrent)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> Verdict:
        """Check a password; without a stored hash, spend the same time and fail.

        Checking a dummy hash for an unknown email makes a failed login take
        as long as a wrong password, so timing does not tell which emails exist.
        """
        if stored_hash is None:
            stored_hash = await self._dummy()
            await self._in_thread(stored_hash, password)
            return Verdict(False)
        return await self._in_thread(stored_hash, password)

    async def _in_thread(self, stored_hash: str, password: str) -> Verdict:
        async with self._slots:
            return await asyncio.to_thread(self._verify, stored_hash, password)

    def _verify(self, stored_hash: str, password: str) -> Verdict:
        try:
            self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return Verdict(False)
        if self.hasher.check_needs_rehash(stored_hash):
            return Verdict(True, self.hasher.hash(password))
        return Verdict(True)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("not anybody's password")
        return self._dummy_hash


def init_app(app: Quart) -> None:
    config = app.config
    app.extensions[EXTENSION_KEY] = Passwords(
        PasswordHasher(
            time_cost=config["ARGON2_TIME_COST"],
            memory_cost=config["ARGON2_MEMORY_COST"],
            parallelism=config["ARGON2_PARALLELISM"],
        ),
        max_concurrent=config["ARGON2_MAX_CONCURRENT"],
    )


def get_passwords() -> Passwords:
    """The current app's password hasher."""
    passwords: Passwords = current_app.extensions[EXTENSION_KEY]
    return passwords
