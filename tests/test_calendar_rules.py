"""The built-in calendar's rules at every instant of tests/instants.py: the company's own
date (not UTC's), the notice, the horizon, closed days, and wall-clock windows on the
days the clocks change."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.db import Database
from app.flows.models import OrganizationConfig
from app.vendors.calendar_rules import ArrivalWindowConfig, CalendarRules, LocalCalendar
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


@pytest.mark.parametrize("zone_name", ["America/Chicago", "America/Santiago", "Asia/Kolkata", "Pacific/Chatham"])
def test_a_months_places_are_the_sum_of_its_days_windows_at_any_moment_in_any_zone(zone_name: str) -> None:
    """month_availability adds the places up without building every window: it must give
    what arrival_windows sums to, day by day, near the notice's edge and around the clock
    changes (Santiago's midnight does not exist on its spring-forward day)."""
    zone = ZoneInfo(zone_name)

    @settings(max_examples=60, deadline=None)
    @given(
        now=st.datetimes(min_value=datetime(2027, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)),
        notice=st.integers(0, 72),
        starts=st.lists(st.integers(0, 23 * 60 + 30), min_size=1, max_size=4),
        capacity=st.integers(0, 5),
        taken_every=st.integers(1, 7),
    )
    def check(now: datetime, notice: int, starts: list[int], capacity: int, taken_every: int) -> None:
        windows = [
            ArrivalWindowConfig(id=f"w{i}", label="w", start=time_of(m), end=time_of(min(m + 29, 23 * 60 + 59)), capacity=capacity)
            for i, m in enumerate(starts)
        ]
        rules = CalendarRules(LocalCalendar(windows=windows, minimum_notice_hours=notice, horizon_days=45), zone, now)

        def taken(day: date, window: ArrivalWindowConfig) -> int:
            return 1 if day.toordinal() % taken_every == 0 else 0

        today = now.astimezone(zone).date()
        for year, month in months_from(today, 2):
            by_day = {d.day: d.remaining for d in rules.month_availability(year, month, taken)}
            summed = {
                d: sum(w.remaining for w in rules.arrival_windows(d, taken))
                for d in (date(year, month, n) for n in range(1, calendar.monthrange(year, month)[1] + 1))
            }
            assert by_day == summed

    check()


def time_of(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)
