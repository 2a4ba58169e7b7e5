"""Rate limits: 429 with Retry-After, counted across web processes, per IP and per session."""

from __future__ import annotations

from datetime import date

import pytest

from app import create_app
from app.settings import Settings
from tests.visitor import Visitor, quart_sender


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "rate_limit_sessions_per_ip": 3,
        "rate_limit_steps_per_session": 12,
        "rate_limit_confirms_per_session": 2,
        "trusted_proxy_hops": 1,
    }


def from_ip(client, address: str) -> Visitor:  # type: ignore[no-untyped-def]
    send = quart_sender(client)

    async def forwarded(method, path, form, headers):  # type: ignore[no-untyped-def]
        # The load balancer appends the address it saw; what comes before is the visitor's claim.
        return await send(method, path, form, headers | {"X-Forwarded-For": f"192.0.2.{len(form)}, {address}"})

    return Visitor(forwarded)


async def test_too_many_new_sessions_from_one_address(client) -> None:  # type: ignore[no-untyped-def]
    pages = [await from_ip(client, "203.0.113.7").start() for _ in range(4)]
    assert [p.status for p in pages] == [200, 200, 200, 429]
    refused = pages[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.step == "Problem" and refused.contains("Too many requests. Please wait")
    assert (await from_ip(client, "198.51.100.9").start()).status == 200  # another visitor is not held up


async def test_two_web_processes_count_together(app, client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    other = create_app(settings)
    async with other.test_app():
        statuses = []
        for test_client in (client, other.test_client(), client, other.test_client()):
            statuses.append((await from_ip(test_client, "203.0.113.8").start()).status)
    assert statuses == [200, 200, 200, 429]


async def test_too_many_steps_in_one_session(client) -> None:  # type: ignore[no-untyped-def]
    visitor = from_ip(client, "203.0.113.9")
    await visitor.start()
    statuses = [(await visitor.submit("ZipCode", zip_code="1")).status for _ in range(13)]
    assert statuses[:12] == [200] * 12 and statuses[12] == 429


async def test_a_sessions_steps_are_counted_exactly_however_its_requests_are_spread(client, app, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """The count lives in the session and goes with its one save: alternating between two
    web processes, a calendar view or a form, the 13th request is refused, not the 20th."""
    other = create_app(settings)
    async with other.test_app():
        here = from_ip(client, "203.0.113.11")
        await here.start()
        there = from_ip(other.test_client(), "203.0.113.11")
        there.token = here.token
        statuses = []
        for n in range(13):
            visitor = here if n % 2 else there
            page = await (visitor.submit("ZipCode", zip_code="1") if n % 3 else visitor.current())
            statuses.append(page.status)
    assert statuses[:12] == [200] * 12 and statuses[12] == 429


async def test_confirmations_are_limited_per_session(client, today: date) -> None:  # type: ignore[no-untyped-def]
    visitor = from_ip(client, "203.0.113.10")
    await visitor.walk_to("Summary", today)
    headers = {"X-Scheduler-Key": "pk_test_demo", "X-Scheduler-Session": visitor.token, "X-Forwarded-For": "192.0.2.1, 203.0.113.10"}
    responses = [await client.post("/bookings", headers=headers) for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 429]
    body = await responses[-1].get_json()
    assert body["error"] == "rate_limited" and int(responses[-1].headers["Retry-After"]) >= 1
