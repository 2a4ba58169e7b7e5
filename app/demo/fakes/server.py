"""What every vendor fake shares: a real server on a free port, faults, a rate limit.

Each fake is a Quart app served by Hypercorn in its own thread and event loop, so the
app under test reaches it over a real socket whether it runs in the test's process or
in another. Tests script faults (a 429 with Retry-After, a 5xx, an answer that never
comes, or one that comes too late after the work was done) and read what was asked.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart, Response, g, jsonify, request

from app.embedded_db import free_port


@dataclass
class Fault:
    """What the next `times` requests whose path contains `path` get instead of an answer."""

    path: str
    status: int | None = None  # answer with this status (and Retry-After when given)
    body: dict[str, Any] | None = None  # with status: this JSON instead of the fake's own error
    retry_after: str | None = None
    hang_seconds: float = 0.0  # answer only after this long (longer than the client waits)
    then_process: bool = False  # with hang: do the work first, so the client can't know
    times: int = 1
    method: str | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeState:
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)


class RateLimit:
    """A fixed one-second window per caller, like the vendors' documented limits."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._windows: dict[str, tuple[int, int]] = {}

    def allow(self, caller: str) -> bool:
        second = int(time.time())
        window, count = self._windows.get(caller, (second, 0))
        if window != second:
            window, count = second, 0
        self._windows[caller] = (window, count + 1)
        return count < self.per_second


class FakeVendor:
    name = "fake"

    def __init__(self, rate_limit_per_second: int = 50, port: int | None = None) -> None:
        self.state = FakeState()
        self.rate_limit = RateLimit(rate_limit_per_second)
        self.latency_seconds = 0.0  # added to every answer, like a vendor across the internet
        self.app = Quart(f"fake-{self.name}")
        self.app.before_request(self._before)
        self.app.after_request(self._after)
        self.routes(self.app)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    # -- what each fake defines ----------------------------------------------------

    def routes(self, app: Quart) -> None:
        raise NotImplementedError

    def authorize(self) -> Response | None:
        """Refuse a request without valid credentials (checked before every route)."""
        return None

    def caller(self) -> str:
        """Who the rate limit counts (the credentials the request carries)."""
        return request.headers.get("Authorization", "anonymous")

    def error(self, status: int, message: str) -> Response:
        response = jsonify({"error": message})
        response.status_code = status
        return response

    # -- faults and recording -------------------------------------------------------

    def fail_next(self, path: str, **fault: Any) -> Fault:
        added = Fault(path, **fault)
        self.state.faults.append(added)
        return added

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.state.requests if path in r.path and (method is None or r.method == method)]

    def _take_fault(self) -> Fault | None:
        for fault in self.state.faults:
            if fault.path in request.path and (fault.method is None or fault.method == request.method) and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    async def _before(self) -> Response | None:
        body: Any = None
        if request.method in ("POST", "PUT", "PATCH"):
            body = await request.get_json(silent=True)
            if body is None:
                body = dict(await request.form) or None
        self.state.requests.append(
            RecordedRequest(request.method, request.path, dict(request.args), dict(request.headers), body)
        )
        if self.latency_seconds:
            await asyncio.sleep(self.latency_seconds)
        fault = self._take_fault()
        g.fault = fault
        if fault is not None and not fault.then_process:
            if fault.hang_seconds:
                await asyncio.sleep(fault.hang_seconds)
            if fault.status is not None:
                response = self.error(fault.status, f"scripted {fault.status}") if fault.body is None else jsonify(fault.body)
                response.status_code = fault.status
                if fault.retry_after is not None:
                    response.headers["Retry-After"] = fault.retry_after
                return response
        if not self.rate_limit.allow(self.caller()):
            response = self.error(429, "Too many requests")
            response.headers["Retry-After"] = "1"
            return response
        return self.authorize()

    async def _after(self, response: Response) -> Response:
        fault = getattr(g, "fault", None)
        if fault is not None and fault.then_process and fault.hang_seconds:
            await asyncio.sleep(fault.hang_seconds)
        return response

    # -- serving ----------------------------------------------------------------------

    def start(self) -> FakeVendor:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            stop = self._stop = asyncio.Event()
            config = Config()
            config.bind = [f"127.0.0.1:{self.port}"]
            config.accesslog = None
            config.errorlog = None
            config.graceful_timeout = 0.5

            async def main() -> None:
                task = asyncio.ensure_future(serve(self.app, config, shutdown_trigger=stop.wait))
                ready.set()
                await task

            self._loop.run_until_complete(main())
            self._loop.close()

        self._thread = threading.Thread(target=run, name=f"fake-{self.name}", daemon=True)
        self._thread.start()
        ready.wait(10)
        deadline = time.monotonic() + 10
        import socket

        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.02)
        raise RuntimeError(f"the {self.name} fake did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
