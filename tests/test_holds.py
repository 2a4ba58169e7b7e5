"""Choosing a window holds it for a few minutes; choosing another gives it back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.flows.models import OrganizationConfig
from app.steps.timeslot import TAKEN_MESSAGE
from tests.conftest import demo_config
from tests.visitor import Visitor, quart_sender

pytestmark = pytest.mark.dates


@pytest.fixture
def organization() -> OrganizationConfig:
    return demo_config(
        windows=[
            {"id": "morning", "label": "8 – 11 am", "start": "08:00", "end": "11:00", "capacity": 5},
            {"id": "afternoon", "label": "2 – 5 pm", "start": "14:00", "end": "17:00", "capacity": 1},
        ],
        closed_weekdays=[],
        closed_dates=[],
        minimum_notice_hours=0,
        hold_minutes=10,
    )


async def two_visitors_at_timeslot(client, today: date) -> tuple[Visitor, Visitor, str]:  # type: ignore[no-untyped-def]
    """Two visitors on the Timeslot step, and a day on which every window is open."""
    first, second = Visitor(quart_sender(client)), Visitor(quart_sender(client))
    await first.walk_to("Timeslot", today)
    await second.walk_to("Timeslot", today)
    # The first day of next month: every window of it is open (no closed days, no notice).
    next_month = (today.replace(day=28) + timedelta(days=5)).strftime("%Y-%m")
    return first, second, (await first.view("Timeslot", month=next_month)).open_days()[0]


async def test_a_held_window_is_full_for_others_until_released(client, today: date) -> None:  # type: ignore[no-untyped-def]
    first, second, day = await two_visitors_at_timeslot(client, today)
    assert (await first.submit("Timeslot", date=day, window="afternoon")).step == "Customer"
    page = await second.view("Timeslot", date=day)
    assert "afternoon" not in page.open_windows() and page.contains("Full")
    page = await second.submit("Timeslot", date=day, window="afternoon")
    assert page.status == 200 and page.errors == {"window": TAKEN_MESSAGE}

    # The first visitor changes their mind: the afternoon place is free again.
    await first.back()
    assert (await first.submit("Timeslot", date=day, window="morning")).step == "Customer"
    assert (await second.submit("Timeslot", date=day, window="afternoon")).step == "Customer"


async def test_a_visitor_keeps_their_window_when_the_new_one_is_taken(client, db, today: date) -> None:  # type: ignore[no-untyped-def]
    first, second, day = await two_visitors_at_timeslot(client, today)
    assert (await first.submit("Timeslot", date=day, window="afternoon")).step == "Customer"
    assert (await second.submit("Timeslot", date=day, window="morning")).step == "Customer"

    await second.back()
    page = await second.submit("Timeslot", date=day, window="afternoon")
    assert page.errors == {"window": TAKEN_MESSAGE}
    morning = await db.calendar_slots.find_one({"window_id": "morning"})
    assert len(morning["holds"]) == 1  # the second visitor's morning place is still theirs
    session = await db.sessions.find_one({"_id": morning["holds"][0]["session_id"]})
    assert session["booking"]["timeslot"]["window_id"] == "morning"
