"""The visitor changes or cancels their booking from the link in their email (built-in calendar).

The new window is taken before the old one is given back; each change is a new version
of the booking, emailed with the calendar file updated (SEQUENCE) or cancelled
(METHOD:CANCEL); links from earlier emails, altered links and late changes get a clear
page, never a 500 and never someone else's booking.
"""

from __future__ import annotations

import asyncio
import html
import re
from datetime import date, datetime, timedelta

import pytest
from icalendar import Calendar

from app.db import Database
from app.demo.mailbox import Mailbox, StoredMail
from app.flows.models import OrganizationConfig
from tests.conftest import demo_config
from tests.visitor import Visitor


@pytest.fixture
def settings_overrides(mailbox: Mailbox) -> dict[str, object]:
    return {"smtp_url": mailbox.url, "mail_poll_seconds": 0.2}



async def mails(mailbox: Mailbox, count: int) -> list[StoredMail]:
    """The messages, oldest first, once `count` have arrived."""
    found = list(reversed(await mailbox.wait_for(count)))
    assert len(found) == count, [m.subject for m in found]
    return found


def manage_path(mail: StoredMail) -> str:
    [url] = re.findall(r"Change or cancel: (\S+)", mail.text)
    return "/" + url.split("://", 1)[1].partition("/")[2]


def calendar_event(mail: StoredMail) -> tuple[Calendar, dict[str, str]]:
    [data] = [a[2] for a in mail.attachments() if a[1] == "text/calendar"]
    calendar = Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")
    return calendar, {k: str(event[k]) for k in ("UID", "SEQUENCE", "STATUS")} | {"DTSTART": event.decoded("DTSTART").isoformat()}


async def later_window(visitor: Visitor, today: date) -> tuple[str, str]:
    """An open window two days or more ahead: far enough to be changed online (12 hours)."""
    await visitor.walk_to("Timeslot", today)
    for months_ahead in range(3):
        month = (today.replace(day=1) + timedelta(days=32 * months_ahead)).strftime("%Y-%m")
        for day in (await visitor.view("Timeslot", month=month)).open_days():
            if date.fromisoformat(day) >= today + timedelta(days=2):
                return day, (await visitor.view("Timeslot", date=day)).open_windows()[0]
    raise AssertionError("no open day two days ahead")


async def booked(visitor: Visitor, mailbox: Mailbox, today: date) -> str:
    """Book (two days ahead or more) through the widget; the path of the link in the confirmation email."""
    window = await later_window(visitor, today)
    await visitor.walk_to("Summary", today, window=window, first_page=await visitor.current())
    assert (await visitor.submit("Summary")).step == "Confirmation"
    [confirmation] = await mails(mailbox, 1)
    return manage_path(confirmation)


async def text(client, path: str, **kwargs) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    response = await client.get(path, **kwargs)
    return response.status_code, html.unescape(await response.get_data(as_text=True))


async def another_window(client, path: str, booking: dict, not_before: date | None = None) -> tuple[str, str]:  # type: ignore[no-untyped-def, type-arg]
    """An open day (from `not_before`) and window on the reschedule page, other than the booking's own."""
    status, page = await text(client, path + "/reschedule")
    assert status == 200
    for day in re.findall(r'wb-day--open[^>]*name="date" value="([\d-]+)"', page, flags=re.S):
        if not_before and date.fromisoformat(day) < not_before:
            continue
        _, shown = await text(client, path + f"/reschedule?date={day}")
        for window in re.findall(r'name="window" value="([\w-]+)"(?![^>]*disabled)', shown):
            if (day, window) != (booking["date"], booking["window"]["window_id"]):
                return day, window
    raise AssertionError("no other open window")


async def slot_sessions(db: Database, day: str, window: str) -> list[str]:
    slot = await db.calendar_slots.find_one({"date": day, "window_id": window})
    return slot["booked"] if slot else []


