"""Many visitors at once against a real Hypercorn server and one database."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest

from app.flows.models import OrganizationConfig
from tests.conftest import LiveServer, demo_config
from tests.visitor import CUSTOMER, Visitor, httpx_sender

VISITORS = 20
PLACES = 3


@pytest.fixture
def organization() -> OrganizationConfig:
    # No holds: every visitor can reach the Summary with the same window, so the race
    # is decided where it must be, at confirmation.
    return demo_config(
        windows=[{"id": "morning", "label": "8 – 11 am", "start": "08:00", "end": "11:00", "capacity": PLACES}],
        closed_weekdays=[],
        closed_dates=[],
        minimum_notice_hours=0,
        hold_minutes=0,
    )


async def test_twenty_visitors_confirm_the_last_three_places(live_server: LiveServer, today: date) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        send = httpx_sender(http, live_server.url)
        scout = Visitor(send)
        await scout.walk_to("Timeslot", today)
        day, window_id = await scout.first_open_window(today)
        visitors = [Visitor(send) for _ in range(VISITORS)]
        for visitor in visitors:
            await visitor.walk_to("Summary", today, window=(day, window_id))

        pages = await asyncio.gather(*(visitor.submit("Summary") for visitor in visitors))

        assert all(page.status == 200 for page in pages), [p.status for p in pages]
        booked = [p for p in pages if p.step == "Confirmation"]
        sent_back = [v for v, p in zip(visitors, pages) if p.step == "Timeslot"]
        assert len(booked) == PLACES and len(sent_back) == VISITORS - PLACES
        assert await live_server.database.bookings.count_documents({}) == PLACES
        slot = await live_server.database.calendar_slots.find_one({"window_id": window_id})
        assert len(slot["booked"]) == PLACES
        for page in pages:
            if page.step == "Timeslot":
                # Sent back with the nearest windows still free, none of them the one just taken.
                assert page.notice.startswith("Sorry, that arrival window was just taken. The nearest free times: ")

        # The visitors sent back see the window full, and everything else they entered is kept.
        visitor = sent_back[0]
        assert window_id not in (await visitor.view("Timeslot", date=day)).open_windows()
        page = await visitor.edit("Customer")
        assert page.step == "Customer" and page.value_of("email") == CUSTOMER["email"]
        page = await visitor.edit("AdditionalDetails")
        assert page.contains("The kitchen sink drips")
