"""Vendor fakes started once per module, and the demo organization pointed at them.

Tests that walk the flow through one fake per vendor ask for `fake` (parametrized by
`vendor_type`, every vendor unless a module says otherwise) and drain the outbox with
`drain_later`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from quart import Quart

from app.bookings.outbox import OutboxDrainer
from app.db import Database
from app.demo.fakes.housecallpro import FakeHousecallPro
from app.demo.fakes.jobber import FakeJobber
from app.demo.fakes.server import FakeVendor
from app.demo.fakes.servicetitan import FakeServiceTitan
from app.domain.booking import ChosenService
from app.flows.models import OrganizationConfig
from app.vendors.base import AvailabilityScope
from app.vendors.http import RetryPolicy, VendorHttp
from app.vendors.registry import vendor_for
from app.vendors.remote import RemoteVendorStrategy, VendorClients
from app.web.services import services_of
from tests.conftest import demo_booking_into, demo_config

FAKES: dict[str, type[FakeVendor]] = {"servicetitan": FakeServiceTitan, "housecallpro": FakeHousecallPro, "jobber": FakeJobber}


@pytest.fixture(params=list(FAKES))
def vendor_type(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fake(vendor_type: str) -> Iterator[FakeVendor]:
    started = FAKES[vendor_type]().start()
    yield started
    started.stop()


def booking_into_fake(vendor_type: str, fake: FakeVendor) -> OrganizationConfig:
    """The demo company booking into `fake`; ServiceTitan makes jobs (not CRM bookings), so
    its customers, locations and attachments are the ones the others have."""
    job_mode = {"booking_mode": "job"} if vendor_type == "servicetitan" else {}
    return demo_booking_into(vendor_type, fake.url, timeout_seconds=2.0, horizon_days=366, **job_mode)


async def drain_later(app: Quart, seconds: float) -> int:
    """Run the outbox as the background drainer would, `seconds` from now (with the
    photos, when the app keeps them)."""
    services = services_of(app)
    moment = services.clock() + timedelta(seconds=seconds)
    photos = services.photos.files if services.photos is not None else None
    return await OutboxDrainer(services.db, services.outbox._vendor_lookup, lambda: moment, photos=photos).drain_once()


def with_vendor(vendor: dict[str, Any]) -> OrganizationConfig:
    """The demo organization (its flows and services) booking through `vendor`."""
    data = demo_config().model_dump()
    data["vendor"] = vendor
    return OrganizationConfig.model_validate(data)


def servicetitan_vendor(fake: FakeServiceTitan, **changes: Any) -> dict[str, Any]:
    return {
        "type": "servicetitan",
        "api_url": fake.url,
        "auth_url": fake.url,
        "tenant": fake.tenant,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "app_key": fake.app_key,
        "booking_provider_id": 77,
        "campaign_id": 31,
        "default_job_type_id": 501,
        "job_types": {"leak-repair": 502},
        "timeout_seconds": 1.5,
        "availability_cache_seconds": 30,
    } | changes


@pytest.fixture
def servicetitan() -> Iterator[FakeServiceTitan]:
    fake = FakeServiceTitan().start()
    yield fake
    fake.stop()


@pytest.fixture
async def clients() -> AsyncIterator[VendorClients]:
    # Short waits: tests script 429s and 5xx and should not sit out production backoff.
    vendor_clients = VendorClients(VendorHttp.create(RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2, longest_wait=2)))
    yield vendor_clients
    await vendor_clients.close()


def booking_customer() -> dict[str, str]:
    return {
        "first_name": "Ada", "last_name": "Lovelace", "phone": "+15125550100", "email": "ada@example.com",
        "street": "1 Congress Ave", "unit": "", "city": "Austin", "state": "TX", "zip_code": "78701",
    }


def local_now(text: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("America/Chicago"))


NOW = local_now("2030-06-03T07:00")  # a Monday morning in Austin
Strategy = TypeVar("Strategy", bound=RemoteVendorStrategy)


def strategy_for(
    db: Database, vendor: dict[str, Any], clients: VendorClients, service: dict[str, Any] | None,
    expected: type[Strategy], zip_code: str = "78701",
) -> Strategy:
    """The demo organization booking through `vendor`, for a visitor who chose `service` in `zip_code`."""
    organization = with_vendor(vendor).organization
    found = vendor_for(db, organization, NOW, clients=clients, scope=AvailabilityScope.of_booking(ChosenService.from_document(service) if service else None, zip_code))
    assert isinstance(found, expected)
    return found


def housecallpro_vendor(fake: FakeHousecallPro, **changes: Any) -> dict[str, Any]:
    return {"type": "housecallpro", "api_url": fake.url, "api_key": fake.api_key, "timeout_seconds": 1.5} | changes


@pytest.fixture
def housecallpro() -> Iterator[FakeHousecallPro]:
    fake = FakeHousecallPro().start()
    yield fake
    fake.stop()


def jobber_vendor(fake: FakeJobber, **changes: Any) -> dict[str, Any]:
    return {
        "type": "jobber", "api_url": fake.url, "client_id": fake.client_id, "client_secret": fake.client_secret,
        "refresh_token": "rt-initial", "timeout_seconds": 1.5,
        "calendar": {
            "windows": [
                {"id": "morning", "label": "8 – 11 am", "start": "08:00", "end": "11:00", "capacity": 2},
                {"id": "afternoon", "label": "1 – 4 pm", "start": "13:00", "end": "16:00", "capacity": 1},
            ],
            "closed_weekdays": ["sat", "sun"], "minimum_notice_hours": 2, "horizon_days": 45,
        },
    } | changes


@pytest.fixture
def jobber() -> Iterator[FakeJobber]:
    fake = FakeJobber().start()
    yield fake
    fake.stop()
