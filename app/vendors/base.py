"""The interface every vendor strategy implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any


@dataclass(frozen=True)
class ArrivalWindow:
    """A window on one day in which a technician arrives, and how many places are left."""

    day: date
    window_id: str
    label: str
    start: time
    end: time
    remaining: int

    @property
    def available(self) -> bool:
        return self.remaining > 0


@dataclass(frozen=True)
class DayAvailability:
    day: date
    remaining: int  # places left over all windows; 0 on closed or full days

    @property
    def available(self) -> bool:
        return self.remaining > 0


@dataclass(frozen=True)
class BookingRequest:
    session_id: str  # the idempotency key: one session makes at most one booking
    day: date
    window_id: str
    service: dict[str, Any]
    customer: dict[str, str]
    details: dict[str, Any] = field(default_factory=dict)
    zip_code: str | None = None


@dataclass(frozen=True)
class VendorBooking:
    vendor_type: str
    external_id: str


class SlotUnavailable(Exception):
    """The chosen window has no place left (or can no longer be booked)."""


class VendorStrategy(ABC):
    vendor_type: str

    @abstractmethod
    async def get_month_availability(self, year: int, month: int) -> list[DayAvailability]:
        """Every day of the month with the places left on it."""

    @abstractmethod
    async def get_date_timeslots(self, day: date, *, session_id: str | None = None) -> list[ArrivalWindow]:
        """The arrival windows of a day; a window held by `session_id` counts as free to it."""

    async def hold_timeslot(self, day: date, window_id: str, session_id: str) -> bool:
        """Keep a place for the session for a few minutes; False when none is left."""
        windows = await self.get_date_timeslots(day, session_id=session_id)
        return any(w.window_id == window_id and w.available for w in windows)

    async def release_hold(self, day: date, window_id: str, session_id: str) -> None:
        """Give back a place the session held (it chose another window)."""

    @abstractmethod
    async def create_booking(self, request: BookingRequest) -> VendorBooking:
        """Book the window; idempotent per session; raises SlotUnavailable when it is full."""
