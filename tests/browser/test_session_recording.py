"""The widget's events survive a dropped socket: they arrive, each once."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from playwright.async_api import Page, WebSocketRoute

from tests.browser.conftest import open_host_page
from tests.browser.flow import book_with_mouse
from tests.browser.host_site import HostSite
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser


async def test_events_arrive_once_after_the_socket_drops(page: Page, live_server: LiveServer, host_site: HostSite) -> None:
    connections: list[WebSocketRoute] = []
    swallowed: list[list[int]] = []

    def route(socket: WebSocketRoute) -> None:
        connections.append(socket)
        server = socket.connect_to_server()
        batches = {"count": 0}

        def from_page(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "events":
                batches["count"] += 1
                if len(connections) == 1 and batches["count"] == 2:
                    # The network goes away with this batch in flight: it never reaches the server.
                    swallowed.append([e["seq"] for e in data["events"]])
                    asyncio.ensure_future(socket.close(code=4000, reason="dropped by the test"))  # noqa: RUF006 - nothing waits for the drop
                    return
            server.send(message)

        socket.on_message(from_page)
        server.on_message(lambda message: socket.send(message))

    await page.route_web_socket("**/ws/sessions/**", route)
    await open_host_page(page, host_site.url + "/blank.html")
    await page.get_by_role("button", name="Book now").click()
    await book_with_mouse(page)
    await page.get_by_role("button", name="Close").click()

    database = live_server.database
    session_id = (await database.bookings.find_one({}))["session_id"]
    deadline = time.monotonic() + 20
    while True:
        events = await database.events.find({"session_id": session_id, "source": "client"}).sort("seq", 1).to_list()
        seqs = [e["seq"] for e in events]
        kinds = [e["type"] for e in events]
        if "modal_closed" in kinds or time.monotonic() > deadline:
            break
        await page.wait_for_timeout(200)
    assert len(connections) >= 2 and swallowed, "the socket was dropped and the widget reconnected"
    assert set(swallowed[0]) <= set(seqs)  # the batch lost in flight was sent again
    assert seqs == list(range(1, len(seqs) + 1))  # every event, each once
    assert kinds[0] == "modal_opened" and kinds[-1] == "modal_closed" and kinds.count("step_time") >= 5
