"""A real SMTP server on a free loopback port that counts and drops what it gets."""

from __future__ import annotations

import threading
from typing import Any

from aiosmtpd.controller import Controller
from servers import free_port


class _Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.messages += 1
        return "250 OK"


class SmtpSink:
    """Start with start(), read .messages, stop with stop()."""

    def __init__(self) -> None:
        self.port = free_port()
        self._counter = _Counter()
        self._controller = Controller(
            self._counter, hostname="127.0.0.1", port=self.port, ready_timeout=10
        )

    @property
    def messages(self) -> int:
        with self._counter.lock:
            return self._counter.messages

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
