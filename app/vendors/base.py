"""The interface every vendor strategy implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from app.domain.booking import Booking, ChosenService, ChosenWindow
from app.domain.config import Model
from app.domain.photo import Photo
from app.domain.place import KnownPlace

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from app.db import Database
    from app.vendors.remote import VendorClients


class VendorSettings(Model):
    """What a company writes under `vendor:` in its YAML; each vendor module subclasses it
    with `type: Literal["its-name"]` and its own fields."""

    type: str


class VendorOwner(Protocol):
    """The organization a vendor strategy works for (app.flows.models.Organization is one)."""

    @property
    def slug(self) -> str: ...

    @property
    def zone(self) -> ZoneInfo: ...

    @property
    def vendor(self) -> VendorSettings: ...


@dataclass(frozen=True)
class AvailabilityScope:
    """What the visitor has chosen so far that a remote vendor's availability depends on."""

    service_id: str | None = None
    duration_minutes: int = 60
    zip_code: str | None = None

    @classmethod
    def of_booking(cls, service: ChosenService | None, zip_code: str | None) -> AvailabilityScope:
        if service is None:
            return cls(zip_code=zip_code)
        return cls(service.id, service.duration_minutes, zip_code)


@dataclass(frozen=True)
class ArrivalWindow:
    """A window on one day in which a technician arrives, and how many places are left."""

    day: date
    window_id: str
    label: str
    start: time
    end: time
    remaining: int
    counted: bool = True  # False: the vendor says open or not, `remaining` is not a count

    @property
    def available(self) -> bool:
        return self.remaining > 0

    def chosen(self) -> ChosenWindow:
        """The window as a booking keeps it (without the count of places)."""
        return ChosenWindow(self.day, self.window_id, self.label, self.start, self.end)


@dataclass(frozen=True)
class DayAvailability:
    day: date
    remaining: int  # places left over all windows; 0 on closed or full days

    @property
    def available(self) -> bool:
        return self.remaining > 0


class BookingProgress:
    """What a booking made of several vendor calls has created so far (customer, address…).

    Saved after each call, so a retry continues where the last try stopped instead of
    creating a second customer. `retried` says an earlier try may have gone through:
    look for what it made before creating again.
    """

    def __init__(
        self,
        done: dict[str, Any] | None = None,
        save: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
        retried: bool = False,
    ) -> None:
        self.done: dict[str, Any] = dict(done or {})
        self._save = save
        self.retried = retried

    def get(self, key: str) -> Any:
        return self.done.get(key)

    async def remember(self, key: str, value: Any) -> None:
        self.done[key] = value
        if self._save is not None:
            await self._save(dict(self.done))


class PhotoFiles(Protocol):
    """A booking's photos of the problem as a vendor may take them (app/photos/ gives them):
    a link the office can open, or the bytes of the resized copy to attach."""

    def link(self, photo: Photo) -> str: ...

    async def read(self, photo: Photo) -> bytes: ...


@dataclass(frozen=True)
class BookingRequest:
    """A booking to make at the vendor, and what earlier tries of it made there.

    `booking.session_id` is the idempotency key (one session makes at most one booking);
    `booking.reference` is sent as the vendor's external id (empty for the built-in
    calendar, which books before the reference is drawn).
    """

    booking: Booking
    progress: BookingProgress = field(default_factory=BookingProgress)
    # Links to the booking's photos of the problem, for the job's notes (booking_summary).
    photo_links: tuple[str, ...] = ()

    @property
    def day(self) -> date:
        return self.booking.window.day

    @property
    def window_id(self) -> str:
        return self.booking.window.window_id


@dataclass(frozen=True)
class VendorBooking:
    vendor_type: str
    external_id: str


class SlotUnavailable(Exception):
    """The chosen window has no place left (or can no longer be booked)."""


class VendorError(Exception):
    """A field-service system did not do what we asked; the message is safe to log."""

    def __init__(self, vendor: str, message: str) -> None:
        super().__init__(f"{vendor}: {message}")
        self.vendor = vendor
        self.message = message


class VendorUnavailable(VendorError):
    """Timed out, unreachable, 5xx or still throttled: the same request may work later.

    `ambiguous` means the vendor may have acted on it (a time-out after the request was
    sent), so whoever retries a create must first look for what the last try made.
    """

    def __init__(self, vendor: str, message: str, *, retry_after: float | None = None, ambiguous: bool = False) -> None:
        super().__init__(vendor, message)
        self.retry_after = retry_after
        self.ambiguous = ambiguous


