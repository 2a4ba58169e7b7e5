"""Booking emails through the mail outbox to a real SMTP server (aiosmtpd, the one `make run` uses).

What a visitor receives, with its calendar file parsed back; sent once however often a
confirm comes; an SMTP server that is down, deferring or refusing delays or fails mail
(counted, kept with the reason), never a booking; /_dev/mail shows what arrived.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from app.db import Database
from app.demo.mailbox import Mailbox, StoredMail
from app.mail import outbox
from app.mail.message import Mail
from app.mail.smtp import SmtpTarget
from tests.visitor import CUSTOMER, Visitor

CHICAGO = ZoneInfo("America/Chicago")
MAIL_FROM = "bookings@scheduler.localhost"


@pytest.fixture
def settings_overrides(mailbox: Mailbox) -> dict[str, object]:
    return {"smtp_url": mailbox.url, "dev_mailbox_dir": mailbox.folder, "mail_from": MAIL_FROM, "mail_poll_seconds": 0.2}



def calendar_of(mail: StoredMail) -> Calendar:
    [(name, _, data)] = [a for a in mail.attachments() if a[1] == "text/calendar"]
    assert name.endswith(".ics")
    return Calendar.from_ical(data)


@pytest.mark.dates
async def test_a_confirmed_booking_emails_the_visitor_with_a_calendar_file(visitor: Visitor, mailbox: Mailbox, db: Database, today: date) -> None:
    await visitor.walk_to("Summary", today)
    page = await visitor.submit("Summary")
    assert page.step == "Confirmation"
    booking = await db.bookings.find_one({})
    [mail] = await mailbox.wait_for(1)

    assert mail.to == CUSTOMER["email"]
    assert mail.sender == f"Demo Plumbing & Air <{MAIL_FROM}>"
    assert mail.message["Reply-To"] == "office@demo-plumbing.example"
    assert mail.subject.startswith("You're booked: Leak repair, ")
    day = date.fromisoformat(booking["date"])
    long_day = f"{day.strftime('%A, %B')} {day.day}"
    for body in (mail.text, mail.html):
        assert booking["_id"] in body and long_day in body and booking["window"]["label"] in body
        assert "100 Congress Ave" in body and "(512) 555-0100" in body
    assert 'href="tel:5125550100"' in mail.html

    calendar = calendar_of(mail)
    [event] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"{booking['_id']}@scheduler.localhost"
    assert int(event["SEQUENCE"]) == 1 and str(event["STATUS"]) == "CONFIRMED"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    window = booking["window"]
    assert start == datetime.combine(day, datetime.strptime(window["start"], "%H:%M").time(), tzinfo=CHICAGO)
    assert end == datetime.combine(day, datetime.strptime(window["end"], "%H:%M").time(), tzinfo=CHICAGO)
    assert str(start.tzinfo) == "America/Chicago" and any(True for _ in calendar.walk("VTIMEZONE"))
    assert "100 Congress Ave" in str(event["LOCATION"])
    assert str(event["ORGANIZER"]) == f"mailto:{MAIL_FROM}"


async def test_confirming_again_sends_no_second_email(visitor: Visitor, mailbox: Mailbox, db: Database, today: date) -> None:
    await visitor.walk_to("Summary", today)
    first, second = await asyncio.gather(visitor.submit("Summary"), visitor.submit("Summary"))
    assert {first.step, second.step} == {"Confirmation"}
    await visitor.submit("Summary")  # a third click on a stale form
    await mailbox.wait_for(1)
    await asyncio.sleep(1.0)  # a second email would have been sent by now
    assert len(mailbox.messages()) == 1
    assert await db.mail_outbox.count_documents({}) == 1


def sample_mail() -> Mail:
    return Mail(to="ada@example.com", subject="Your booking", text="Hello", html="<p>Hello</p>", sender_name="Demo Plumbing & Air")


async def test_a_server_that_defers_delays_mail_until_it_takes_it(db: Database, mailbox: Mailbox, instant: datetime, client) -> None:  # type: ignore[no-untyped-def]
    target = SmtpTarget.parse(mailbox.url)
    assert await outbox.enqueue(db, "test:1", "demo-plumbing", sample_mail(), instant)
    assert not await outbox.enqueue(db, "test:1", "demo-plumbing", sample_mail(), instant)  # queued once
    mailbox.refuse_next(1, "451 4.3.0 Mailbox busy, try again")
    entry = await outbox.claim(db, instant, "test:1")
    assert entry is not None and await outbox.send(db, entry, target, MAIL_FROM, instant) == "deferred"
    stored = await db.mail_outbox.find_one({"_id": "test:1"})
    assert stored["state"] == "pending" and "451" in stored["last_error"] and stored["due_at"] > instant.timestamp()
    assert await outbox.claim(db, instant) is None  # not due yet
    later = instant + timedelta(minutes=1)
    entry = await outbox.claim(db, later)
    assert entry is not None and await outbox.send(db, entry, target, MAIL_FROM, later) == "sent"
    assert [m.subject for m in mailbox.messages()] == ["Your booking"]
    assert (await db.mail_outbox.find_one({"_id": "test:1"}))["state"] == "sent"
    metrics = await (await client.get("/metrics")).get_data(as_text=True)
    assert 'scheduler_mail_sends_total{result="deferred"}' in metrics and 'scheduler_mail_sends_total{result="sent"}' in metrics


async def test_a_server_that_is_down_then_up_gets_the_mail_with_the_same_message_id(db: Database, tmp_path: Path, instant: datetime) -> None:
    down = Mailbox(tmp_path / "later")  # its port is chosen, nothing listens yet
    target = SmtpTarget.parse(down.url)
    await outbox.enqueue(db, "test:down", "demo-plumbing", sample_mail(), instant)
    entry = await outbox.claim(db, instant, "test:down")
    assert entry is not None and await outbox.send(db, entry, target, MAIL_FROM, instant) == "deferred"
    assert "Connect" in (await db.mail_outbox.find_one({"_id": "test:down"}))["last_error"]
    with down:
        later = instant + timedelta(minutes=1)
        entry = await outbox.claim(db, later)
        assert entry is not None and await outbox.send(db, entry, target, MAIL_FROM, later) == "sent"
        [mail] = down.messages()
    assert mail.message["Message-ID"].endswith("@scheduler.localhost>")


async def test_a_refusal_fails_the_mail_with_its_reason_and_gives_up_after_two_days(db: Database, mailbox: Mailbox, instant: datetime) -> None:
    target = SmtpTarget.parse(mailbox.url)
    await outbox.enqueue(db, "test:refused", "demo-plumbing", sample_mail(), instant)
    mailbox.refuse_next(1, "550 5.1.1 No such user")
    entry = await outbox.claim(db, instant, "test:refused")
    assert entry is not None and await outbox.send(db, entry, target, MAIL_FROM, instant) == "refused"
    stored = await db.mail_outbox.find_one({"_id": "test:refused"})
    assert stored["state"] == "failed" and "550" in stored["last_error"]

    await outbox.enqueue(db, "test:patience", "demo-plumbing", sample_mail(), instant)
    mailbox.refuse_next(1, "421 4.7.0 Too busy")
    much_later = instant + timedelta(hours=49)
    entry = await outbox.claim(db, much_later, "test:patience")
    assert entry is not None and await outbox.send(db, entry, target, MAIL_FROM, much_later) == "gave_up"
    assert "gave up after 1 tries over 48 hours" in (await db.mail_outbox.find_one({"_id": "test:patience"}))["last_error"]
    assert mailbox.messages() == []


async def test_the_booking_stands_when_no_smtp_server_answers(visitor: Visitor, mailbox: Mailbox, db: Database, today: date) -> None:
    mailbox.stop()
    await visitor.walk_to("Summary", today)
    page = await visitor.submit("Summary")
    assert page.step == "Confirmation" and await db.bookings.count_documents({}) == 1
    for _ in range(50):
        entry = await db.mail_outbox.find_one({})
        if entry and entry["attempts"]:
            break
        await asyncio.sleep(0.1)
    assert entry["state"] == "pending" and entry["last_error"]  # waiting for the server, not lost


async def test_dev_mail_shows_what_arrived(visitor: Visitor, mailbox: Mailbox, client, today: date) -> None:  # type: ignore[no-untyped-def]
    await visitor.walk_to("Summary", today)
    await visitor.submit("Summary")
    [mail] = await mailbox.wait_for(1)
    listing = await (await client.get("/_dev/mail")).get_data(as_text=True)
    assert f'href="/_dev/mail/{mail.id}"' in listing and "You&#39;re booked" in listing
    page = await client.get(f"/_dev/mail/{mail.id}")
    shown = await page.get_data(as_text=True)
    assert page.status_code == 200 and 'sandbox srcdoc="' in shown and "&lt;h1" in shown  # the HTML, escaped into the frame
    source = await client.get(f"/_dev/mail/{mail.id}/source")
    assert (await source.get_data()) == mail.raw
    attachment = await client.get(f"/_dev/mail/{mail.id}/attachments/0")
    assert attachment.status_code == 200 and attachment.content_type.startswith("text/calendar")
    assert attachment.headers["Content-Disposition"] == 'attachment; filename="booking.ics"'
    assert (await attachment.get_data()).startswith(b"BEGIN:VCALENDAR")
    for hostile in ("../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "nope", f"{mail.id}/attachments/7", "%00"):
        assert (await client.get(f"/_dev/mail/{hostile}")).status_code == 404, hostile


async def test_the_confirmation_offers_the_calendar_file_by_a_signed_link(visitor: Visitor, client, db: Database, today: date, time_travel) -> None:  # type: ignore[no-untyped-def]
    import re

    await visitor.walk_to("Summary", today)
    page = await visitor.submit("Summary")
    assert page.contains("Add to calendar") and "data-wrkbelt-done" in page.text
    [url] = re.findall(r'href="(http[^"]+/calendar\.ics)"', page.text)
    path = url.split("://", 1)[1].partition("/")[2]
    response = await client.get("/" + path)
    assert response.status_code == 200 and response.content_type.startswith("text/calendar")
    booking = await db.bookings.find_one({})
    [event] = Calendar.from_ical(await response.get_data()).walk("VEVENT")
    assert str(event["UID"]).startswith(booking["_id"] + "@")

    token = path.split("/")[1]
    other_reference = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for hostile in (other_reference, "x" * 5000, "%00", "eyJyIjoiV0ItQUJDREVGIn0"):
        answer = await client.get(f"/bookings/{hostile}/calendar.ics")
        assert answer.status_code == 404 and "not valid" in (await answer.get_data(as_text=True)), hostile
    await db.bookings.delete_many({})
    assert (await client.get("/" + path)).status_code == 410
    time_travel.shift(timedelta(days=70))  # a week after the visit, the link has lapsed
    lapsed = await client.get("/" + path)
    assert lapsed.status_code == 404 and "expired" in (await lapsed.get_data(as_text=True))


@pytest.mark.parametrize("day", [date(2031, 1, 14), date(2031, 7, 15), date(2031, 12, 31)], ids=["winter", "summer", "new-year's-eve"])
def test_the_calendar_file_carries_the_zones_rules_for_the_bookings_day_only(day: date) -> None:
    """A calendar reads the event's local time through the file's VTIMEZONE: its offset on the
    booking's day must be the zone's; the rules cover that year and the next, not 1970–2038."""
    from dataclasses import replace

    from app.bookings.calendar_file import calendar_file
    from tests.bookings import booking_request

    booking = booking_request(day=day, window_id="0800-1100", reference="WB-TZ2345").booking
    booking = replace(booking, window=replace(booking.window, label="8 – 11 am"))
    chicago = ZoneInfo("America/Chicago")
    data = calendar_file(
        booking, company="Demo", company_phone=None, zone_name="America/Chicago", mail_from="a@scheduler.localhost",
        now=datetime(2030, 1, 1, tzinfo=chicago),
    )
    calendar = Calendar.from_ical(data)
    [zone] = calendar.walk("VTIMEZONE")
    [event] = calendar.walk("VEVENT")
    start = event.decoded("DTSTART")
    assert str(zone["TZID"]) == "America/Chicago"
    from_file = zone.to_tz(lookup_tzid=False)  # the file's own rules, not the system's zone database
    local = start.replace(tzinfo=None)
    assert from_file.utcoffset(local) == chicago.utcoffset(local)
    assert b"DTSTART:1970" not in data and len(data) < 2000
    # Built once per zone and year: a second file of the same year does not build them again.
    assert calendar_file(
        booking, company="Demo", company_phone=None, zone_name="America/Chicago", mail_from="a@scheduler.localhost",
        now=datetime(2030, 1, 1, tzinfo=chicago),
    ) == data
