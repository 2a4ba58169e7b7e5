"""Jobber through its fake: rotating refresh tokens, availability from scheduledItems,
client → property → request or job, userErrors and THROTTLED as errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.db import Database
from app.demo.fakes.jobber import FakeJobber
from app.vendors.base import BookingProgress, BookingRequest, VendorRejected, VendorUnauthorized, VendorUnavailable
from app.vendors.jobber import JobberStrategy
from app.vendors.remote import VendorClients
from tests.bookings import booking_request
from tests.vendors.conftest import booking_customer, jobber_vendor, strategy_for

CHICAGO = ZoneInfo("America/Chicago")
AC = {"id": "ac-repair", "name": "AC repair", "duration_minutes": 120}


def strategy(db: Database, fake: FakeJobber, clients: VendorClients, **changes: object) -> JobberStrategy:
    return strategy_for(db, jobber_vendor(fake, **changes), clients, AC, JobberStrategy)


def request_for(day: date, window_id: str = "0800-1100", customer: dict | None = None, retried: bool = False) -> BookingRequest:
    return booking_request(
        session_id="s-1", day=day, window_id=window_id, service=AC, customer=customer or booking_customer(), zip_code="78701",
        reference="WB-JOB001", window={"label": "8 – 11 am"}, progress=BookingProgress(retried=retried),
    )


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHICAGO)


async def test_availability_is_working_hours_minus_scheduled_items(db: Database, jobber: FakeJobber, clients: VendorClients) -> None:
    tuesday = date(2030, 6, 4)
    jobber.schedule(at(tuesday, 9), at(tuesday, 10))  # one of two morning places
    jobber.schedule(at(tuesday, 15), at(tuesday, 17))  # overlaps the afternoon's only place
    windows = await strategy(db, jobber, clients).get_date_timeslots(tuesday)
    assert [(w.window_id, w.label, w.remaining) for w in windows] == [("0800-1100", "8 – 11 am", 1), ("1300-1600", "1 – 4 pm", 0)]
    call = jobber.requests_to("/api/graphql")[0]
    assert call.headers["X-Jobber-Graphql-Version"] == "2025-04-16" and call.headers["Authorization"].startswith("Bearer at-")


async def test_closed_days_and_notice_come_from_the_shared_calendar_rules(db: Database, jobber: FakeJobber, clients: VendorClients) -> None:
    days = {d.day: d.remaining for d in await strategy(db, jobber, clients).get_month_availability(2030, 6)}
    assert days[date(2030, 6, 1)] == 0 and days[date(2030, 6, 8)] == 0  # past; a Saturday
    assert days[date(2030, 6, 3)] == 1 and days[date(2030, 6, 4)] == 3  # 8 am today is inside the 2-hour notice


async def test_scheduled_items_are_read_through_every_page(db: Database, jobber: FakeJobber, clients: VendorClients) -> None:
    tuesday = date(2030, 6, 4)
    for _ in range(150):
        jobber.schedule(at(tuesday, 13), at(tuesday, 14), "Event")
    windows = await strategy(db, jobber, clients).get_date_timeslots(tuesday, fresh=True)
    assert [w.remaining for w in windows] == [2, 0]
    assert len(jobber.requests_to("/api/graphql")) == 2


async def test_the_refresh_token_rotates_and_the_newest_is_kept(db: Database, jobber: FakeJobber, clients: VendorClients) -> None:
    await strategy(db, jobber, clients).get_month_availability(2030, 6)
    stored = await db.vendor_tokens.find_one({})
    assert stored["refresh_token"] in jobber.refresh_tokens and stored["refresh_token"] != "rt-initial"
    # Another process (its own token cache), after the access token lapsed: it refreshes with the stored token.
    await db.vendor_tokens.update_one({}, {"$set": {"access_expires_at": 0}})
    other = VendorClients(clients.http)
    await strategy(db, jobber, other).get_date_timeslots(date(2030, 6, 5), fresh=True)
    assert jobber.used_refresh_tokens == ["rt-initial", stored["refresh_token"]]


async def test_request_booking_is_client_property_then_request_with_an_assessment(db: Database, jobber: FakeJobber, clients: VendorClients) -> None:
    booking = await strategy(db, jobber, clients).create_booking(request_for(date(2030, 6, 4)))
    made = jobber.requests[0]
    assert booking.external_id == made["id"] and made["title"] == "AC repair — WB-JOB001"
    assert made["input"]["assessment"]["schedule"] == {"startAt": "2030-06-04T13:00:00Z", "endAt": "2030-06-04T16:00:00Z"}
    assert jobber.clients[0]["input"]["emails"] == [{"description": "MAIN", "primary": True, "address": "ada@example.com"}]
    windows = await strategy(db, jobber, clients).get_date_timeslots(date(2030, 6, 4))
    assert windows[0].remaining == 1  # the assessment now takes a place


async def test_job_booking_schedules_the_job_in_the_window(db: Database, jobber: FakeJobber, clients: VendorClients) -> None:
    booking = await strategy(db, jobber, clients, booking_mode="job").create_booking(request_for(date(2030, 6, 4), "1300-1600"))
    assert booking.external_id == jobber.jobs[0]["id"]
    assert jobber.jobs[0]["input"]["scheduling"]["startAt"] == "2030-06-04T18:00:00Z"


async def test_user_errors_in_a_200_are_errors(db: Database, jobber: FakeJobber, clients: VendorClients) -> None:
    nameless = booking_customer() | {"first_name": "", "last_name": ""}
    with pytest.raises(VendorRejected, match=r"clientCreate: First name or last name is required \(clientCreate.input.firstName\)"):
        await strategy(db, jobber, clients).create_booking(request_for(date(2030, 6, 4), customer=nameless))


async def test_throttled_is_waited_out_from_the_cost_extension(db: Database, jobber: FakeJobber, clients: VendorClients) -> None:
    vendor = strategy(db, jobber, clients)
    await vendor.get_date_timeslots(date(2030, 6, 4), fresh=True)
    jobber.spend_budget()
    assert await vendor.get_date_timeslots(date(2030, 6, 5), fresh=True)
    assert len(jobber.requests_to("/api/graphql")) == 3  # one answered THROTTLED, then sent again


async def test_a_retry_finds_the_request_the_last_try_made(db: Database, jobber: FakeJobber, clients: VendorClients) -> None:
    vendor = strategy(db, jobber, clients)
    first = await vendor.create_booking(request_for(date(2030, 6, 4)))
    again = await vendor.create_booking(request_for(date(2030, 6, 4), retried=True))
    assert again.external_id == first.external_id and len(jobber.requests) == 1 and len(jobber.clients) == 1


async def test_a_refresh_token_jobber_no_longer_accepts_is_unauthorized(db: Database, jobber: FakeJobber, clients: VendorClients) -> None:
    with pytest.raises(VendorUnauthorized, match="invalid_grant"):
        await strategy(db, jobber, clients, refresh_token="rt-revoked").get_month_availability(2030, 6)


@pytest.mark.parametrize("late_mutation", ["clientCreate", "propertyCreate", "requestCreate"])
async def test_a_retry_after_any_late_answer_makes_each_part_once(
    db: Database, jobber: FakeJobber, clients: VendorClients, late_mutation: str
) -> None:
    vendor = strategy(db, jobber, clients)
    progress: dict = {}

    async def save(done: dict) -> None:
        progress.update(done)

    await vendor.get_date_timeslots(date(2030, 6, 4), fresh=True)  # the token first: the fault is for the mutation
    jobber.fail_graphql_late(late_mutation)
    with pytest.raises(VendorUnavailable):
        await vendor.create_booking(replace(request_for(date(2030, 6, 4)), progress=BookingProgress(save=save)))
    again = replace(request_for(date(2030, 6, 4)), progress=BookingProgress(progress, save, retried=True))
    booking = await vendor.create_booking(again)
    assert (len(jobber.clients), len(jobber.properties), len(jobber.requests)) == (1, 1, 1)
    assert booking.external_id == jobber.requests[0]["id"]