class VendorRejected(VendorError):
    """The vendor refused the request as it is (validation, permissions): retrying won't help."""

    def __init__(self, vendor: str, message: str, *, status: int | None = None) -> None:
        super().__init__(vendor, message)
        self.status = status


class VendorUnauthorized(VendorRejected):
    """Credentials missing, wrong or expired."""


class VendorStrategy(ABC):
    vendor_type: ClassVar[str]
    settings_model: ClassVar[type[VendorSettings]]
    # Remote vendors are pushed to through the outbox after the booking is stored;
    # the local calendar takes the place atomically before it is stored.
    books_through_outbox: bool = False
    # Whether visitors who can't book (out of area) are passed on as leads (create_lead).
    takes_leads: bool = False

    @property
    def last_bookable_day(self) -> date | None:
        """The furthest day visitors may book (the company's horizon); None: no limit known.
        The calendar does not page past its month."""
        return None

    @abstractmethod
    async def get_month_availability(self, year: int, month: int) -> list[DayAvailability]:
        """Every day of the month with the places left on it."""

    @abstractmethod
    async def get_date_timeslots(
        self, day: date, *, session_id: str | None = None, fresh: bool = False
    ) -> list[ArrivalWindow]:
        """The arrival windows of a day; a window held by `session_id` counts as free to it.

        `fresh` asks the vendor itself rather than a recent answer (before booking).
        """

    @classmethod
    @abstractmethod
    def create(
        cls, db: Database, owner: VendorOwner, now: datetime, clients: VendorClients | None, scope: AvailabilityScope
    ) -> VendorStrategy:
        """The strategy for one request (or one outbox push) of `owner`."""

    def scope_to(self, scope: AvailabilityScope) -> None:
        """Answer from now on for what the visitor has chosen (a remote vendor's availability
        depends on the service and the ZIP code; the built-in calendar's does not)."""

    async def hold_timeslot(self, day: date, window_id: str, session_id: str) -> bool:
        """Keep a place for the session for a few minutes; False when none is left."""
        windows = await self.get_date_timeslots(day, session_id=session_id)
        return any(w.window_id == window_id and w.available for w in windows)

    async def release_hold(self, day: date, window_id: str, session_id: str) -> None:
        """Give back a place the session held (it chose another window)."""

    async def undo_booking(self, request: BookingRequest) -> None:
        """Give back the place create_booking took when the booking could not be recorded
        (only the built-in calendar books inline; remote vendors book through the outbox)."""

    async def serves_zip(self, zip_code: str) -> bool | None:
        """Whether the vendor's service area covers the ZIP code; None when it keeps none."""
        return None

    async def create_lead(self, lead: dict[str, Any]) -> str | None:
        """Pass a visitor who left their details on to the vendor; None when it takes no leads."""
        return None

    @abstractmethod
    async def create_booking(self, request: BookingRequest) -> VendorBooking:
        """Book the window; idempotent per session; raises SlotUnavailable when it is full."""

    async def customer_places(self, phone: str | None, email: str | None) -> list[KnownPlace]:
        """The addresses of the vendor's customers with exactly this phone (E.164) or email,
        each with the customer's and the address's ids there; none when it keeps no customers."""
        return []

    @property
    def takes_photo_files(self) -> bool:
        """Whether the vendor's API takes a job's photos as files (attach_photos); the others
        get links to them in the job's notes (booking_summary)."""
        return False

    async def attach_photos(self, booking: Booking, photos: PhotoFiles, progress: BookingProgress) -> None:
        """Attach the booking's photos to its job at the vendor (takes_photo_files), each
        once: `progress` remembers those done, so a retry sends only the rest."""

    @property
    def can_reschedule(self) -> bool:
        """Whether the visitor's booking page may move a booking made here (else: the phone)."""
        return False

    @property
    def can_cancel(self) -> bool:
        """Whether the visitor's booking page may cancel a booking made here (else: the phone)."""
        return False

    async def reschedule_booking(self, booking: Booking, window: ChosenWindow) -> None:
        """Move the booking to `window` (SlotUnavailable when it is full); the old place is
        given back only once the new one is taken."""
        raise VendorRejected(self.vendor_type, "bookings are changed by phone")

    async def cancel_booking(self, booking: Booking) -> None:
        """Cancel the booking and give its place back; cancelling again changes nothing."""
        raise VendorRejected(self.vendor_type, "bookings are cancelled by phone")
