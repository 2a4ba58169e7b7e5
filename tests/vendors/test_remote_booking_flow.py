"""The booking flow through the step routes with each remote vendor's fake behind it:
confirmed when the vendor answers, pending and pushed later by the outbox when it does
not, sent back with alternatives when the window was taken, leads passed on."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from quart import Quart

from app.db import Database
from app.demo.fakes.housecallpro import FakeHousecallPro
from app.demo.fakes.jobber import FakeJobber
from app.demo.fakes.server import FakeVendor
from app.demo.fakes.servicetitan import FakeServiceTitan
from app.flows.models import OrganizationConfig
from app.vendors.remote import window_label
from app.web.protocol import KEY_HEADER
from tests.conftest import demo_booking_into
from tests.vendors.conftest import FAKES, drain_later
from tests.visitor import Visitor


@pytest.fixture(params=["servicetitan"])
def vendor_type(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"outbox_poll_seconds": 300}  # the tests drain the outbox themselves


@pytest.fixture
def organization(vendor_type: str, fake: FakeVendor) -> OrganizationConfig:
    return demo_booking_into(vendor_type, fake.url, timeout_seconds=1.0, horizon_days=366)  # months ahead are asked for



def describe(day: date, window_id: str) -> str:
    """How the notice names a window (as app.bookings.confirm.describe_window does)."""
    start, end = (datetime.strptime(t, "%H%M").time() for t in window_id.split("-"))
    return f"{day.strftime('%A, %B')} {day.day}, {window_label(start, end)}"


def vendor_bookings(fake: FakeVendor) -> list[dict]:
    if isinstance(fake, FakeServiceTitan):
        return fake.bookings
    if isinstance(fake, FakeHousecallPro):
        return fake.jobs
    assert isinstance(fake, FakeJobber)
    return fake.requests


@pytest.mark.dates
@pytest.mark.parametrize("vendor_type", list(FAKES), indirect=True)
async def test_a_visitor_books_into_each_vendor(vendor_type: str, fake: FakeVendor, visitor: Visitor, db: Database, today: date) -> None:
    await visitor.walk_to("Summary", today)
    page = await visitor.submit("Summary")
    assert page.step == "Confirmation" and page.heading == "You're booked!"
    booking = await db.bookings.find_one({})
    assert booking["status"] == "confirmed" and booking["vendor"]["type"] == vendor_type
    made = vendor_bookings(fake)
    assert len(made) == 1 and booking["vendor"]["external_id"] == str(made[0]["id"])
    entry = await db.vendor_outbox.find_one({})
    assert entry["state"] == "done" and entry["attempts"] == 1


async def test_a_vendor_that_times_out_gets_the_booking_once_it_recovers(app: Quart, fake: FakeServiceTitan, visitor: Visitor, db: Database, today: date) -> None:
    await visitor.walk_to("Summary", today)
    fake.fail_next("/bookings", method="POST", hang_seconds=2.5)  # no answer, nothing made
    page = await visitor.submit("Summary")
    assert page.step == "Confirmation" and page.heading == "We've got your request"
    booking = await db.bookings.find_one({})
    assert booking["status"] == "pending" and fake.bookings == []
    entry = await db.vendor_outbox.find_one({})
    assert entry["state"] == "pending" and entry["attempts"] == 1 and "timed out" in entry["last_error"]

    assert await drain_later(app, 1) == 0  # not due yet: it waits its backoff
    assert await drain_later(app, 60) == 1
    booking = await db.bookings.find_one({})
    assert booking["status"] == "confirmed" and len(fake.bookings) == 1
    assert booking["vendor"]["external_id"] == str(fake.bookings[0]["id"])
    assert fake.bookings[0]["externalId"] == booking["_id"]
    assert (await visitor.current()).heading == "You're booked!"  # the visitor coming back sees it confirmed
    assert await drain_later(app, 3600) == 0  # done: nothing is pushed twice


async def test_an_answer_that_came_too_late_is_found_not_made_again(app: Quart, fake: FakeServiceTitan, visitor: Visitor, db: Database, today: date) -> None:
    await visitor.walk_to("Summary", today)
    fake.fail_next("/bookings", method="POST", hang_seconds=2.5, then_process=True)  # made, but answered late
    page = await visitor.submit("Summary")
    assert page.heading == "We've got your request"
    assert await drain_later(app, 60) == 1
    assert len(fake.bookings) == 1
    booking = await db.bookings.find_one({})
    assert booking["status"] == "confirmed" and booking["vendor"]["external_id"] == str(fake.bookings[0]["id"])


@pytest.mark.dates
async def test_a_window_taken_meanwhile_sends_the_visitor_back_with_the_nearest_ones(fake: FakeServiceTitan, visitor: Visitor, db: Database, today: date) -> None:
    page = await visitor.walk_to("Timeslot", today)
    day, window_id = await visitor.first_open_window(today)
    await visitor.walk_to("Summary", today, window=(day, window_id), first_page=page)
    chosen = date.fromisoformat(day)
    index = ["0800-1100", "1100-1400", "1400-1700"].index(window_id)
    for _ in range(fake.capacity):  # the office fills the window by phone
        fake.take(fake.frame_start(chosen, index))
    page = await visitor.submit("Summary")
    assert page.step == "Timeslot"
    assert page.notice.startswith("Sorry, that arrival window was just taken. The nearest free times: ")
    shown_day = page.value_of("date")
    assert shown_day and page.open_windows()  # the calendar opens on the nearest free day, its windows shown
    if shown_day == day:  # the taken window is not offered again on its day (another day may offer its hours)
        assert window_id not in page.open_windows()
    assert describe(chosen, window_id) not in page.notice
    assert await db.bookings.count_documents({}) == 0 and fake.bookings == []


async def test_a_vendor_down_during_the_calendar_keeps_the_session(fake: FakeServiceTitan, visitor: Visitor, today: date) -> None:
    await visitor.walk_to("Timeslot", today)
    fake.fail_next("/capacity", status=503, times=20)
    page = await visitor.view("Timeslot", month=(today + timedelta(days=40)).strftime("%Y-%m"))
    assert page.status == 503 and page.step == "Problem"
    assert page.notice == "We can't reach the schedule right now. Please try again in a minute; what you entered is kept."
    assert page.headers["retry-after"] == "30" and ">Try again<" in page.text
    fake.state.faults.clear()
    page = await visitor.current()
    assert page.step == "Timeslot" and page.open_days()


@pytest.mark.parametrize("vendor_type", ["housecallpro"], indirect=True)
async def test_out_of_the_vendors_area_the_lead_is_passed_on(app: Quart, fake: FakeHousecallPro, visitor: Visitor, db: Database) -> None:
    await visitor.start()
    page = await visitor.submit("ZipCode", zip_code="78705")  # in the flow's list, not in Housecall Pro's zones
    assert page.contains("We don't serve 78705 yet")
    page = await visitor.submit("ZipCode", intent="lead", lead_phone="(512) 555-0100", lead_email="")
    assert page.contains("Thanks — we'll be in touch.")
    assert await drain_later(app, 0) == 1
    lead = await db.leads.find_one({})
    assert fake.leads[0]["customer"]["mobile_number"] == "+15125550100"
    assert lead["vendor"]["external_id"] == fake.leads[0]["id"]


@pytest.mark.dates
async def test_the_api_answers_availability_for_a_service_and_zip(client, fake: FakeServiceTitan, today: date) -> None:  # type: ignore[no-untyped-def]
    month = (today + timedelta(days=31)).strftime("%Y-%m")
    headers = {KEY_HEADER: "pk_test_demo", "Origin": "http://localhost:8000"}
    response = await client.get(f"/scheduler/month-availability?month={month}&service=leak-repair&zip_code=78704", headers=headers)
    assert response.status_code == 200 and any(d["available"] for d in (await response.get_json())["days"])
    assert fake.requests_to("/capacity")[0].body["jobTypeId"] == 502 and fake.requests_to("/capacity")[0].body["businessUnitIds"] == [12]
    fake.fail_next("/capacity", status=503, times=20)
    other = (today + timedelta(days=62)).strftime("%Y-%m")
    response = await client.get(f"/scheduler/month-availability?month={other}", headers=headers)
    assert response.status_code == 503 and (await response.get_json())["error"] == "vendor_unavailable"


async def test_a_booking_the_vendor_refuses_is_kept_for_the_office_with_its_reason(
    fake: FakeServiceTitan, visitor: Visitor, db: Database, today: date
) -> None:
    await visitor.walk_to("Summary", today)
    refusal = {"title": "One or more validation errors occurred.", "status": 400, "errors": {"CampaignId": ["Campaign 31 is inactive."]}}
    fake.fail_next("/bookings", method="POST", status=400, body=refusal)
    page = await visitor.submit("Summary")
    assert page.step == "Confirmation" and page.heading == "We've got your request"  # received, not "booked"
    booking = await db.bookings.find_one({})
    assert booking["status"] == "needs_attention"
    assert booking["vendor"]["error"] == "POST /crm/v2/tenant/1234567/booking-provider/77/bookings answered 400: One or more validation errors occurred. (CampaignId: Campaign 31 is inactive.)"
    assert (await db.vendor_outbox.find_one({}))["state"] == "failed"


async def test_a_slow_vendor_does_not_keep_the_visitor_waiting(
    app: Quart, fake: FakeServiceTitan, visitor: Visitor, db: Database, monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    from app.bookings import confirm

    monkeypatch.setattr(confirm, "INLINE_PUSH_SECONDS", 0.5)
    await visitor.walk_to("Summary", today)
    fake.fail_next("/bookings", method="POST", hang_seconds=0.8, then_process=True)  # slow, within its time-out
    page = await visitor.submit("Summary")
    assert page.heading == "We've got your request"
    entry = await db.vendor_outbox.find_one({})
    assert entry["state"] == "pending" and entry["retried"] and entry["lease_id"] is None
    await asyncio.sleep(1)  # the slow answer arrives at the fake's end: it made the booking
    assert await drain_later(app, 60) == 1
    assert len(fake.bookings) == 1 and (await db.bookings.find_one({}))["status"] == "confirmed"


async def test_a_push_whose_result_was_never_recorded_is_found_not_made_again(
    app: Quart, fake: FakeServiceTitan, visitor: Visitor, db: Database, monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    from pymongo.errors import AutoReconnect

    from app.bookings import outbox

    await visitor.walk_to("Summary", today)
    record = outbox._finish

    async def database_gone(*args: object) -> None:
        raise AutoReconnect("the database went away just after ServiceTitan answered")

    monkeypatch.setattr(outbox, "_finish", database_gone)
    page = await visitor.submit("Summary")
    assert page.status == 503 and page.step == "Problem"  # "try again": nothing was recorded
    assert len(fake.bookings) == 1 and (await db.bookings.find_one({}))["status"] == "pending"

    monkeypatch.setattr(outbox, "_finish", record)
    assert await drain_later(app, 30) == 0  # the lost push's lease still holds
    assert await drain_later(app, outbox.LEASE_SECONDS + 5) == 1  # a second claim looks first
    assert len(fake.bookings) == 1
    booking = await db.bookings.find_one({})
    assert booking["status"] == "confirmed" and booking["vendor"]["external_id"] == str(fake.bookings[0]["id"])
    page = await visitor.submit("Summary")  # the visitor's "Try again"
    assert page.heading == "You're booked!"


async def test_a_window_taken_before_a_background_push_needs_a_person(
    app: Quart, fake: FakeServiceTitan, visitor: Visitor, db: Database, today: date
) -> None:
    await visitor.walk_to("Summary", today)
    fake.fail_next("/bookings", method="POST", status=503)
    assert (await visitor.submit("Summary")).heading == "We've got your request"
    booking = await db.bookings.find_one({})
    start = datetime.combine(date.fromisoformat(booking["date"]), datetime.strptime(booking["window"]["start"], "%H:%M").time(), tzinfo=fake.zone)
    for _ in range(fake.capacity):  # the office filled the window by phone meanwhile
        fake.take(start.astimezone(UTC))
    assert await drain_later(app, 60) == 1
    booking = await db.bookings.find_one({})
    assert booking["status"] == "needs_attention" and booking["vendor"]["error"].startswith("the window was taken at the vendor")
    assert fake.bookings == []
