"""ServiceTitan through its fake: token, zones, capacity in 14-day pieces, CRM and job bookings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.db import Database
from app.demo.fakes.servicetitan import FakeServiceTitan
from app.domain.booking import ChosenService
from app.vendors.base import (
    AvailabilityScope,
    BookingProgress,
    BookingRequest,
    SlotUnavailable,
    VendorRejected,
    VendorUnavailable,
)
from app.vendors.registry import vendor_for
from app.vendors.remote import VendorClients
from app.vendors.servicetitan import ServiceTitanStrategy
from tests.bookings import booking_request
from tests.vendors.conftest import booking_customer, local_now, servicetitan_vendor, strategy_for, with_vendor

LEAK = {"id": "leak-repair", "name": "Leak repair", "duration_minutes": 90}


def strategy(db: Database, fake: FakeServiceTitan, clients: VendorClients, zip_code: str = "78701", **changes: object) -> ServiceTitanStrategy:
    return strategy_for(db, servicetitan_vendor(fake, **changes), clients, LEAK, ServiceTitanStrategy, zip_code)


def request_for(day: date, window_id: str = "0800-1100", reference: str = "WB-ST0001", progress: BookingProgress | None = None) -> BookingRequest:
    return booking_request(
        session_id="s-" + reference, day=day, window_id=window_id, service=LEAK, customer=booking_customer(),
        details={"description": "Drip under the sink"}, zip_code="78701", reference=reference,
        window={"label": "8 – 11 am"}, progress=progress or BookingProgress(),
    )


async def test_month_availability_asks_capacity_in_pieces_of_fourteen_days(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    days = await strategy(db, servicetitan, clients).get_month_availability(2030, 6)

    calls = sorted(servicetitan.requests_to("/capacity"), key=lambda c: c.body["startsOnOrAfter"])
    assert len(calls) == 2  # June 3–16 and 17–30: today onwards, 14 days at most each
    assert [c.body["endsOnOrBefore"] for c in calls] == ["2030-06-17T05:00:00Z", "2030-07-01T05:00:00Z"]
    assert all(c.headers["St-App-Key"] == servicetitan.app_key and c.headers["Authorization"].startswith("Bearer ") for c in calls)
    assert calls[0].body["businessUnitIds"] == [11] and calls[0].body["jobTypeId"] == 502
    assert calls[0].body["startsOnOrAfter"] == "2030-06-03T05:00:00Z"  # local midnight in UTC
    open_days = {d.day for d in days if d.available}
    assert date(2030, 6, 2) not in open_days  # before today
    assert date(2030, 6, 9) not in open_days  # a Sunday: no frames
    assert date(2030, 6, 4) in open_days and date(2030, 6, 29) in open_days
    assert len(servicetitan.requests_to("/connect/token")) == 1  # one token for every call


async def test_pieces_across_the_end_of_daylight_saving_stay_within_fourteen_days(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    """3 Nov 2030 has 25 hours in Austin: 14 local days holding it are 14 days and an hour."""
    days = await strategy(db, servicetitan, clients, horizon_days=200).get_month_availability(2030, 11)
    calls = sorted(servicetitan.requests_to("/capacity"), key=lambda c: c.body["startsOnOrAfter"])
    spans = [(datetime.fromisoformat(c.body["startsOnOrAfter"]), datetime.fromisoformat(c.body["endsOnOrBefore"])) for c in calls]
    assert all(end - start <= timedelta(days=14) for start, end in spans)
    assert spans[0][0] == datetime(2030, 11, 1, 5, tzinfo=UTC) and spans[-1][1] == datetime(2030, 12, 1, 6, tzinfo=UTC)
    assert all(earlier[1] == later[0] for earlier, later in zip(spans, spans[1:]))  # no gap, no overlap
    assert date(2030, 11, 4) in {d.day for d in days if d.available}


async def test_a_day_has_the_frames_as_arrival_windows_in_local_time(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    servicetitan.take(servicetitan.frame_start(date(2030, 6, 4), 2))
    servicetitan.take(servicetitan.frame_start(date(2030, 6, 4), 2))
    windows = await strategy(db, servicetitan, clients).get_date_timeslots(date(2030, 6, 4))
    assert [(w.window_id, w.label, w.remaining) for w in windows] == [
        ("0800-1100", "8 – 11 am", 2), ("1100-1400", "11 am – 2 pm", 2), ("1400-1700", "2 – 5 pm", 0),
    ]


async def test_zip_codes_find_their_business_units_through_every_page_of_zones(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    vendor = strategy(db, servicetitan, clients, zip_code="79055")
    assert await vendor.serves_zip("79055") is True
    assert await vendor.serves_zip("10001") is False
    pages = [int(r.query["page"]) for r in servicetitan.requests_to("/zones")]
    assert pages == [1, 2]  # 62 zones, 50 a page: hasMore says when to stop
    await vendor.get_month_availability(2030, 6)
    assert servicetitan.requests_to("/capacity")[0].body["businessUnitIds"] == [75]


async def test_crm_booking_sends_the_documented_fields(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    booking = await strategy(db, servicetitan, clients).create_booking(request_for(date(2030, 6, 4)))
    sent = servicetitan.bookings[0]
    assert booking.external_id == str(sent["id"])
    assert sent["externalId"] == "WB-ST0001" and sent["source"] == "Online booking" and sent["isFirstTimeClient"] is True
    assert sent["start"] == "2030-06-04T13:00:00Z" and sent["jobTypeId"] == 502 and sent["businessUnitId"] == 11 and sent["campaignId"] == 31
    assert sent["name"] == "Ada Lovelace" and sent["address"]["zip"] == "78701"
    assert {c["type"] for c in sent["contacts"]} == {"MobilePhone", "Email"}
    assert "Drip under the sink" in sent["summary"] and "WB-ST0001" in sent["summary"]


async def test_job_booking_makes_customer_location_then_job_with_its_arrival_window(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    saved: list[dict] = []

    async def save(done: dict) -> None:
        saved.append(done)

    vendor = strategy(db, servicetitan, clients, booking_mode="job", booking_provider_id=None)
    booking = await vendor.create_booking(request_for(date(2030, 6, 4), "1100-1400", progress=BookingProgress(save=save)))
    job = servicetitan.jobs[0]
    assert booking.external_id == str(job["id"])
    assert job["customerId"] == servicetitan.customers[0]["id"] and job["locationId"] == servicetitan.locations[0]["id"]
    assert job["appointments"] == [{
        "start": "2030-06-04T16:00:00Z", "end": "2030-06-04T17:30:00Z",
        "arrivalWindowStart": "2030-06-04T16:00:00Z", "arrivalWindowEnd": "2030-06-04T19:00:00Z",
    }]
    assert [sorted(s) for s in saved] == [["customer_id"], ["customer_id", "location_id"], ["customer_id", "job_id", "location_id"]]


async def test_an_expired_token_is_fetched_again_once(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    vendor = strategy(db, servicetitan, clients)
    await vendor.get_date_timeslots(date(2030, 6, 4), fresh=True)
    servicetitan.expire_tokens()
    assert await vendor.get_date_timeslots(date(2030, 6, 4), fresh=True)
    assert len(servicetitan.requests_to("/connect/token")) == 2


async def test_wrong_credentials_are_a_clear_error_without_the_secret(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    vendor = strategy(db, servicetitan, clients, client_secret="not-the-secret")
    with pytest.raises(VendorRejected) as raised:
        await vendor.get_month_availability(2030, 6)
    assert "invalid_client" in str(raised.value) and "not-the-secret" not in str(raised.value)


async def test_validation_errors_name_the_fields(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    vendor = strategy(db, servicetitan, clients, default_job_type_id=999, job_types={})
    with pytest.raises(VendorRejected) as raised:
        await vendor.get_month_availability(2030, 6)
    assert "One or more validation errors occurred. (jobTypeId: Job type 999 was not found.)" in str(raised.value)


async def test_429_with_retry_after_is_waited_out_and_retried(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    servicetitan.fail_next("/capacity", status=429, retry_after="1")
    windows = await strategy(db, servicetitan, clients).get_date_timeslots(date(2030, 6, 4), fresh=True)
    assert len(windows) == 3 and len(servicetitan.requests_to("/capacity")) == 2


async def test_a_long_retry_after_is_handed_back_rather_than_waited(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    servicetitan.fail_next("/capacity", status=429, retry_after="120")
    with pytest.raises(VendorUnavailable) as raised:
        await strategy(db, servicetitan, clients).get_date_timeslots(date(2030, 6, 4), fresh=True)
    assert raised.value.retry_after == 120


async def test_a_full_frame_at_booking_time_is_slot_unavailable(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    for _ in range(2):
        servicetitan.take(servicetitan.frame_start(date(2030, 6, 4), 0))
    with pytest.raises(SlotUnavailable):
        await strategy(db, servicetitan, clients).create_booking(request_for(date(2030, 6, 4)))


async def test_a_retried_booking_after_a_late_answer_finds_the_first_one(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    servicetitan.fail_next("/bookings", method="POST", hang_seconds=3, then_process=True)
    vendor = strategy(db, servicetitan, clients)
    with pytest.raises(VendorUnavailable) as raised:
        await vendor.create_booking(request_for(date(2030, 6, 4)))
    assert raised.value.ambiguous
    booking = await vendor.create_booking(request_for(date(2030, 6, 4), progress=BookingProgress(retried=True)))
    assert len(servicetitan.bookings) == 1 and booking.external_id == str(servicetitan.bookings[0]["id"])


async def test_availability_is_cached_per_service_and_zip(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    await strategy(db, servicetitan, clients).get_month_availability(2030, 6)
    await strategy(db, servicetitan, clients).get_date_timeslots(date(2030, 6, 4))
    assert len(servicetitan.requests_to("/capacity")) == 2  # the month's answer served the day
    await strategy(db, servicetitan, clients, zip_code="78704").get_month_availability(2030, 6)
    assert len(servicetitan.requests_to("/capacity")) == 4  # another ZIP, other business units


@pytest.mark.parametrize("late", ["/customers", "/locations", "/jobs"])
async def test_a_job_booking_retried_after_any_late_answer_makes_each_part_once(
    db: Database, servicetitan: FakeServiceTitan, clients: VendorClients, late: str
) -> None:
    vendor = strategy(db, servicetitan, clients, booking_mode="job", booking_provider_id=None)
    servicetitan.fail_next(late, method="POST", hang_seconds=2.5, then_process=True)
    progress: dict = {}

    async def save(done: dict) -> None:
        progress.update(done)

    with pytest.raises(VendorUnavailable):
        await vendor.create_booking(request_for(date(2030, 6, 4), progress=BookingProgress(save=save)))
    booking = await vendor.create_booking(request_for(date(2030, 6, 4), progress=BookingProgress(progress, save, retried=True)))
    assert (len(servicetitan.customers), len(servicetitan.locations), len(servicetitan.jobs)) == (1, 1, 1)
    assert booking.external_id == str(servicetitan.jobs[0]["id"])


async def test_windows_that_have_started_are_not_offered(db: Database, servicetitan: FakeServiceTitan, clients: VendorClients) -> None:
    """At 12:30 the 8–11 and 11–2 frames of today have started: not shown (not even "Full"),
    and today counts only what is still ahead."""
    lunchtime = local_now("2030-06-03T12:30")
    found = vendor_for(db, with_vendor(servicetitan_vendor(servicetitan)).organization, lunchtime, clients=clients,
                       scope=AvailabilityScope.of_booking(ChosenService.from_document(LEAK), "78701"))
    windows = await found.get_date_timeslots(date(2030, 6, 3))
    assert [w.window_id for w in windows] == ["1400-1700"]
    [today] = [d for d in await found.get_month_availability(2030, 6) if d.day == date(2030, 6, 3)]
    assert today.remaining == windows[0].remaining
