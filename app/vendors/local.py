"""The built-in vendor: a capacity calendar kept in MongoDB.

One document per organization, day and arrival window holds the sessions that booked it
and the holds that keep a place for a visitor who is still typing. Every change is a
compare-and-swap on the document's version, so when many visitors take the last places
of a window at once, exactly as many succeed as there were places.

What the calendar shows is read a month at a time (one query on the organization and
date index), and the month is kept in the process for `MONTH_SECONDS`, shared by every
visitor of the organization paging through it: the day's windows come from the same
read. A change this process makes forgets it at once; one another process made shows
here within seconds, and before that a visitor who picks a window already gone is told
so by the hold, which always reads the window itself.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Hashable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pymongo.errors import DuplicateKeyError

from app.db import Database
from app.domain.booking import Booking, ChosenWindow
from app.vendors.base import (
    ArrivalWindow,
    AvailabilityScope,
    BookingRequest,
    DayAvailability,
    SlotUnavailable,
    VendorBooking,
    VendorOwner,
    VendorSettings,
    VendorStrategy,
)
from app.vendors.calendar_rules import ArrivalWindowConfig, CalendarRules, LocalCalendar, month_days

if TYPE_CHECKING:
    from app.vendors.remote import VendorClients

# Attempts at a compare-and-swap before giving up; contention on one window is short-lived.
_MAX_ATTEMPTS = 200

SlotChange = Callable[[dict[str, Any]], bool]
# How long a process keeps a month of the calendar it read (see above).
MONTH_SECONDS = 5.0


def slot_id(organization_id: str, day: date, window_id: str) -> str:
    return f"{organization_id}|{day.isoformat()}|{window_id}"


def slot_document(organization_id: str, day: date, window_id: str, booked: list[str] | None = None) -> dict[str, Any]:
    """The calendar's document for one window on one day (see _change_slot)."""
    booked = booked or []
    return {
        "_id": slot_id(organization_id, day, window_id),
        "organization_id": organization_id,
        "date": day.isoformat(),
        "window_id": window_id,
        "booked": booked,
        "booked_count": len(booked),
        "holds": [],
        "version": 0,
    }


class LocalVendor(VendorSettings):
    """The built-in calendar: capacity per arrival window, kept in our database."""

    type: Literal["local"] = "local"
    calendar: LocalCalendar


