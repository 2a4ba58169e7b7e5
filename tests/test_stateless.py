"""Stateless web processes: a visitor whose requests alternate between two processes books
normally, and a process restarted in the middle of a session loses nothing of it."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import date

import aiohttp
import httpx

from tests.visitor import CUSTOMER, DETAILS, Page, Visitor, httpx_sender


class Alternating:
    """Sends each request to the next of several servers, as a load balancer may."""

    def __init__(self, http: httpx.AsyncClient, urls: list[str]) -> None:
        self.senders = [httpx_sender(http, url) for url in urls]
        self.turn = 0

    async def __call__(self, method: str, path: str, form: dict[str, str], headers: dict[str, str]) -> Page:
        send = self.senders[self.turn % len(self.senders)]
        self.turn += 1
        return await send(method, path, form, headers)


async def test_requests_alternating_between_two_processes_book_normally(web_processes, today: date) -> None:  # type: ignore[no-untyped-def]
    database, start = web_processes
    first, second = start(), start()
    async with httpx.AsyncClient(timeout=30) as http:
        visitor = Visitor(Alternating(http, [first.url, second.url]))
        page = await visitor.walk_to("Summary", today)
        assert page.contains("Ada Lovelace")
        page = await visitor.submit("Summary")
    assert page.step == "Confirmation"
    assert await database.bookings.count_documents({}) == 1


async def test_a_process_restarted_mid_session_loses_nothing(web_processes, today: date) -> None:  # type: ignore[no-untyped-def]
    database, start = web_processes
    server = start()
    async with httpx.AsyncClient(timeout=30) as http:
        visitor = Visitor(httpx_sender(http, server.url))
        await visitor.walk_to("Timeslot", today)
        session_id = (await database.sessions.find_one({}))["_id"]
        assert server.stop() == 0  # a deploy: SIGTERM, then a new process
        replacement = start()
        visitor._send = httpx_sender(http, replacement.url)  # type: ignore[attr-defined]
        page = await visitor.current()
        assert page.step == "Timeslot"
        day, window = await visitor.first_open_window(today)
        assert (await visitor.submit("Timeslot", date=day, window=window)).step == "Customer"
        assert (await visitor.submit("Customer", **CUSTOMER)).step == "Summary"
        page = await visitor.submit("Summary")
        assert page.step == "Confirmation"
        # The widget's socket reaches the new process just as well.
        socket_url = replacement.url.replace("http", "ws", 1) + f"/ws/sessions/{session_id}?key=pk_test_demo"
        async with aiohttp.ClientSession() as client, client.ws_connect(socket_url, origin="http://localhost:8000") as socket:
            await socket.send_str(json.dumps({"type": "hello", "token": visitor.token}))
            assert await socket.receive_json() == {"type": "ready"}
    booking = await database.bookings.find_one({})
    assert booking["details"]["description"] == DETAILS["detail-description"] and booking["service"]["id"] == "leak-repair"
    # The events of a request are stored after it answered (in a batch, within a second).
    for _ in range(50):
        shown = [e["step"] for e in await database.events.find({"session_id": session_id, "type": "step_shown"}).to_list()]
        if shown and shown[-1] == "Confirmation":
            break
        await asyncio.sleep(0.1)
    assert shown[:4] == ["ZipCode", "ServiceSelection", "AdditionalDetails", "Timeslot"] and shown[-1] == "Confirmation"


async def test_sigterm_closes_open_sockets_and_the_process_exits(web_processes) -> None:  # type: ignore[no-untyped-def]
    database, start = web_processes
    server = start()
    async with httpx.AsyncClient(timeout=30) as http:
        visitor = Visitor(httpx_sender(http, server.url))
        page = await visitor.start()
    session_id = page.headers["x-scheduler-session-id"]
    socket_url = server.url.replace("http", "ws", 1) + f"/ws/sessions/{session_id}?key=pk_test_demo"
    async with aiohttp.ClientSession() as client, client.ws_connect(socket_url, origin="http://localhost:8000") as socket:
        await socket.send_str(json.dumps({"type": "hello", "token": visitor.token}))
        assert await socket.receive_json() == {"type": "ready"}
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        message = await socket.receive(timeout=30)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    assert server.process.wait(timeout=30) == 0
    assert time.monotonic() - started < 30
    # What the session recorded before the restart is all there (the widget reconnects elsewhere).
    assert await database.events.count_documents({"session_id": session_id, "type": "session_started"}) == 1
