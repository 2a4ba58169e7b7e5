"""ServiceTitan: capacity from Dispatch, bookings in CRM or as jobs in JPM.

Auth is OAuth client credentials; the token (15 minutes) is kept per tenant and app and
renewed a minute before it lapses. Every call sends `ST-App-Key` and the bearer token.
Capacity is asked for at most 14 days at a time; a ZIP code picks its business units
through the dispatch zones.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import httpx
from pydantic import Field, model_validator

from app.domain.booking import Booking, ChosenWindow
from app.domain.config import Credential, HttpsUrl, Identifier
from app.domain.place import KnownPlace
from app.vendors.base import (
    ArrivalWindow,
    BookingProgress,
    BookingRequest,
    PhotoFiles,
    VendorRejected,
    VendorUnauthorized,
)
from app.vendors.credentials import fingerprint, reveal
from app.vendors.remote import (
    SETTINGS_CACHE_SECONDS,
    RemoteVendor,
    RemoteVendorStrategy,
    arrival_window,
    booking_summary,
    parse_time,
    same_contact,
    search_terms,
    utc_text,
    vendor_place,
)

PAGE_SIZE = 50
MAX_PAGES = 100  # 5,000 zones: far beyond any company; stops a paging loop that never ends
EXTERNAL_DATA_KEY = "wrkbelt-reference"
SOURCE = "Online booking"


def servicetitan_error(response: httpx.Response) -> str:
    """Their ApiErrorResponse: `title` and `errors {field: [messages]}` as one line."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:300]
    title = str(body.get("title") or body.get("error") or response.reason_phrase)
    errors = body.get("errors") or {}
    details = "; ".join(
        f"{field}: {' '.join(str(m) for m in messages) if isinstance(messages, list) else messages}"
        for field, messages in errors.items()
    ) if isinstance(errors, dict) else ""
    return f"{title} ({details})" if details else title


class ServiceTitanVendor(RemoteVendor):
    type: Literal["servicetitan"]
    api_url: HttpsUrl = "https://api.servicetitan.io"
    auth_url: HttpsUrl = "https://auth.servicetitan.io"
    tenant: int = Field(gt=0)
    client_id: Credential
    client_secret: Credential
    app_key: Credential
    # "crm": a booking in the call-booking screen that a CSR turns into a job;
    # "job": the job itself, with an appointment in the chosen arrival window.
    booking_mode: Literal["crm", "job"] = "crm"
    # Job mode: the cancel reason a visitor's online cancellation is filed under (Settings >
    # Job cancel reasons). Without it, visitors cancel by phone.
    cancel_reason_id: int | None = Field(default=None, gt=0)
    booking_provider_id: int | None = Field(default=None, gt=0)
    campaign_id: int = Field(gt=0)
    # Our service id -> ServiceTitan job type id; services not listed use the default.
    job_types: dict[Identifier, Annotated[int, Field(gt=0)]] = Field(default_factory=dict)
    default_job_type_id: int = Field(gt=0)
    # Used when no dispatch zone names the visitor's ZIP code's business units.
    business_unit_ids: list[Annotated[int, Field(gt=0)]] = Field(default_factory=list)
    skill_based_availability: bool = False
    # How many days of capacity one request asks for (ServiceTitan allows up to 14).
    capacity_chunk_days: int = Field(default=14, ge=1, le=14)

    @model_validator(mode="after")
    def _crm_needs_provider(self) -> ServiceTitanVendor:
        if self.booking_mode == "crm" and self.booking_provider_id is None:
            raise ValueError("booking_mode 'crm' needs booking_provider_id (Settings > Integrations > Booking providers)")
        return self

    def job_type_for(self, service_id: str) -> int:
        return self.job_types.get(service_id, self.default_job_type_id)


