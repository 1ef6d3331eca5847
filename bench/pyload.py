"""The bundled load generator, for machines without wrk: HTTP/1.1 keep-alive over
asyncio, one task per connection, bounded by a deadline and a request cap.

Run by loadgen.py as `python pyload.py '<job json>'`; prints one JSON line.
It sends what load.lua sends, scenario for scenario.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from loadgen import LoadResult
from scenarios import SEED_NAME_FORMAT

MAX_REQUESTS_PER_PROCESS = 5_000_000
CSRF_INPUT = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')


class Traffic:
    """Chooses each next request and judges each response, like load.lua."""

    def __init__(self, scenario: dict[str, Any], worker: int, host: str) -> None:
        self.scenario = scenario
        self.worker = worker
        self.host = host
        self.serial = 0
        self.rotate_n = scenario["first"]
        self.redirects: list[str] = []
        self.forms: list[tuple[str, str]] = []
        self.unexpected = 0
        self.flows = 0

    def _unique(self) -> str:
        """A label no other request of this run has: new names, post bodies."""
        self.serial += 1
        return f"{self.scenario['name_prefix']}-p{self.worker}-{self.serial}"

    def _name(self) -> str:
        if self.scenario["names"] == "known":
            seeded = max(self.scenario["seeded_users"], 1)
            return SEED_NAME_FORMAT % random.randint(1, seeded)
        return self._unique()

    def _format(
        self, method: str, path: str, cookie: str = "", body: str = ""
    ) -> tuple[str, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"]
        if cookie:
            lines.append(f"Cookie: {cookie}")
        if method == "POST":
            lines.append("Content-Type: application/x-www-form-urlencoded")
            lines.append(f"Content-Length: {len(body.encode())}")
        return method, ("\r\n".join(lines) + "\r\n\r\n" + body).encode()

    def _form(
        self, path: str, cookie: str, fields: dict[str, str]
    ) -> tuple[str, bytes]:
        body = "&".join(
            f"{key}={quote(value, safe='')}" for key, value in fields.items()
        )
        return self._format("POST", path, cookie, body)

    def _post(self, cookie: str, token: str, name: str) -> tuple[str, bytes]:
        return self._form("/", cookie, {"name": name, "csrf_token": token})

    def _login(self, cookie: str, token: str) -> tuple[str, bytes]:
        fields = {
            "email": self.scenario["email"],
            "password": self.scenario["password"],
            "csrf_token": token,
        }
        return self._form(self.scenario["path"], cookie, fields)

    def _write(self) -> tuple[str, bytes]:
        fields = {
            "body": self.scenario["post_body"] % self._unique(),
            "csrf_token": self.scenario["token"],
            "submit": "Submit",
        }
        return self._form(self.scenario["path"], self.scenario["cookie"], fields)

    def _keep_form(self, cookie: str | None, body: bytes) -> bool:
        """Keep a form's session cookie and token for its POST; False if absent."""
        match = CSRF_INPUT.search(body)
        if cookie and match:
            self.forms.append((cookie, match.group(1).decode()))
            return True
        return False

    def next_request(self) -> tuple[str, bytes]:
        kind = self.scenario["kind"]
        if kind == "rotate":
            path = self.scenario["path_format"] % self.rotate_n
            self.rotate_n += 1
            if self.rotate_n > self.scenario["last"]:
                self.rotate_n = self.scenario["first"]
            return self._format("GET", path)
        if kind == "flow":
            if self.redirects:
                return self._format("GET", "/", self.redirects.pop())
            if self.forms:
                cookie, token = self.forms.pop()
                return self._post(cookie, token, self._name())
            return self._format("GET", "/")
        if kind == "post":
            name = self._name() if self.scenario["names"] == "new" else "user0001"
            return self._post(self.scenario["cookie"], self.scenario["token"], name)
        if kind == "login":
            if self.forms:
                return self._login(*self.forms.pop())
            return self._format("GET", self.scenario["path"])
        if kind == "write":
            return self._write()
        return self._format(
            self.scenario["method"], self.scenario["path"], self.scenario["cookie"]
        )

    def judge(self, status: int, headers: Headers, body: bytes) -> None:
        kind = self.scenario["kind"]
        cookie = headers.cookie
        if kind == "login":
            self._judge_login(status, cookie, body)
        elif kind == "flow":
            self._judge_flow(status, cookie, body)
        elif kind == "write":
            # Only a redirect home is a post written; one to the login page is not.
            if status != 302 or urlsplit(headers.location or "").path != "/":
                self.unexpected += 1
        elif status != self.scenario["expect"] or not all(
            text.encode() in body for text in self.scenario["expect_texts"]
        ):
            self.unexpected += 1

    def _judge_login(self, status: int, cookie: str | None, body: bytes) -> None:
        if status == 302:
            self.flows += 1  # only a POST that logs in redirects
        elif (
            status != 200
            or b"Invalid email or password." in body
            or not self._keep_form(cookie, body)
        ):
            self.unexpected += 1

    def _judge_flow(self, status: int, cookie: str | None, body: bytes) -> None:
        if status == 302 and cookie:
            self.redirects.append(cookie)
        elif status == 200 and b"Hello, Stranger!" in body:
            if not self._keep_form(cookie, body):
                self.unexpected += 1
        elif status == 200:
            greeting = (
                b"Pleased to meet you!"
                if self.scenario["names"] == "new"
                else b"Happy to see you again!"
            )
            if greeting in body:
                self.flows += 1
            else:
                self.unexpected += 1
        else:
            self.unexpected += 1


