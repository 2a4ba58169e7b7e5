"""When a configured arrival window can be booked: open days, notice and horizon.

The built-in calendar and Jobber (which has no availability query of its own) both turn
a company's working days and arrival windows into bookable windows; they differ only in
how many places are already taken, which each passes in as `taken`.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field

from app.domain.config import WEEKDAYS, Identifier, Model, Text, Weekday
from app.vendors.base import ArrivalWindow, DayAvailability


class ArrivalWindowConfig(Model):
    id: Identifier
    label: Text
    start: time
    end: time
    capacity: int = Field(ge=0, le=1000)


class LocalCalendar(Model):
    """The built-in vendor's calendar rules."""

    windows: list[ArrivalWindowConfig] = Field(min_length=1)
    closed_weekdays: list[Weekday] = Field(default_factory=list)
    closed_dates: list[date] = Field(default_factory=list)
    minimum_notice_hours: int = Field(default=2, ge=0, le=24 * 30)
    horizon_days: int = Field(default=60, ge=1, le=366)
    hold_minutes: float = Field(default=10, ge=0, le=120)


# How many places of `window` on `day` are taken (booked, held or scheduled).
TakenCount = Callable[[date, ArrivalWindowConfig], int]


def month_days(year: int, month: int) -> list[date]:
    return [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]


class CalendarRules:
    def __init__(self, rules: LocalCalendar, zone: ZoneInfo, now: datetime) -> None:
        self.rules = rules
        self.zone = zone
        self.now = now
        self.today = now.astimezone(zone).date()
        self._closed_weekdays = {WEEKDAYS.index(d) for d in rules.closed_weekdays}
        self._closed_dates = set(rules.closed_dates)
        self.windows = {w.id: w for w in rules.windows}

    def day_is_open(self, day: date) -> bool:
        return (
            self.today <= day <= self.today + timedelta(days=self.rules.horizon_days)
            and day.weekday() not in self._closed_weekdays
            and day not in self._closed_dates
        )

    def window_is_bookable(self, day: date, window: ArrivalWindowConfig) -> bool:
        if not self.day_is_open(day):
            return False
        return self.starts_at(day, window) >= self.now + timedelta(hours=self.rules.minimum_notice_hours)

    def starts_at(self, day: date, window: ArrivalWindowConfig) -> datetime:
        return datetime.combine(day, window.start, tzinfo=self.zone)

    def ends_at(self, day: date, window: ArrivalWindowConfig) -> datetime:
        return datetime.combine(day, window.end, tzinfo=self.zone)

    def arrival_windows(self, day: date, taken: TakenCount) -> list[ArrivalWindow]:
        """Every configured window of the day, with the places left (0 when not bookable)."""
        return [
            ArrivalWindow(
                day=day,
                window_id=w.id,
                label=w.label,
                start=w.start,
                end=w.end,
                remaining=max(w.capacity - taken(day, w), 0) if self.window_is_bookable(day, w) else 0,
            )
            for w in self.rules.windows
        ]

    def month_availability(self, year: int, month: int, taken: TakenCount) -> list[DayAvailability]:
        """Each day's places left: what `arrival_windows` would sum, without building a
        window per day (a calendar view asks for a month of them)."""
        earliest = self.now + timedelta(hours=self.rules.minimum_notice_hours)
        windows = self.rules.windows
        found = []
        for d in month_days(year, month):
            remaining = 0
            if self.day_is_open(d):
                # A day wholly past the notice needs no window's start worked out.
                clear = datetime.combine(d, time(0), tzinfo=self.zone) >= earliest
                for w in windows:
                    if clear or self.starts_at(d, w) >= earliest:
                        remaining += max(w.capacity - taken(d, w), 0)
            found.append(DayAvailability(day=d, remaining=remaining))
        return found
