"""Timeslot: a month calendar of days with free windows, then the windows of one day.

Choosing a window holds a place for a few minutes; a hold that lapses frees it again.
A month with nothing free offers to leave a phone number or email instead.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.i18n import N_, gettext, month_name
from app.steps.base import FormData, StepContext, StepHandler, StepResult
from app.steps.leads import save_lead
from app.vendors.base import ArrivalWindow, DayAvailability, VendorStrategy

# How far ahead the calendar lets a visitor page; the vendor decides what is bookable.
MONTHS_AHEAD = 12
# How many months the calendar looks through for the first free window when it opens.
MONTHS_SEARCHED = 3
TAKEN_MESSAGE = N_("Sorry, that arrival window was just taken. Please choose another.")


def parse_month(text: str | None) -> tuple[int, int] | None:
    try:
        year, month = (int(p) for p in (text or "").split("-"))
        date(year, month, 1)
    except ValueError:
        return None
    return year, month


def parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


def shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


@dataclass(frozen=True)
class MonthCalendar:
    """One month of the calendar as the visitor sees it, and the chosen day's windows."""

    month_label: str
    month: str  # YYYY-MM
    previous_month: str | None
    next_month: str | None
    weeks: list[list[date | None]]
    availability: dict[date, DayAvailability]
    any_open: bool
    chosen_day: date | None
    windows: list[ArrivalWindow]


async def month_calendar(
    vendor: VendorStrategy, zone: ZoneInfo, now: datetime, query: dict[str, str], state: dict[str, Any],
    session_id: str | None,
) -> MonthCalendar:
    """The month asked for (`query`: month=YYYY-MM, date=YYYY-MM-DD), else the one last
    shown (`state`), else the first of the next few with a free window."""
    today = now.astimezone(zone).date()
    first, last = (today.year, today.month), shift_month(today.year, today.month, MONTHS_AHEAD)
    furthest = vendor.last_bookable_day
    if furthest is not None:  # the calendar ends with the company's horizon
        last = max(first, min(last, (furthest.year, furthest.month)))
    chosen_day = parse_day(query.get("date")) or parse_day(state.get("date"))
    asked = parse_month(query.get("month")) or (
        (chosen_day.year, chosen_day.month) if chosen_day else None
    ) or parse_month(state.get("month"))
    shown = max(first, min(asked or first, last))
    days = await vendor.get_month_availability(*shown)
    # Nothing asked for yet: open on the first month that has a free window.
    for _ in range(MONTHS_SEARCHED if asked is None else 0):
        if any(d.available for d in days) or shown >= last:
            break
        shown = shift_month(*shown, 1)
        days = await vendor.get_month_availability(*shown)
    if chosen_day is None or (chosen_day.year, chosen_day.month) != shown:
        chosen_day = None
    weeks = calendar.Calendar(firstweekday=calendar.SUNDAY).monthdayscalendar(*shown)
    windows: list[ArrivalWindow] = []
    if chosen_day is not None:
        windows = await vendor.get_date_timeslots(chosen_day, session_id=session_id)
    return MonthCalendar(
        month_label=month_name(date(shown[0], shown[1], 1)),
        month=month_key(*shown),
        previous_month=month_key(*shift_month(*shown, -1)) if shown > first else None,
        next_month=month_key(*shift_month(*shown, 1)) if shown < last else None,
        weeks=[[date(shown[0], shown[1], d) if d else None for d in week] for week in weeks],
        availability={d.day: d for d in days},
        any_open=any(d.available for d in days),
        chosen_day=chosen_day,
        windows=windows,
    )


EARLIEST = 3


async def earliest_windows(ctx: StepContext, shown: MonthCalendar) -> list[ArrivalWindow]:
    """The next few free windows, soonest first, from the month shown (the one the calendar
    opened on: the first with a free window), offered as one-tap choices above it."""
    found: list[ArrivalWindow] = []
    for day in sorted(d for d, a in shown.availability.items() if a.available):
        found += [w for w in await ctx.vendor.get_date_timeslots(day, session_id=ctx.session.id) if w.available]
        if len(found) >= EARLIEST:
            break
    return found[:EARLIEST]


class TimeslotStep(StepHandler):
    step_type = "Timeslot"
    template = "steps/timeslot.html"

    async def view(self, ctx: StepContext, query: dict[str, str]) -> dict[str, Any]:
        state = ctx.state
        shown = await month_calendar(ctx.vendor, ctx.organization.zone, ctx.now, query, state, ctx.session.id)
        ctx.record(
            "timeslot_viewed",
            month=shown.month,
            date=shown.chosen_day.isoformat() if shown.chosen_day else None,
            open_days=sum(1 for d in shown.availability.values() if d.available),
            open_windows=sum(1 for w in shown.windows if w.available),
        )
        chosen_window = state.get("window") if shown.chosen_day and state.get("date") == shown.chosen_day.isoformat() else None
        earliest = [] if shown.chosen_day or query else await earliest_windows(ctx, shown)
        return {"calendar": shown, "chosen_window": chosen_window, "earliest": earliest}

    async def submit(self, ctx: StepContext, form: FormData) -> StepResult:
        if form.text("intent") == "lead":  # nothing free that suits: the office calls back
            # The step shows again on the month the visitor was looking at, with the thanks or what to fix.
            month = parse_month(form.text("month"))
            if month is not None:
                ctx.state.update(month=month_key(*month), date="")
            return await save_lead(ctx, form, "no free arrival window", ctx.session.booking.zip_code)
        picked_day, _, picked_window = form.text("pick").partition("|")  # one of the earliest, in one tap
        day, window_id = parse_day(picked_day or form.text("date")), picked_window or form.text("window")
        ctx.state.update(date=day.isoformat() if day else form.text("date"), window=window_id)
        if day is None:
            return StepResult(errors={"date": gettext("Choose a day in the calendar.")})
        ctx.state["month"] = month_key(day.year, day.month)
        windows = {w.window_id: w for w in await ctx.vendor.get_date_timeslots(day, session_id=ctx.session.id)}
        window = windows.get(window_id)
        if window is None:
            return StepResult(errors={"window": gettext("Choose an arrival window.")})
        if not window.available or not await ctx.vendor.hold_timeslot(day, window_id, ctx.session.id):
            ctx.state["window"] = None
            return StepResult(errors={"window": gettext(TAKEN_MESSAGE)})
        # Only once the new window is held does the old one go back (the visitor keeps
        # their earlier choice when the new one is taken).
        old = ctx.session.booking.timeslot
        if old and (old.day, old.window_id) != (day, window_id):
            await ctx.vendor.release_hold(old.day, old.window_id, ctx.session.id)
        ctx.session.booking.timeslot = window.chosen()
        return StepResult(advance=True)