@dataclass
class Headers:
    """What the load generator reads of a response's headers."""

    cookie: str | None = None  # the last Set-Cookie's name=value
    location: str | None = None
    keep_alive: bool = True


async def _read_response(
    reader: asyncio.StreamReader,
) -> tuple[int, Headers, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    headers = Headers()
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and value.lower() == "close":
            headers.keep_alive = False
        elif name == "set-cookie":
            headers.cookie = value.split(";", 1)[0]
        elif name == "location":
            headers.location = value
    if chunked:
        parts = []
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            parts.append(await reader.readexactly(size))
            await reader.readline()
        body = b"".join(parts)
    else:
        body = await reader.readexactly(length) if length else b""
    return status, headers, body


async def _run(job: dict[str, Any]) -> dict[str, Any]:
    url = urlsplit(job["base_url"])
    host, port = url.hostname or "127.0.0.1", url.port or 80
    traffic = Traffic(job["scenario"], job["worker"], f"{host}:{port}")
    timeout: float = job["timeout"]
    counts = {
        "connect": 0,
        "read": 0,
        "write": 0,
        "timeout": 0,
        "status": 0,
        "server": 0,
    }
    latencies: list[int] = []
    started = time.monotonic()
    deadline = started + job["duration"]

    async def exchange(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """One request on an open connection; False when it must be reopened."""
        _method, payload = traffic.next_request()
        sent = time.monotonic()
        try:
            writer.write(payload)
            await writer.drain()
        except OSError:
            counts["write"] += 1
            return False
        try:
            status, headers, body = await asyncio.wait_for(
                _read_response(reader), timeout
            )
        except TimeoutError:
            counts["timeout"] += 1
            return False
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            counts["read"] += 1
            return False
        if time.monotonic() > deadline:
            return False  # finished after the end: not counted, as wrk does
        latencies.append(int((time.monotonic() - sent) * 1e6))
        if not 200 <= status < 400:
            counts["status"] += 1
        if status >= 500:
            counts["server"] += 1
        traffic.judge(status, headers, body)
        return headers.keep_alive

    async def connection() -> None:
        while time.monotonic() < deadline:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), timeout
                )
            except (OSError, TimeoutError):
                counts["connect"] += 1
                await asyncio.sleep(0.01)
                continue
            try:
                while (
                    time.monotonic() < deadline
                    and len(latencies) < MAX_REQUESTS_PER_PROCESS
                    and await exchange(reader, writer)
                ):
                    pass
            finally:
                writer.close()
            if len(latencies) >= MAX_REQUESTS_PER_PROCESS:
                return

    tasks = [asyncio.create_task(connection()) for _ in range(job["connections"])]
    _done, pending = await asyncio.wait(tasks, timeout=job["duration"] + timeout + 5)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return {
        "latencies": latencies,
        "duration_s": min(time.monotonic(), deadline) - started,
        "counts": counts,
        "unexpected": traffic.unexpected,
        "flows": traffic.flows,
    }


def _percentile(ordered: Sequence[int], fraction: float) -> float:
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return float(ordered[index])


def merge_results(outputs: list[dict[str, Any]]) -> LoadResult:
    """One LoadResult from the outputs of the client processes."""
    latencies = sorted(value for out in outputs for value in out["latencies"])
    duration = max((out["duration_s"] for out in outputs), default=0.0)

    def total(key: str) -> int:
        return sum(int(out["counts"][key]) for out in outputs)

    return LoadResult(
        requests=len(latencies),
        duration_s=duration,
        connect_errors=total("connect"),
        read_errors=total("read"),
        write_errors=total("write"),
        status_errors=total("status"),
        server_errors=total("server"),
        timeouts=total("timeout"),
        unexpected=sum(out["unexpected"] for out in outputs),
        flows=sum(out["flows"] for out in outputs),
        checked=True,
        p50_us=_percentile(latencies, 0.50),
        p90_us=_percentile(latencies, 0.90),
        p99_us=_percentile(latencies, 0.99),
        max_us=float(latencies[-1]) if latencies else 0.0,
        mean_us=sum(latencies) / len(latencies) if latencies else 0.0,
        generator="python",
    )


def main(argv: list[str]) -> None:
    job = json.loads(argv[1])
    try:
        import uvloop

        result = uvloop.run(_run(job))
    except ImportError:
        result = asyncio.run(_run(job))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main(sys.argv)
