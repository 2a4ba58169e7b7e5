"""The built-in calendar: open days, notice, capacity, holds that lapse, idempotent bookings."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.db import Database
from app.flows.models import OrganizationConfig
from app.vendors.base import BookingRequest, SlotUnavailable
from app.vendors.local import LocalCalendarVendor
from tests.bookings import booking_request
from tests.conftest import demo_config

CHICAGO = ZoneInfo("America/Chicago")
# Monday 2030-06-03, 07:00 in Austin.
NOW = datetime(2030, 6, 3, 7, 0, tzinfo=CHICAGO)


@pytest.fixture
def organization() -> OrganizationConfig:
    return demo_config(
        windows=[
            {"id": "morning", "label": "8 – 11 am", "start": "08:00", "end": "11:00", "capacity": 2},
            {"id": "afternoon", "label": "2 – 5 pm", "start": "14:00", "end": "17:00", "capacity": 1},
        ],
        closed_weekdays=["sun"],
        closed_dates=[date(2030, 6, 5)],
        minimum_notice_hours=4,
        horizon_days=30,
        hold_minutes=10,
    )


def vendor(db: Database, organization: OrganizationConfig, now: datetime = NOW) -> LocalCalendarVendor:
    return LocalCalendarVendor(db, organization.organization, now)


def request_for(session_id: str, day: date, window: str = "morning") -> BookingRequest:
    return booking_request(session_id=session_id, day=day, window_id=window, service={"id": "s", "name": "S"}, customer={})


async def test_month_marks_closed_days_notice_and_horizon(db: Database, organization: OrganizationConfig) -> None:
    days = {d.day: d.remaining for d in await vendor(db, organization).get_month_availability(2030, 6)}
    assert days[date(2030, 6, 2)] == 0  # before today
    assert days[date(2030, 6, 3)] == 1  # today: the morning window starts within 4 hours
    assert days[date(2030, 6, 4)] == 3
    assert days[date(2030, 6, 5)] == 0  # a closed date
    assert days[date(2030, 6, 9)] == 0  # Sunday
    assert days[date(2030, 6, 10)] == 3
    july = {d.day: d.remaining for d in await vendor(db, organization).get_month_availability(2030, 7)}
    assert july[date(2030, 7, 3)] == 3 and july[date(2030, 7, 5)] == 0  # horizon: 30 days


async def test_bookings_and_holds_use_capacity(db: Database, organization: OrganizationConfig) -> None:
    day = date(2030, 6, 4)
    v = vendor(db, organization)
    assert await v.hold_timeslot(day, "morning", "s1")
    await v.create_booking(request_for("s2", day))
    windows = {w.window_id: w for w in await v.get_date_timeslots(day)}
    assert windows["morning"].remaining == 0 and not windows["morning"].available
    # The window s1 holds is still free to s1.
    mine = {w.window_id: w for w in await v.get_date_timeslots(day, session_id="s1")}
    assert mine["morning"].remaining == 1
    assert not await v.hold_timeslot(day, "morning", "s3")
    with pytest.raises(SlotUnavailable):
        await v.create_booking(request_for("s3", day))
    await v.create_booking(request_for("s1", day))
    assert (await db.calendar_slots.find_one({"window_id": "morning"}))["booked"] == ["s2", "s1"]


async def test_a_lapsed_hold_frees_its_place(db: Database, organization: OrganizationConfig) -> None:
    day = date(2030, 6, 4)
    assert await vendor(db, organization).hold_timeslot(day, "afternoon", "s1")
    assert not await vendor(db, organization, NOW + timedelta(minutes=9)).hold_timeslot(day, "afternoon", "s2")
    later = vendor(db, organization, NOW + timedelta(minutes=11))
    assert await later.hold_timeslot(day, "afternoon", "s2")
    with pytest.raises(SlotUnavailable):
        await later.create_booking(request_for("s1", day, "afternoon"))


async def test_release_gives_the_place_back(db: Database, organization: OrganizationConfig) -> None:
    day = date(2030, 6, 4)
    v = vendor(db, organization)
    assert await v.hold_timeslot(day, "afternoon", "s1")
    await v.release_hold(day, "afternoon", "s1")
    assert await v.hold_timeslot(day, "afternoon", "s2")


async def test_booking_is_idempotent_per_session(db: Database, organization: OrganizationConfig) -> None:
    day = date(2030, 6, 4)
    v = vendor(db, organization)
    first = await v.create_booking(request_for("s1", day, "afternoon"))
    again = await v.create_booking(request_for("s1", day, "afternoon"))
    assert first == again
    assert (await db.calendar_slots.find_one({"window_id": "afternoon"}))["booked"] == ["s1"]


async def test_closed_or_unknown_windows_cannot_be_booked(db: Database, organization: OrganizationConfig) -> None:
    v = vendor(db, organization)
    with pytest.raises(SlotUnavailable):
        await v.create_booking(request_for("s1", date(2030, 6, 5)))
    with pytest.raises(SlotUnavailable):
        await v.create_booking(request_for("s1", date(2030, 6, 4), "midnight"))
    assert not await v.hold_timeslot(date(2030, 6, 3), "morning", "s1")  # inside the notice


async def test_a_place_taken_for_a_booking_that_could_not_be_recorded_is_given_back(client, db: Database, monkeypatch: pytest.MonkeyPatch, today: date) -> None:  # type: ignore[no-untyped-def]
    """confirm takes the place, then inserts the booking: when the insert fails, the place goes back."""
    from pymongo.errors import AutoReconnect

    from app.bookings import confirm
    from tests.visitor import Visitor, quart_sender

    visitor = Visitor(quart_sender(client))
    await visitor.walk_to("Summary", today)
    insert = confirm._insert

    async def lost(*args: object) -> None:
        raise AutoReconnect("the database went away before the booking was written")

    monkeypatch.setattr(confirm, "_insert", lost)
    page = await visitor.submit("Summary")
    assert page.status == 503 and page.step == "Problem"
    assert await db.bookings.count_documents({}) == 0
    assert [slot["booked"] for slot in await db.calendar_slots.find({}).to_list()] == [[]]  # the place is free again

    monkeypatch.setattr(confirm, "_insert", insert)
    page = await visitor.submit("Summary")  # the visitor's "Try again"
    assert page.step == "Confirmation" and await db.bookings.count_documents({}) == 1
    assert [len(slot["booked"]) for slot in await db.calendar_slots.find({}).to_list()] == [1]
