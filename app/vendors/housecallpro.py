"""Housecall Pro: booking windows, service zones, customers with addresses, jobs, leads.

Auth is the company's API key as `Authorization: Token …`. Booking windows come in the
service's length (30 minutes when none is given); consecutive open ones are joined into
the arrival windows the visitor chooses from.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

import httpx
from pydantic import Field, StringConstraints

from app.domain.booking import Booking, ChosenWindow
from app.domain.config import Credential, HttpsUrl, Identifier, Text
from app.domain.place import KnownPlace
from app.vendors.base import ArrivalWindow, BookingRequest, VendorRejected
from app.vendors.credentials import fingerprint, reveal
from app.vendors.remote import (
    SETTINGS_CACHE_SECONDS,
    AddressFields,
    RemoteVendor,
    RemoteVendorStrategy,
    arrival_window,
    booking_summary,
    parse_time,
    same_contact,
    search_terms,
    vendor_place,
)

PAGE_SIZE = 100


def housecallpro_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or error)[:300]
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[:300]
    return str(error or body)[:300]


def joined_windows(slots: list[dict[str, Any]], zone: Any) -> list[ArrivalWindow]:
    """Consecutive open booking windows of one day as one arrival window each."""
    runs: list[list[datetime]] = []
    for slot in sorted(slots, key=lambda s: s.get("start_time", "")):
        if not slot.get("available"):
            continue
        try:
            start, end = parse_time(slot["start_time"]), parse_time(slot["end_time"])
        except (KeyError, TypeError, ValueError):
            continue
        last = runs[-1] if runs else None
        if last is not None and last[1] == start and start.astimezone(zone).date() == last[0].astimezone(zone).date():
            last[1] = end
        else:
            runs.append([start, end])
    # Housecall Pro says open or not, never how many: shown as "Available".
    return [arrival_window(start, end, zone, 1, counted=False) for start, end in runs]


HCP_ADDRESS = AddressFields(unit="street_line_2")


class HousecallProVendor(RemoteVendor):
    type: Literal["housecallpro"]
    api_url: HttpsUrl = "https://api.housecallpro.com"
    api_key: Credential
    # Our service id -> Housecall Pro online-booking service id (its duration then applies).
    services: dict[Identifier, Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=dict
    )
    lead_source: Text = "Online booking"


class HousecallProStrategy(RemoteVendorStrategy):
    vendor_type = "housecallpro"
    settings_model = HousecallProVendor
    takes_leads = True
    config: HousecallProVendor

    @property
    def account(self) -> str:
        return fingerprint(self.config.api_url, self._api_key())

    def _api_key(self) -> str:
        return reveal(self.config.api_key, self.vendor_type, "api_key")

    async def _api(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Token {self._api_key()}", "Accept": "application/json"}
        return await self._send(method, f"{self.config.api_url}{path}", headers=headers, read_error=housecallpro_error, **kwargs)

    async def serves_zip(self, zip_code: str) -> bool | None:
        async def load() -> bool:
            body = await self._api("GET", "/service_zones", params={"zip_code": zip_code})
            return bool(body.get("service_zones"))

        return await self.clients.availability.get(self.cache_key("zones", zip_code), SETTINGS_CACHE_SECONDS, load)

    async def _windows_between(self, first: date, last: date) -> list[ArrivalWindow]:
        params: dict[str, Any] = {
            "start_date": first.isoformat(),
            "show_for_days": (last - first).days + 1,
            "service_duration": self.scope.duration_minutes,
        }
        service_id = self.config.services.get(self.scope.service_id or "")
        if service_id:
            params["service_id"] = service_id
        body = await self._api("GET", "/company/schedule_availability/booking_windows", params=params)
        return joined_windows(body.get("booking_windows") or [], self.zone)

    # -- booking ---------------------------------------------------------------------

    def _customer(self, request: BookingRequest) -> dict[str, Any]:
        c = request.booking.customer
        return {
            "first_name": c.first_name,
            "last_name": c.last_name,
            "email": c.email or None,
            "mobile_number": c.phone or None,
            "notifications_enabled": True,
            "lead_source": self.config.lead_source,
            "tags": [request.booking.reference],
            "addresses": [{
                "street": c.street,
                "street_line_2": c.unit or None,
                "city": c.city,
                "state": c.state,
                "zip": c.zip_code or request.booking.zip_code or "",
                "country": "US",
                "type": "service",
            }],
        }

    async def _earlier_job(self, customer_id: str, reference: str) -> str | None:
        body = await self._api("GET", "/jobs", params={"customer_id": customer_id, "page_size": PAGE_SIZE})
        return next((str(j["id"]) for j in body.get("jobs") or [] if reference in (j.get("tags") or [])), None)

    async def _earlier_customer(self, request: BookingRequest) -> dict[str, Any] | None:
        query = request.booking.customer.email or request.booking.customer.phone
        if not query:
            return None
        body = await self._api("GET", "/customers", params={"q": query, "page_size": PAGE_SIZE})
        return next((c for c in body.get("customers") or [] if request.booking.reference in (c.get("tags") or [])), None)

    async def customer_places(self, phone: str | None, email: str | None) -> list[KnownPlace]:
        """`GET /customers?q=` (it searches names, emails, mobile numbers and addresses): only
        customers whose email or mobile number is exactly the visitor's count."""
        places: list[KnownPlace] = []
        seen: set[str] = set()
        for query in search_terms(phone, email):
            body = await self._api("GET", "/customers", params={"q": query, "page_size": 5})
            for customer in body.get("customers") or []:
                if str(customer["id"]) in seen or not same_contact(phone, email, [customer.get("mobile_number")], [customer.get("email")]):
                    continue
                seen.add(str(customer["id"]))
                places += [vendor_place(customer["id"], a["id"], a, HCP_ADDRESS) for a in customer.get("addresses") or []]
        return places

    async def _book(self, request: BookingRequest) -> str:
        progress = request.progress
        await self.book_against_known_place(request, "customer_id", "address_id")
        if progress.retried and progress.get("customer_id") is None:
            earlier = await self._earlier_customer(request)
            if earlier is not None:
                await progress.remember("customer_id", str(earlier["id"]))
                await progress.remember("address_id", str(earlier["addresses"][0]["id"]))
        if progress.get("customer_id") is None:
            customer = await self._api("POST", "/customers", json=self._customer(request))
            await progress.remember("customer_id", str(customer["id"]))
            await progress.remember("address_id", str(customer["addresses"][0]["id"]))
        job_id = progress.get("job_id")
        if job_id is None and progress.retried:
            job_id = await self._earlier_job(progress.get("customer_id"), request.booking.reference)
        if job_id is None:
            start, end = self.window_bounds(request.day, request.window_id)
            duration = timedelta(minutes=request.booking.service.duration_minutes)
            job = await self._api(
                "POST",
                "/jobs",
                json={
                    "customer_id": progress.get("customer_id"),
                    "address_id": progress.get("address_id"),
                    "schedule": {
                        "scheduled_start": start.isoformat(),
                        "scheduled_end": (start + duration).isoformat(),
                        "arrival_window": int((end - start).total_seconds() // 60),
                    },
                    "notes": booking_summary(request),
                    "lead_source": self.config.lead_source,
                    "tags": [request.booking.reference],
                },
            )
            job_id = str(job["id"])
        await progress.remember("job_id", job_id)
        return str(job_id)

    async def create_lead(self, lead: dict[str, Any]) -> str | None:
        body = await self._api(
            "POST",
            "/leads",
            json={
                "customer": {"email": lead.get("email"), "mobile_number": lead.get("phone"), "lead_source": self.config.lead_source},
                "lead_source": self.config.lead_source,
                "note": f"Left their details online: {lead.get('reason', 'out of area')} (ZIP {lead.get('zip_code') or 'unknown'})",
            },
        )
        return str(body["id"])

    # -- changes after booking ---------------------------------------------------------
    # Housecall Pro documents moving a job's schedule and deleting it. A cancellation takes
    # the job off the schedule (its time is free) with a note saying why; the job itself
    # stays for the office to close, as Housecall Pro has no documented cancel.

    @property
    def can_reschedule(self) -> bool:
        return True

    @property
    def can_cancel(self) -> bool:
        return True

    async def cancel_booking(self, booking: Booking) -> None:
        if not booking.vendor.external_id:
            raise VendorRejected(self.vendor_type, f"booking {booking.reference} has no Housecall Pro job yet")
        job = booking.vendor.external_id
        await self._api("POST", f"/jobs/{job}/notes", json={"content": f"Cancelled online by the customer ({booking.reference})."})
        await self._api("DELETE", f"/jobs/{job}/schedule")
        self.forget_availability()

    async def reschedule_booking(self, booking: Booking, window: ChosenWindow) -> None:
        if not booking.vendor.external_id:
            raise VendorRejected(self.vendor_type, f"booking {booking.reference} has no Housecall Pro job yet")
        start, end = self.window_bounds(window.day, window.window_id)
        duration = timedelta(minutes=booking.service.duration_minutes)
        with self.taking_a_place():
            await self._api("PUT", f"/jobs/{booking.vendor.external_id}/schedule", json={
                "start_time": start.isoformat(),
                "end_time": (start + duration).isoformat(),
                "arrival_window_in_minutes": int((end - start).total_seconds() // 60),
                "notify": False,  # our email tells the customer
            })