class LocalCalendarVendor(VendorStrategy):
    vendor_type = "local"
    settings_model = LocalVendor

    @classmethod
    def create(
        cls, db: Database, owner: VendorOwner, now: datetime, clients: VendorClients | None, scope: AvailabilityScope
    ) -> LocalCalendarVendor:
        return cls(db, owner, now, clients)

    def __init__(self, db: Database, organization: VendorOwner, now: datetime, clients: VendorClients | None = None) -> None:
        self._db = db
        self._clients = clients
        self._months: dict[tuple[int, int], dict[str, dict[str, Any]]] = {}  # read by this request
        self._organization_id = organization.slug
        if not isinstance(organization.vendor, LocalVendor):
            raise TypeError(f"{organization.slug} books through {organization.vendor.type}, not the built-in calendar")
        self._calendar = organization.vendor.calendar
        self._rules = CalendarRules(self._calendar, organization.zone, now)
        self._now = now
        self._windows = self._rules.windows

    @property
    def last_bookable_day(self) -> date | None:
        return self._rules.today + timedelta(days=self._calendar.horizon_days)

    # -- reading ---------------------------------------------------------------------

    def _slot_id(self, day: date, window_id: str) -> str:
        return slot_id(self._organization_id, day, window_id)

    def _remaining(self, window: ArrivalWindowConfig, slot: dict[str, Any] | None, session_id: str | None) -> int:
        return max(window.capacity - self._taken(slot, session_id), 0)

    def _taken(self, slot: dict[str, Any] | None, session_id: str | None) -> int:
        """Places booked or held by others; the session's own hold or booking counts as free to it."""
        if slot is None:
            return 0
        held = sum(1 for h in slot["holds"] if h["expires_at"] > self._now and h["session_id"] != session_id)
        taken: int = slot["booked_count"] + held
        if session_id is not None and session_id in slot["booked"]:
            taken -= 1
        return taken

    async def _slots_between(self, first: date, last: date) -> dict[str, dict[str, Any]]:
        cursor = self._db.calendar_slots.find(
            {"organization_id": self._organization_id, "date": {"$gte": first.isoformat(), "$lte": last.isoformat()}}
        )
        return {doc["_id"]: doc async for doc in cursor}

    def _cache_key(self, *parts: Hashable) -> tuple[Hashable, ...]:
        return ("local", self._organization_id, *parts)

    async def _month_slots(self, year: int, month: int) -> dict[str, dict[str, Any]]:
        """The month's slot documents: from this request, the process (a few seconds old at
        most), or the database."""
        if (year, month) not in self._months:
            days = month_days(year, month)

            async def load() -> dict[str, dict[str, Any]]:
                return await self._slots_between(days[0], days[-1])

            if self._clients is None:
                self._months[(year, month)] = await load()
            else:
                self._months[(year, month)] = await self._clients.availability.get(self._cache_key("month", year, month), MONTH_SECONDS, load)
        return self._months[(year, month)]

    def _forget_months(self) -> None:
        self._months.clear()
        if self._clients is not None:
            self._clients.availability.forget(self._cache_key())

    async def get_month_availability(self, year: int, month: int) -> list[DayAvailability]:
        slots = await self._month_slots(year, month)
        return self._rules.month_availability(
            year, month, lambda day, w: self._taken(slots.get(self._slot_id(day, w.id)), None)
        )

    async def get_date_timeslots(
        self, day: date, *, session_id: str | None = None, fresh: bool = False
    ) -> list[ArrivalWindow]:
        slots = await self._slots_between(day, day) if fresh else await self._month_slots(day.year, day.month)
        return self._rules.arrival_windows(
            day, lambda d, w: self._taken(slots.get(self._slot_id(d, w.id)), session_id)
        )

    # -- changing --------------------------------------------------------------------

    async def _change_slot(self, day: date, window_id: str, change: SlotChange) -> bool:
        """Apply `change` to the slot document atomically; False when it declines."""
        slot_id = self._slot_id(day, window_id)
        for attempt in range(_MAX_ATTEMPTS):
            found = await self._db.calendar_slots.find_one({"_id": slot_id})
            fresh = found is None
            doc = slot_document(self._organization_id, day, window_id) if found is None else found
            version = doc["version"]
            doc["holds"] = [h for h in doc["holds"] if h["expires_at"] > self._now]
            if not change(doc):
                return False
            doc["booked_count"] = len(doc["booked"])  # written with the list it counts, in one swap
            doc["version"] = version + 1
            if fresh:
                try:
                    await self._db.calendar_slots.insert_one(doc)
                    self._forget_months()
                    return True
                except DuplicateKeyError:
                    pass
            else:
                result = await self._db.calendar_slots.replace_one({"_id": slot_id, "version": version}, doc)
                if result.matched_count == 1:
                    self._forget_months()
                    return True
            # Someone else changed the window first: look again after a short, random pause.
            await asyncio.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
        raise RuntimeError(f"calendar slot {slot_id} stayed contended for {_MAX_ATTEMPTS} attempts")

    def _window(self, window_id: str) -> ArrivalWindowConfig:
        try:
            return self._windows[window_id]
        except KeyError:
            raise SlotUnavailable(f"unknown arrival window {window_id!r}") from None

    async def hold_timeslot(self, day: date, window_id: str, session_id: str) -> bool:
        window = self._window(window_id)
        if not self._rules.window_is_bookable(day, window):
            return False
        if self._calendar.hold_minutes == 0:
            # No holds: nothing to write, only whether a place is left right now.
            windows = await self.get_date_timeslots(day, session_id=session_id, fresh=True)
            return any(w.window_id == window_id and w.available for w in windows)
        expires_at = self._now + timedelta(minutes=self._calendar.hold_minutes)

        def take_hold(slot: dict[str, Any]) -> bool:
            slot["holds"] = [h for h in slot["holds"] if h["session_id"] != session_id]
            if session_id in slot["booked"]:
                return True
            if self._remaining(window, slot, session_id) <= 0:
                return False
            slot["holds"].append({"session_id": session_id, "expires_at": expires_at})
            return True

        return await self._change_slot(day, window_id, take_hold)

    async def release_hold(self, day: date, window_id: str, session_id: str) -> None:
        if window_id not in self._windows:
            return

        def drop_hold(slot: dict[str, Any]) -> bool:
            before = len(slot["holds"])
            slot["holds"] = [h for h in slot["holds"] if h["session_id"] != session_id]
            return len(slot["holds"]) != before

        await self._change_slot(day, window_id, drop_hold)

    async def create_booking(self, request: BookingRequest) -> VendorBooking:
        window = self._window(request.window_id)
        session_id = request.booking.session_id

        def book(slot: dict[str, Any]) -> bool:
            if session_id in slot["booked"]:
                return True  # a retried confirm: already booked
            if not self._rules.window_is_bookable(request.day, window):
                return False
            if self._remaining(window, slot, session_id) <= 0:
                return False
            slot["holds"] = [h for h in slot["holds"] if h["session_id"] != session_id]
            slot["booked"].append(session_id)
            return True

        if not await self._change_slot(request.day, request.window_id, book):
            raise SlotUnavailable(f"{request.day} {request.window_id} has no place left")
        return VendorBooking(vendor_type=self.vendor_type, external_id=self._slot_id(request.day, request.window_id))

    @property
    def can_reschedule(self) -> bool:
        return True

    @property
    def can_cancel(self) -> bool:
        return True

    async def reschedule_booking(self, booking: Booking, window: ChosenWindow) -> None:
        if (window.day, window.window_id) == (booking.window.day, booking.window.window_id):
            return
        await self.create_booking(BookingRequest(replace(booking, window=window)))  # SlotUnavailable when full
        await self.undo_booking(BookingRequest(booking))

    async def cancel_booking(self, booking: Booking) -> None:
        await self.undo_booking(BookingRequest(booking))

    async def undo_booking(self, request: BookingRequest) -> None:
        if request.window_id not in self._windows:
            return

        def unbook(slot: dict[str, Any]) -> bool:
            if request.booking.session_id not in slot["booked"]:
                return False
            slot["booked"].remove(request.booking.session_id)
            return True

        await self._change_slot(request.day, request.window_id, unbook)