@pytest.mark.dates
async def test_rescheduling_moves_the_booking_and_emails_the_new_time(visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    booking = await db.bookings.find_one({})
    status, page = await text(client, path)
    assert status == 200 and booking["_id"] in page and "Change the time" in page and "Cancel the visit" in page

    day, window = await another_window(client, path, booking)
    response = await client.post(path + "/reschedule", form={"date": day, "window": window})
    assert response.status_code == 303
    moved = await db.bookings.find_one({})
    assert (moved["date"], moved["window"]["window_id"], moved["version"]) == (day, window, 2)
    assert moved["changes"][0]["kind"] == "rescheduled" and moved["changes"][0]["previous_window"]["date"] == booking["date"]
    assert await slot_sessions(db, day, window) == [booking["session_id"]]  # the new place is taken
    assert await slot_sessions(db, booking["date"], booking["window"]["window_id"]) == []  # the old one is free again

    new_page = response.headers["Location"]
    status, shown = await text(client, new_page)
    assert status == 200 and "Your visit has a new time" in shown
    first, second = await mails(mailbox, 2)
    assert second.subject.startswith("New time: Leak repair, ")
    _, before = calendar_event(first)
    calendar, after = calendar_event(second)
    assert after["UID"] == before["UID"] and (before["SEQUENCE"], after["SEQUENCE"]) == ("1", "2")
    assert str(calendar["METHOD"]) == "REQUEST" and after["DTSTART"].startswith(day)
    assert manage_path(second).split("?")[0] == new_page.split("?")[0]

    status, old = await text(client, path)  # the first email's link: the booking has changed since
    assert status == 410 and "latest email" in old


async def test_cancelling_frees_the_place_and_emails_a_cancellation(visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    booking = await db.bookings.find_one({})
    response = await client.post(path + "/cancel", form={"reason": "Fixed it myself <b>!</b>"})
    assert response.status_code == 303
    cancelled = await db.bookings.find_one({})
    assert cancelled["status"] == "cancelled" and cancelled["version"] == 2
    assert cancelled["changes"][0]["reason"] == "Fixed it myself <b>!</b>"
    assert await slot_sessions(db, booking["date"], booking["window"]["window_id"]) == []
    status, page = await text(client, response.headers["Location"])
    assert status == 200 and "Your visit is cancelled" in page and "Change the time" not in page

    _, cancellation = await mails(mailbox, 2)
    assert cancellation.subject.startswith("Cancelled: ") and "Change or cancel" not in cancellation.text
    calendar, event = calendar_event(cancellation)
    assert str(calendar["METHOD"]) == "CANCEL" and event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == "2"
    again = await client.post(response.headers["Location"].split("?")[0] + "/cancel", form={})
    assert again.status_code == 409  # cancelling twice changes nothing
    assert len(mailbox.messages()) == 2


async def test_a_window_taken_meanwhile_offers_the_nearest_and_keeps_the_old_time(visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    booking = await db.bookings.find_one({})
    day, window = await another_window(client, path, booking)
    capacity = {"morning": 3, "midday": 3, "afternoon": 2}[window]
    others = [f"someone-{i}" for i in range(capacity)]
    await db.calendar_slots.update_one(
        {"_id": f"demo-plumbing|{day}|{window}"},
        {"$set": {"organization_id": "demo-plumbing", "date": day, "window_id": window, "booked": others,
                  "booked_count": capacity, "holds": [], "version": 1}},
        upsert=True,
    )
    response = await client.post(path + "/reschedule", form={"date": day, "window": window})
    shown = html.unescape(await response.get_data(as_text=True))
    assert response.status_code == 409 and "Sorry, that arrival window was just taken." in shown
    kept = await db.bookings.find_one({})
    assert (kept["date"], kept["version"]) == (booking["date"], 1)
    assert await slot_sessions(db, booking["date"], booking["window"]["window_id"]) == [booking["session_id"]]


@pytest.fixture
def organization() -> OrganizationConfig:
    return demo_config()


async def test_changes_close_before_the_visit_and_the_page_gives_the_phone(visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date, time_travel) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    booking = await db.bookings.find_one({})
    starts = datetime.fromisoformat(f"{booking['date']}T{booking['window']['start']}:00-06:00")
    time_travel.move_to(starts - timedelta(hours=11))  # within 12 hours (give or take DST: an hour to spare)
    status, page = await text(client, path)
    assert status == 200 and "until 12 hours before the visit" in page and "(512) 555-0100" in page
    assert "Change the time" not in page
    response = await client.post(path + "/cancel", form={})
    assert response.status_code == 409 and (await db.bookings.find_one({}))["status"] == "confirmed"
    assert (await client.get(path + "/reschedule")).status_code == 409


async def test_altered_and_hostile_links_and_forms_get_clear_answers(visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    token = path.split("/")[2]
    calendar_link = "/bookings/" + token + "/calendar.ics"  # a manage token is not a calendar link, and back
    assert (await client.get(calendar_link)).status_code == 404
    for hostile in (token[:-2] + "xx", token + "A", "x" * 3000, "%00", "..", "eyJyIjoiV0ItQUJDREVGIiwicCI6Im1hbmFnZSJ9"):
        for method, suffix in (("GET", ""), ("GET", "/reschedule"), ("POST", "/cancel"), ("POST", "/reschedule")):
            response = await client.open(f"/bookings/{hostile}{suffix}", method=method, form={} if method == "POST" else None)
            assert response.status_code in {404, 405}, (hostile, suffix, response.status_code)
    for form in (
        {}, {"date": "not-a-date"}, {"date": "2027-02-30", "window": "morning"}, {"date": "9999-12-31", "window": "morning"},
        {"date": today.isoformat(), "window": "x" * 5000}, {"date": "$where", "window": "\x00"},
        {"date": (today + timedelta(days=400)).isoformat(), "window": "morning"},
    ):
        response = await client.post(path + "/reschedule", form=form)
        assert 400 <= response.status_code < 500, (form, response.status_code)
    assert (await client.post(path + "/cancel", data="x" * 100_000, headers={"Content-Type": "application/x-www-form-urlencoded"})).status_code == 413
    assert (await db.bookings.find_one({}))["version"] == 1


async def test_two_tabs_cancelling_at_once_cancel_once(visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    first, second = await asyncio.gather(client.post(path + "/cancel", form={}), client.post(path + "/cancel", form={}))
    assert sorted([first.status_code, second.status_code])[0] == 303
    assert sorted([first.status_code, second.status_code])[1] in {409, 410}
    assert (await db.bookings.find_one({}))["version"] == 2
    await mails(mailbox, 2)
    await asyncio.sleep(0.5)
    assert len(mailbox.messages()) == 2
