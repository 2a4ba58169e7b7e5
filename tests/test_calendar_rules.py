"""The built-in calendar's rules at every instant of tests/instants.py: the company's own
date (not UTC's), the notice, the horizon, closed days, and wall-clock windows on the
days the clocks change."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import pytest

from app.db import Database
from app.flows.models import OrganizationConfig
from app.vendors.calendar_rules import CalendarRules
from app.vendors.local import LocalCalendarVendor
from tests.bookings import booking_request
from tests.conftest import demo_config
from tests.instants import COMPANY_ZONE

pytestmark = pytest.mark.dates

NOTICE_HOURS = 4
HORIZON_DAYS = 30


@pytest.fixture
def organization(today: date) -> OrganizationConfig:
    # Open every day but one, two days from now: the rules, not the demo's Sundays, decide.
    return demo_config(
        closed_weekdays=[], closed_dates=[today + timedelta(days=2)],
        minimum_notice_hours=NOTICE_HOURS, horizon_days=HORIZON_DAYS, hold_minutes=10,
    )


def rules_at(organization: OrganizationConfig, now: datetime) -> CalendarRules:
    return CalendarRules(organization.organization.vendor.calendar, COMPANY_ZONE, now)


def months_from(first: date, count: int) -> list[tuple[int, int]]:
    months, year, month = [], first.year, first.month
    for _ in range(count):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def test_today_is_the_companys_date_not_utcs(organization: OrganizationConfig, instant: datetime, today: date) -> None:
    rules = rules_at(organization, instant)
    assert rules.today == today
    assert not any(rules.day_is_open(today - timedelta(days=n)) for n in (1, 2))
    assert rules.day_is_open(today + timedelta(days=1))
    assert not rules.day_is_open(today + timedelta(days=2))  # the closed date
    assert rules.day_is_open(today + timedelta(days=HORIZON_DAYS))
    assert not rules.day_is_open(today + timedelta(days=HORIZON_DAYS + 1))


def test_no_window_is_offered_inside_the_notice(organization: OrganizationConfig, instant: datetime, today: date) -> None:
    rules = rules_at(organization, instant)
    earliest = instant + timedelta(hours=NOTICE_HOURS)
    for day in (today, today + timedelta(days=1)):
        for window in rules.rules.windows:
            starts = rules.starts_at(day, window)
            assert rules.window_is_bookable(day, window) == (starts >= earliest), (day, window.id)


def test_windows_keep_their_wall_clock_hours_on_every_day(organization: OrganizationConfig, instant: datetime, today: date) -> None:
    """8–11 am is 8–11 am local time, on the days the clocks change too."""
    rules = rules_at(organization, instant)
    for day in (today, today + timedelta(days=1)):
        for window in rules.rules.windows:
            starts, ends = rules.starts_at(day, window), rules.ends_at(day, window)
            local_start = starts.astimezone(COMPANY_ZONE)
            assert (local_start.date(), local_start.time()) == (day, window.start)
            assert ends.astimezone(COMPANY_ZONE).time() == window.end
            assert starts.utcoffset() == COMPANY_ZONE.utcoffset(datetime.combine(day, window.start))


async def test_months_roll_over_into_the_next_year(db: Database, organization: OrganizationConfig, instant: datetime, today: date) -> None:
    vendor = LocalCalendarVendor(db, organization.organization, instant)
    open_days: list[date] = []
    for year, month in months_from(today, 3):
        days = await vendor.get_month_availability(year, month)
        assert [d.day for d in days] == [date(year, month, n) for n in range(1, calendar.monthrange(year, month)[1] + 1)]
        open_days += [d.day for d in days if d.available]
    # Every day from tomorrow to the horizon is open, but the closed date: across month and year ends.
    expected = [today + timedelta(days=n) for n in range(1, HORIZON_DAYS + 1) if n != 2]
    assert [d for d in open_days if d > today] == expected


async def test_a_booking_at_the_first_free_window_is_made_and_counted(db: Database, organization: OrganizationConfig, instant: datetime, today: date) -> None:
    vendor = LocalCalendarVendor(db, organization.organization, instant)
    offered = [w for d in (today, today + timedelta(days=1)) for w in await vendor.get_date_timeslots(d) if w.available]
    window = offered[0]  # tomorrow is open with every window, whatever the hour today
    day = window.day
    assert datetime.combine(day, window.start, tzinfo=COMPANY_ZONE) >= instant.astimezone(UTC) + timedelta(hours=NOTICE_HOURS)
    await vendor.create_booking(booking_request(session_id="s1", day=day, window_id=window.window_id, service={"id": "s", "name": "S"}, customer={}))
    after = {w.window_id: w.remaining for w in await vendor.get_date_timeslots(day)}
    assert after[window.window_id] == window.remaining - 1
