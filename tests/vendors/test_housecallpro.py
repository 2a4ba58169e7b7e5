"""Housecall Pro through its fake: joined booking windows, zones, customer → job, leads."""

from __future__ import annotations

from datetime import date

import pytest

from app.db import Database
from app.demo.fakes.housecallpro import FakeHousecallPro
from app.vendors.base import BookingProgress, BookingRequest, SlotUnavailable, VendorUnauthorized, VendorUnavailable
from app.vendors.housecallpro import HousecallProStrategy
from app.vendors.remote import VendorClients
from tests.bookings import booking_request
from tests.vendors.conftest import booking_customer, housecallpro_vendor, strategy_for

DRAIN = {"id": "drain-cleaning", "name": "Drain cleaning", "duration_minutes": 60}


def strategy(db: Database, fake: FakeHousecallPro, clients: VendorClients, **changes: object) -> HousecallProStrategy:
    return strategy_for(db, housecallpro_vendor(fake, **changes), clients, DRAIN, HousecallProStrategy)


def request_for(day: date, window_id: str = "0800-1100", retried: bool = False) -> BookingRequest:
    return booking_request(
        session_id="s-1", day=day, window_id=window_id, service=DRAIN, customer=booking_customer(), zip_code="78701",
        reference="WB-HCP001", window={"label": "8 – 11 am"}, progress=BookingProgress(retried=retried),
    )


async def test_consecutive_booking_windows_join_into_arrival_windows(db: Database, housecallpro: FakeHousecallPro, clients: VendorClients) -> None:
    housecallpro.book_externally(date(2030, 6, 4), 1)
    windows = await strategy(db, housecallpro, clients).get_date_timeslots(date(2030, 6, 4))
    assert [(w.window_id, w.label, w.available) for w in windows] == [("0800-1100", "8 – 11 am", True)]
    assert not windows[0].counted  # open or not, no count: the widget says "Available"
    call = housecallpro.requests_to("/booking_windows")[0]
    assert call.headers["Authorization"] == f"Token {housecallpro.api_key}"
    assert call.query == {"start_date": "2030-06-03", "show_for_days": "28", "service_duration": "60"}


async def test_the_month_is_asked_for_in_one_call_by_show_for_days(db: Database, housecallpro: FakeHousecallPro, clients: VendorClients) -> None:
    days = await strategy(db, housecallpro, clients, services={"drain-cleaning": "svc_42"}).get_month_availability(2030, 6)
    assert len(housecallpro.requests_to("/booking_windows")) == 1
    assert housecallpro.requests_to("/booking_windows")[0].query["service_id"] == "svc_42"
    assert {d.day.weekday() for d in days if d.available} == {0, 1, 2, 3, 4}


async def test_zip_codes_are_checked_with_service_zones(db: Database, housecallpro: FakeHousecallPro, clients: VendorClients) -> None:
    vendor = strategy(db, housecallpro, clients)
    assert await vendor.serves_zip("78701") is True
    assert await vendor.serves_zip("10001") is False


async def test_booking_creates_the_customer_then_a_job_at_its_address(db: Database, housecallpro: FakeHousecallPro, clients: VendorClients) -> None:
    booking = await strategy(db, housecallpro, clients).create_booking(request_for(date(2030, 6, 4)))
    customer, job = housecallpro.customers[0], housecallpro.jobs[0]
    assert booking.external_id == job["id"]
    assert job["customer_id"] == customer["id"] and job["address_id"] == customer["addresses"][0]["id"]
    assert job["schedule"] == {"scheduled_start": "2030-06-04T08:00:00-05:00", "scheduled_end": "2030-06-04T09:00:00-05:00", "arrival_window": 180}
    assert customer["mobile_number"] == "+15125550100" and customer["addresses"][0]["zip"] == "78701"


async def test_a_retry_after_a_late_answer_reuses_customer_and_job(db: Database, housecallpro: FakeHousecallPro, clients: VendorClients) -> None:
    housecallpro.fail_next("/jobs", method="POST", hang_seconds=3, then_process=True)
    vendor = strategy(db, housecallpro, clients)
    with pytest.raises(VendorUnavailable):
        await vendor.create_booking(request_for(date(2030, 6, 4)))
    booking = await vendor.create_booking(request_for(date(2030, 6, 4), retried=True))
    assert len(housecallpro.customers) == 1 and len(housecallpro.jobs) == 1
    assert booking.external_id == housecallpro.jobs[0]["id"]


async def test_a_taken_window_is_slot_unavailable(db: Database, housecallpro: FakeHousecallPro, clients: VendorClients) -> None:
    housecallpro.book_externally(date(2030, 6, 4), 0)
    with pytest.raises(SlotUnavailable):
        await strategy(db, housecallpro, clients).create_booking(request_for(date(2030, 6, 4)))


async def test_leads_are_posted_with_how_to_reach_the_visitor(db: Database, housecallpro: FakeHousecallPro, clients: VendorClients) -> None:
    lead_id = await strategy(db, housecallpro, clients).create_lead({"email": "x@example.com", "phone": None, "zip_code": "10001"})
    assert housecallpro.leads[0]["id"] == lead_id and housecallpro.leads[0]["customer"]["email"] == "x@example.com"


async def test_a_wrong_key_is_unauthorized(db: Database, housecallpro: FakeHousecallPro, clients: VendorClients) -> None:
    with pytest.raises(VendorUnauthorized, match="Invalid API key"):
        await strategy(db, housecallpro, clients, api_key="wrong").get_month_availability(2030, 6)


async def test_the_rate_limit_is_answered_with_retry_after_and_respected(db: Database, housecallpro: FakeHousecallPro, clients: VendorClients) -> None:
    housecallpro.rate_limit.per_second = 2
    vendor = strategy(db, housecallpro, clients, requests_per_second=50)
    for zip_code in ("78701", "78702", "78703", "78704", "78705"):
        await vendor.serves_zip(zip_code)  # five calls: the fake's 429s are waited out
    statuses = len(housecallpro.requests_to("/service_zones"))
    assert statuses > 5  # some were refused with 429 and sent again
