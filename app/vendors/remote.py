"""What the clients of field-service systems share: their connections and caching.

A remote vendor answers availability for a service at an address, so each strategy is
made for one visitor's scope (service and ZIP code). Its arrival windows come from the
vendor and are named by their times (`0800-1100`), which stay the same between calls.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import Field

from app.db import Database
from app.domain.place import KnownPlace
from app.vendors.availability_cache import AvailabilityCache
from app.vendors.base import (
    ArrivalWindow,
    AvailabilityScope,
    BookingRequest,
    DayAvailability,
    SlotUnavailable,
    VendorBooking,
    VendorOwner,
    VendorRejected,
    VendorSettings,
    VendorStrategy,
)
from app.vendors.calendar_rules import month_days
from app.vendors.http import ErrorReader, VendorHttp, body_text
from app.vendors.tokens import AccessTokens

# Zones, service areas and similar settings change rarely: keep them longer.
SETTINGS_CACHE_SECONDS = 15 * 60


class RemoteVendor(VendorSettings):
    """What every field-service system's client shares: time-outs, pacing, caching, and how
    far ahead visitors may book (a vendor with a calendar of ours uses the calendar's)."""

    timeout_seconds: float = Field(default=10, gt=0, le=60)
    horizon_days: int = Field(default=60, ge=1, le=366)
    requests_per_second: float = Field(default=5, gt=0, le=100)
    availability_cache_seconds: int = Field(default=60, ge=0, le=900)


@dataclass
class VendorClients:
    """One per process: the HTTP client, access tokens and availability answers."""

    http: VendorHttp
    tokens: AccessTokens = field(default_factory=AccessTokens)
    availability: AvailabilityCache = field(default_factory=AvailabilityCache)

    @classmethod
    def create(cls) -> VendorClients:
        return cls(VendorHttp.create())

    async def close(self) -> None:
        await self.http.close()


def window_id_for(start: time, end: time) -> str:
    return f"{start:%H%M}-{end:%H%M}"


def _clock(t: time) -> tuple[str, str]:
    hour = t.hour % 12 or 12
    text = f"{hour}" if t.minute == 0 else f"{hour}:{t.minute:02d}"
    return text, "am" if t.hour < 12 else "pm"


def window_label(start: time, end: time) -> str:
    """'8 – 11 am', '11 am – 2 pm': how the built-in calendar's demo labels read."""
    (s, s_half), (e, e_half) = _clock(start), _clock(end)
    return f"{s} – {e} {e_half}" if s_half == e_half else f"{s} {s_half} – {e} {e_half}"


def arrival_window(start: datetime, end: datetime, zone: Any, remaining: int, counted: bool = True) -> ArrivalWindow:
    """A vendor's time frame as an arrival window on the company's local date."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    return ArrivalWindow(
        day=local_start.date(),
        window_id=window_id_for(local_start.time(), local_end.time()),
        label=window_label(local_start.time(), local_end.time()),
        start=local_start.time(),
        end=local_end.time(),
        remaining=remaining,
        counted=counted,
    )


class RemoteVendorStrategy(VendorStrategy):
    books_through_outbox = True
    config: RemoteVendor

    @classmethod
    def create(
        cls, db: Database, owner: VendorOwner, now: datetime, clients: VendorClients | None, scope: AvailabilityScope
    ) -> RemoteVendorStrategy:
        if clients is None:
            raise RuntimeError("a remote vendor needs the process's VendorClients")
        return cls(db, owner, clients, scope, now)

    def __init__(
        self,
        db: Database,
        organization: VendorOwner,
        clients: VendorClients,
        scope: AvailabilityScope,
        now: datetime,
    ) -> None:
        self.db = db
        self.organization = organization
        self.config = organization.vendor  # type: ignore[assignment]
        self.clients = clients
        self.scope = scope
        self.now = now
        self.zone = organization.zone
        self.today = now.astimezone(self.zone).date()

    async def book_against_known_place(self, request: BookingRequest, customer_key: str, place_key: str, as_int: bool = False) -> None:
        """A returning customer chose an address the vendor has: the booking takes that
        customer and address (`customer_key`, `place_key` in its progress) instead of making new ones."""
        known, progress = request.booking.known_place, request.progress
        if known is None or known.source != "vendor" or not known.vendor_customer_id or not known.vendor_location_id:
            return
        if progress.get(customer_key) is None:
            convert = int if as_int else str
            await progress.remember(customer_key, convert(known.vendor_customer_id))
            await progress.remember(place_key, convert(known.vendor_location_id))

    # -- what each vendor implements -------------------------------------------------

    @abstractmethod
    async def _windows_between(self, first: date, last: date) -> list[ArrivalWindow]:
        """Every arrival window the vendor offers from `first` to `last` (local dates)."""

    @abstractmethod
    async def _book(self, request: BookingRequest) -> str:
        """Make the booking at the vendor (reusing what `request.progress` says was made); its id."""

    @property
    @abstractmethod
    def account(self) -> str:
        """A fingerprint of the credentials: the key for pacing and tokens (never the secret)."""

    def scope_to(self, scope: AvailabilityScope) -> None:
        self.scope = scope

    async def create_booking(self, request: BookingRequest) -> VendorBooking:
        # Whoever built this strategy (the outbox has no visitor), the booking's own service
        # and ZIP code decide job types, business units and durations.
        self.scope = AvailabilityScope.of_booking(request.booking.service, request.booking.zip_code)
        with self.taking_a_place():
            external_id = await self._book(request)
        return VendorBooking(vendor_type=self.vendor_type, external_id=external_id)

    # -- shared ----------------------------------------------------------------------

    @contextmanager
    def taking_a_place(self) -> Iterator[None]:
        """Around a call that takes a place at the vendor (a booking, a move): its 409 means
        the window filled up since the visitor chose it; once it went through, the next
        visitor sees the vendor's own count again."""
        try:
            yield
        except VendorRejected as exc:
            if exc.status == 409:
                raise SlotUnavailable(exc.message) from None
            raise
        self.forget_availability()

    async def _send(self, method: str, url: str, *, read_error: ErrorReader = body_text, **kwargs: Any) -> Any:
        response = await self.clients.http.send(
            self.vendor_type,
            self.account,
            method,
            url,
            timeout=self.config.timeout_seconds,
            rate=self.config.requests_per_second,
            read_error=read_error,
            **kwargs,
        )
        return response.json() if response.content else None

    def cache_key(self, *parts: Any) -> tuple[Any, ...]:
        return (self.organization.slug, self.vendor_type, *parts)

    @property
    def last_bookable_day(self) -> date | None:
        return self.today + timedelta(days=self.config.horizon_days)

    async def _windows_by_day(self, first: date, last: date, fresh: bool) -> dict[date, list[ArrivalWindow]]:
        first = max(first, self.today)
        last = min(last, self.last_bookable_day or last)
        if last < first:
            return {}

        async def load() -> dict[date, list[ArrivalWindow]]:
            by_day: dict[date, list[ArrivalWindow]] = defaultdict(list)
            for window in await self._windows_between(first, last):
                if first <= window.day <= last:
                    by_day[window.day].append(window)
            return {d: sorted(ws, key=lambda w: w.start) for d, ws in by_day.items()}

        if fresh:
            # What the vendor says now replaces what was kept: the calendar must not offer
            # a window the re-check just found full.
            self.forget_availability()
            return await load()
        key = self.cache_key("windows", self.scope.service_id, self.scope.zip_code, first, last)
        return await self.clients.availability.get(key, self.config.availability_cache_seconds, load)

    def _still_ahead(self, window: ArrivalWindow) -> bool:
        """A window that has started is not offered at all (not shown "Full")."""
        return datetime.combine(window.day, window.start, tzinfo=self.zone) > self.now

    async def get_month_availability(self, year: int, month: int) -> list[DayAvailability]:
        days = month_days(year, month)
        by_day = await self._windows_by_day(days[0], days[-1], fresh=False)
        return [
            DayAvailability(day=d, remaining=sum(w.remaining for w in by_day.get(d, []) if self._still_ahead(w)))
            for d in days
        ]

    async def get_date_timeslots(
        self, day: date, *, session_id: str | None = None, fresh: bool = False
    ) -> list[ArrivalWindow]:
        if fresh:
            by_day = await self._windows_by_day(day, day, fresh=True)
        else:
            # The month's answer serves its days: one vendor call per month and scope.
            days = month_days(day.year, day.month)
            by_day = await self._windows_by_day(days[0], days[-1], fresh=False)
        return [w for w in by_day.get(day, []) if self._still_ahead(w)]

    async def check_connection(self, day: date) -> str:
        """Ask the vendor what a visitor's calendar would (`vendors check --connect`)."""
        windows = await self.get_date_timeslots(day, fresh=True)
        return f"{len(windows)} arrival windows on {day}, {sum(1 for w in windows if w.available)} free"

    def forget_availability(self) -> None:
        """Drop the organization's kept availability (after a booking, or a fresh answer)."""
        self.clients.availability.forget(self.cache_key("windows"))

    def local_datetime(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.zone)

    def window_bounds(self, day: date, window_id: str) -> tuple[datetime, datetime]:
        start_text, end_text = window_id.split("-")
        start = time(int(start_text[:2]), int(start_text[2:]))
        end = time(int(end_text[:2]), int(end_text[2:]))
        return self.local_datetime(day, start), self.local_datetime(day, end)


def utc_text(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, the way these APIs write times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time from a vendor (with Z or an offset) as an aware datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- returning customers: what every vendor's customer search is read with ------------------


def search_terms(phone: str | None, email: str | None) -> list[str]:
    """What to search a vendor's customers by: the email, then the phone's ten digits."""
    return [t for t in (email, phone.removeprefix("+1") if phone else None) if t]


def same_contact(phone: str | None, email: str | None, numbers: Iterable[object], emails: Iterable[object]) -> bool:
    """Whether a customer a search found has exactly the visitor's email (any case) or phone
    number (its digits end in theirs): searches match names and parts of numbers too."""
    digits = phone.removeprefix("+1") if phone else None
    if email and email.lower() in {str(e).lower() for e in emails}:
        return True
    return bool(digits) and any(re.sub(r"\D", "", str(n)).endswith(str(digits)) for n in numbers)


@dataclass(frozen=True)
class AddressFields:
    """What a vendor calls the parts of an address."""

    street: str = "street"
    unit: str = "unit"
    city: str = "city"
    state: str = "state"
    zip_code: str = "zip"


def vendor_place(customer_id: object, location_id: object, address: Mapping[str, Any], fields: AddressFields = AddressFields()) -> KnownPlace:
    """An address a vendor keeps for one of its customers, with both their ids there."""

    def part(name: str) -> str:
        return str(address.get(name) or "")

    return KnownPlace(
        "", street=part(fields.street), unit=part(fields.unit), city=part(fields.city), state=part(fields.state),
        zip_code=part(fields.zip_code)[:5], source="vendor", vendor_customer_id=str(customer_id), vendor_location_id=str(location_id),
    )


def booking_summary(request: BookingRequest) -> str:
    """What the office reads on the vendor's side: the service, the answers, our reference."""
    lines = [f"{request.booking.service.name} — booked online ({request.booking.reference})"]
    if request.booking.window.label:
        lines.append(f"Arrival window: {request.booking.window.label}")
    if request.booking.known_place is not None:
        lines.append("Returning customer: booked at an address on file")
    if request.photo_links:  # before the details: a long description is what the 2,000 characters cut
        lines.append(f"Photos of the problem ({len(request.photo_links)}):")
        lines += [f"  {link}" for link in request.photo_links]
    for name, value in request.booking.details.items():
        if value not in (None, "", False):
            lines.append(f"{name}: {'yes' if value is True else value}")
    return "\n".join(lines)[:2000]
