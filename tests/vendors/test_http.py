"""The one HTTP client every vendor uses: pacing, retries, Retry-After, what is safe to repeat."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from app.demo.fakes.housecallpro import FakeHousecallPro
from app.vendors.base import VendorRejected, VendorUnavailable
from app.vendors.http import retry_after_seconds
from app.vendors.remote import VendorClients

AUTH = {"Authorization": "Token hcp-fake-key"}


async def call(clients: VendorClients, fake: FakeHousecallPro, method: str = "GET", path: str = "/service_zones", rate: float = 50, **kwargs: object) -> httpx.Response:
    return await clients.http.send(
        "housecallpro", "acct", method, fake.url + path, timeout=1.0, rate=rate, headers=AUTH, **kwargs  # type: ignore[arg-type]
    )


async def test_calls_on_one_account_are_paced_to_its_rate(clients: VendorClients, housecallpro: FakeHousecallPro) -> None:
    started = time.monotonic()
    await asyncio.gather(*(call(clients, housecallpro, rate=10, params={"zip_code": "78701"}) for _ in range(15)))
    # A burst of 10 goes at once; the other 5 wait their turn at 10 a second.
    assert time.monotonic() - started >= 0.5 * 0.9
    assert len(housecallpro.requests_to("/service_zones")) == 15


async def test_a_read_is_retried_after_5xx(clients: VendorClients, housecallpro: FakeHousecallPro) -> None:
    housecallpro.fail_next("/service_zones", status=502, times=2)
    assert (await call(clients, housecallpro, params={"zip_code": "78701"})).status_code == 200
    assert len(housecallpro.requests_to("/service_zones")) == 3


async def test_a_create_that_failed_with_5xx_is_not_sent_again(clients: VendorClients, housecallpro: FakeHousecallPro) -> None:
    housecallpro.fail_next("/customers", status=500)
    with pytest.raises(VendorUnavailable) as raised:
        await call(clients, housecallpro, "POST", "/customers", json={"first_name": "Ada"})
    assert raised.value.ambiguous and len(housecallpro.requests_to("/customers")) == 1


async def test_a_create_refused_with_429_is_sent_again(clients: VendorClients, housecallpro: FakeHousecallPro) -> None:
    housecallpro.fail_next("/customers", status=429, retry_after="0")
    assert (await call(clients, housecallpro, "POST", "/customers", json={"first_name": "Ada"})).status_code == 201
    assert len(housecallpro.customers) == 1


async def test_out_of_tries_is_unavailable_and_a_4xx_is_rejected_at_once(clients: VendorClients, housecallpro: FakeHousecallPro) -> None:
    housecallpro.fail_next("/service_zones", status=503, times=10)
    with pytest.raises(VendorUnavailable, match=r"answered 503.*\(3 tries\)"):
        await call(clients, housecallpro)
    housecallpro.state.faults.clear()
    with pytest.raises(VendorRejected) as raised:
        await call(clients, housecallpro, "POST", "/customers", json={})
    assert raised.value.status == 422 and len(housecallpro.requests_to("/customers")) == 1


async def test_a_read_that_times_out_is_tried_again(clients: VendorClients, housecallpro: FakeHousecallPro) -> None:
    housecallpro.fail_next("/service_zones", hang_seconds=1.5)
    assert (await call(clients, housecallpro, params={"zip_code": "78701"})).status_code == 200


def test_retry_after_as_seconds_or_an_http_date(instant: datetime) -> None:
    def answer(value: str) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": value})

    assert retry_after_seconds(answer("7")) == 7
    later = format_datetime(instant + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_seconds(answer(later)) or 0) <= 30
    assert retry_after_seconds(answer("soon")) is None
    assert retry_after_seconds(httpx.Response(429)) is None