class ServiceTitanStrategy(RemoteVendorStrategy):
    vendor_type = "servicetitan"
    settings_model = ServiceTitanVendor
    config: ServiceTitanVendor

    @property
    def account(self) -> str:
        return fingerprint(self.config.auth_url, str(self.config.tenant), reveal(self.config.client_id, self.vendor_type, "client_id"))

    def _tenant_url(self, area: str, path: str) -> str:
        return f"{self.config.api_url}/{area}/v2/tenant/{self.config.tenant}{path}"

    async def _fetch_token(self) -> tuple[str, float]:
        body = await self._send(
            "POST",
            f"{self.config.auth_url}/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": reveal(self.config.client_id, self.vendor_type, "client_id"),
                "client_secret": reveal(self.config.client_secret, self.vendor_type, "client_secret"),
            },
            read_error=servicetitan_error,
        )
        try:
            return str(body["access_token"]), float(body.get("expires_in", 900))
        except (KeyError, TypeError, ValueError):
            raise VendorRejected(self.vendor_type, "the token endpoint answered without an access_token") from None

    async def _api(self, method: str, area: str, path: str, **kwargs: Any) -> Any:
        """A tenant API call; a token the API refuses is fetched again, once."""
        for attempt in (1, 2):
            token = await self.clients.tokens.get(self.account, self._fetch_token)
            headers = {
                "Authorization": f"Bearer {token}",
                "ST-App-Key": reveal(self.config.app_key, self.vendor_type, "app_key"),
            }
            try:
                return await self._send(method, self._tenant_url(area, path), headers=headers, read_error=servicetitan_error, **kwargs)
            except VendorUnauthorized as exc:
                if attempt == 2 or exc.status != 401:
                    raise
                self.clients.tokens.forget(self.account)
        raise AssertionError("unreachable")

    # -- zones -----------------------------------------------------------------------

    async def _zones(self) -> list[dict[str, Any]]:
        async def load() -> list[dict[str, Any]]:
            zones: list[dict[str, Any]] = []
            for page in range(1, MAX_PAGES + 1):
                body = await self._api("GET", "dispatch", "/zones", params={"page": page, "pageSize": PAGE_SIZE, "active": "True"})
                zones.extend(body.get("data") or [])
                if not body.get("hasMore"):
                    break
            return zones

        return await self.clients.availability.get(self.cache_key("zones"), SETTINGS_CACHE_SECONDS, load)

    async def _business_units(self, zip_code: str | None) -> list[int]:
        """The business units of the zones that list the ZIP code (else the configured ones)."""
        units: set[int] = set()
        if zip_code:
            for zone in await self._zones():
                if zone.get("active", True) and zip_code in (zone.get("zips") or []):
                    units.update(int(u) for u in zone.get("businessUnits") or [])
        return sorted(units) or list(self.config.business_unit_ids)

    async def serves_zip(self, zip_code: str) -> bool | None:
        return bool(await self._business_units(zip_code))

    async def check_connection(self, day: date) -> str:
        zones = await self._zones()  # needs the token, the app key and the tenant
        return f"{len(zones)} dispatch zones; " + await super().check_connection(day)

    # -- availability ----------------------------------------------------------------

    def _job_type(self) -> int:
        return self.config.job_type_for(self.scope.service_id or "")

    async def _windows_between(self, first: date, last: date) -> list[ArrivalWindow]:
        units = await self._business_units(self.scope.zip_code)
        if not units:
            return []
        windows: dict[tuple[date, str], ArrivalWindow] = {}
        await self.clients.tokens.get(self.account, self._fetch_token)  # one token for all the pieces
        pieces = self._capacity_pieces(first, last)
        # The pieces are asked for together (paced), not one after the other.
        answers = await asyncio.gather(*(self._capacity(units, start, end) for start, end in pieces))
        for body in answers:
            for frame in body.get("availabilities") or []:
                window = self._window_of(frame)
                if window is None:
                    continue
                key = (window.day, window.window_id)
                if key in windows:  # the same frame for several business units: add the places
                    earlier = windows[key]
                    window = replace(window, remaining=earlier.remaining + window.remaining)
                windows[key] = window
        return list(windows.values())

    def _capacity_pieces(self, first: date, last: date) -> list[tuple[date, date]]:
        """Local days cut into pieces whose elapsed time is within the API's limit: a piece
        holding the day the clocks go back is an hour longer than its days."""
        limit = timedelta(days=self.config.capacity_chunk_days)
        pieces: list[tuple[date, date]] = []
        start = first
        while start <= last:
            end = min(start + limit - timedelta(days=1), last)
            while end > start and self._elapsed(start, end) > limit:
                end -= timedelta(days=1)
            pieces.append((start, end))
            start = end + timedelta(days=1)
        return pieces

    def _elapsed(self, start: date, end: date) -> timedelta:
        """From the start of `start` to the end of `end`, in real time (not wall-clock time)."""
        midnight = datetime.min.time()
        return self.local_datetime(end + timedelta(days=1), midnight).astimezone(UTC) - self.local_datetime(start, midnight).astimezone(UTC)

    async def _capacity(self, units: list[int], start: date, end: date) -> dict[str, Any]:
        return await self._api(
            "POST",
            "dispatch",
            "/capacity",
            json={
                "startsOnOrAfter": utc_text(self.local_datetime(start, datetime.min.time())),
                "endsOnOrBefore": utc_text(self.local_datetime(end + timedelta(days=1), datetime.min.time())),
                "businessUnitIds": units,
                "jobTypeId": self._job_type(),
                "skillBasedAvailability": self.config.skill_based_availability,
            },
            safe_to_repeat=True,  # a query sent as POST: asking twice changes nothing
        ) or {}

    def _window_of(self, frame: dict[str, Any]) -> ArrivalWindow | None:
        try:
            start, end = parse_time(frame["start"]), parse_time(frame["end"])
            open_places = float(frame.get("openAvailability") or 0)
        except (KeyError, TypeError, ValueError):
            return None
        is_open = frame["isAvailable"] if "isAvailable" in frame else open_places > 0
        remaining = max(int(open_places), 1) if is_open else 0
        return arrival_window(start, end, self.zone, remaining)

    # -- booking ---------------------------------------------------------------------

    def _address(self, request: BookingRequest) -> dict[str, str]:
        c = request.booking.customer
        street = c.street_line
        return {"street": street, "city": c.city, "state": c.state, "zip": c.zip_code or request.booking.zip_code or "", "country": "USA"}

    def _name(self, request: BookingRequest) -> str:
        return f"{request.booking.customer.first_name} {request.booking.customer.last_name}".strip()

    def _contacts(self, request: BookingRequest) -> list[dict[str, str]]:
        contacts = []
        if request.booking.customer.phone:
            contacts.append({"type": "MobilePhone", "value": request.booking.customer.phone, "memo": "Online booking"})
        if request.booking.customer.email:
            contacts.append({"type": "Email", "value": request.booking.customer.email, "memo": "Online booking"})
        return contacts

    async def _book(self, request: BookingRequest) -> str:
        if self.config.booking_mode == "crm":
            return str(await self._crm_booking(request))
        return str(await self._job_booking(request))

    async def _crm_booking(self, request: BookingRequest) -> int:
        path = f"/booking-provider/{self.config.booking_provider_id}/bookings"
        if request.progress.retried:
            found = await self._api("GET", "crm", path, params={"externalId": request.booking.reference, "pageSize": 1})
            if found.get("data"):
                return int(found["data"][0]["id"])
        units = await self._business_units(self.scope.zip_code)
        start, _ = self.window_bounds(request.day, request.window_id)
        body = await self._api(
            "POST",
            "crm",
            path,
            json={
                "source": SOURCE,
                "name": self._name(request),
                "summary": booking_summary(request),
                "isFirstTimeClient": True,
                "externalId": request.booking.reference,
                "address": self._address(request),
                "customerType": "Residential",
                "contacts": self._contacts(request),
                "start": utc_text(start),
                "jobTypeId": self._job_type(),
                "businessUnitId": units[0] if units else None,
                "campaignId": self.config.campaign_id,
                "priority": "Normal",
            },
        )
        return int(body["id"])

    async def _first_id(self, area: str, path: str, **params: object) -> int | None:
        found = await self._api("GET", area, path, params={**params, "pageSize": 1})
        return int(found["data"][0]["id"]) if found.get("data") else None

    async def _earlier_job_parts(self, request: BookingRequest) -> None:
        """After a try that may have gone through: take the job, customer and location it made."""
        progress, mine = request.progress, {"externalDataKey": EXTERNAL_DATA_KEY, "externalDataValues": request.booking.reference}
        for key, area, path, params in (
            ("job_id", "jpm", "/jobs", mine),
            ("customer_id", "crm", "/customers", mine),
        ):
            if progress.get(key) is None and (found := await self._first_id(area, path, **params)) is not None:
                await progress.remember(key, found)
        if progress.get("job_id") is None and progress.get("customer_id") is not None and progress.get("location_id") is None:
            found = await self._first_id("crm", "/locations", customerId=progress.get("customer_id"))
            if found is not None:
                await progress.remember("location_id", found)

    async def _job_booking(self, request: BookingRequest) -> int:
        progress = request.progress
        await self.book_against_known_place(request, "customer_id", "location_id", as_int=True)
        if progress.retried and progress.get("job_id") is None:
            await self._earlier_job_parts(request)
        if progress.get("job_id") is not None:
            return int(progress.get("job_id"))
        if progress.get("customer_id") is None:
            customer = await self._api(
                "POST", "crm", "/customers",
                json={"name": self._name(request), "type": "Residential", "address": self._address(request), "contacts": self._contacts(request),
                      "externalData": [{"key": EXTERNAL_DATA_KEY, "value": request.booking.reference}]},
            )
            await progress.remember("customer_id", int(customer["id"]))
        if progress.get("location_id") is None:
            location = await self._api(
                "POST", "crm", "/locations",
                json={"customerId": progress.get("customer_id"), "name": "Service address", "address": self._address(request)},
            )
            await progress.remember("location_id", int(location["id"]))
        units = await self._business_units(self.scope.zip_code)
        start, end = self.window_bounds(request.day, request.window_id)
        duration = timedelta(minutes=request.booking.service.duration_minutes)
        job = await self._api(
            "POST", "jpm", "/jobs",
            json={
                "customerId": progress.get("customer_id"),
                "locationId": progress.get("location_id"),
                "businessUnitId": units[0] if units else None,
                "jobTypeId": self._job_type(),
                "priority": "Normal",
                "campaignId": self.config.campaign_id,
                "summary": booking_summary(request),
                "externalData": [{"key": EXTERNAL_DATA_KEY, "value": request.booking.reference}],
                "appointments": [{
                    "start": utc_text(start),
                    "end": utc_text(start + duration),
                    "arrivalWindowStart": utc_text(start),
                    "arrivalWindowEnd": utc_text(end),
                }],
            },
        )
        await progress.remember("job_id", int(job["id"]))
        return int(progress.get("job_id"))

    # -- changes after booking (job mode) ----------------------------------------------
    # A CRM booking is not yet a job: the office turns it into one, so it changes by phone.

    @property
    def can_reschedule(self) -> bool:
        return self.config.booking_mode == "job"

    @property
    def can_cancel(self) -> bool:
        return self.config.booking_mode == "job" and self.config.cancel_reason_id is not None

    # -- returning customers ------------------------------------------------------------
    # The CRM's customer search takes a phone number (not an email); each customer's
    # locations are its service addresses.

    async def customer_places(self, phone: str | None, email: str | None) -> list[KnownPlace]:
        if not phone:
            return []
        found = await self._api("GET", "crm", "/customers", params={"phone": search_terms(phone, None)[0], "active": "True", "pageSize": 5})
        places: list[KnownPlace] = []
        for customer in (found or {}).get("data", [])[:3]:
            if not same_contact(phone, None, [c.get("value") for c in customer.get("contacts") or []], []):
                continue  # a search may match loosely: only this very number counts
            locations = await self._api("GET", "crm", "/locations", params={"customerId": customer["id"], "active": "True", "pageSize": 5})
            places += [vendor_place(customer["id"], loc["id"], loc.get("address") or {}) for loc in (locations or {}).get("data", [])]
        return places

    # -- photos of the problem -------------------------------------------------------------
    # Attached to the job as files (the Forms API's job attachments); a CRM booking has no
    # job yet, so its photos are the links in its summary.

    @property
    def takes_photo_files(self) -> bool:
        return self.config.booking_mode == "job"

    async def attach_photos(self, booking: Booking, photos: PhotoFiles, progress: BookingProgress) -> None:
        job = self._job_id(booking)
        if progress.retried:  # an earlier try may have attached some without hearing back
            attached = await self._api("GET", "forms", f"/jobs/{job}/attachments")
            names = {a.get("fileName") for a in (attached or {}).get("data", [])}
            for photo in booking.photos:
                if photo.filename in names and progress.get(f"photo:{photo.id}") is None:
                    await progress.remember(f"photo:{photo.id}", "found")
        for photo in booking.photos:
            if progress.get(f"photo:{photo.id}") is not None:
                continue
            data = await photos.read(photo)
            answer = await self._api("POST", "forms", f"/jobs/{job}/attachments", files={"file": (photo.filename, data, "image/jpeg")})
            await progress.remember(f"photo:{photo.id}", (answer or {}).get("id") or "attached")

    def _job_id(self, booking: Booking) -> int:
        if not booking.vendor.external_id:
            raise VendorRejected(self.vendor_type, f"booking {booking.reference} has no ServiceTitan job yet")
        return int(booking.vendor.external_id)

    async def reschedule_booking(self, booking: Booking, window: ChosenWindow) -> None:
        """The job's appointment moves to the new arrival window (ServiceTitan gives the old
        capacity back itself); 409 from ServiceTitan: the window is full."""
        found = await self._api("GET", "jpm", "/appointments", params={"jobId": self._job_id(booking), "pageSize": 50})
        appointments = [a for a in found.get("data") or [] if a.get("active", True)]
        if not appointments:
            raise VendorRejected(self.vendor_type, f"job {self._job_id(booking)} has no appointment to move")
        start, end = self.window_bounds(window.day, window.window_id)
        duration = timedelta(minutes=booking.service.duration_minutes)
        with self.taking_a_place():
            await self._api(
                "PATCH", "jpm", f"/appointments/{int(appointments[0]['id'])}/reschedule",
                json={"start": utc_text(start), "end": utc_text(start + duration),
                      "arrivalWindowStart": utc_text(start), "arrivalWindowEnd": utc_text(end)},
            )

    async def cancel_booking(self, booking: Booking) -> None:
        if self.config.cancel_reason_id is None:
            raise VendorRejected(self.vendor_type, "no cancel_reason_id is configured: cancellations are by phone")
        await self._api(
            "PUT", "jpm", f"/jobs/{self._job_id(booking)}/cancel",
            json={"reasonId": self.config.cancel_reason_id, "memo": f"Cancelled online by the customer ({booking.reference})"},
        )
        self.forget_availability()
