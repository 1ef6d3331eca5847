"""A real SMTP server on a free loopback port that counts and drops what it gets."""

from __future__ import annotations

import threading
from typing import Any

from aiosmtpd.controller import Controller
from servers import start_on_a_free_port


class _Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.messages += 1
        return "250 OK"


class SmtpSink:
    """Start with start(), then read .port and .messages; stop with stop()."""

    def __init__(self) -> None:
        self.port = 0  # chosen by start()
        self._counter = _Counter()
        self._controller: Controller | None = None

    @property
    def messages(self) -> int:
        with self._counter.lock:
            return self._counter.messages

    def start(self) -> None:
        self._controller = start_on_a_free_port(self._start_on)
        self.port = self._controller.port

    def _start_on(self, port: int) -> Controller:
        controller = Controller(
            self._counter, hostname="127.0.0.1", port=port, ready_timeout=10
        )
        try:
            controller.start()
        except OSError:
            controller.loop.close()  # its thread ended without serving
            raise
        return controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
