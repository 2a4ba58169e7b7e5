"""The booking as a calendar file (RFC 5545, with icalendar): attached to every booking email.

One UID per booking, so a calendar updates the same event when the booking changes;
SEQUENCE is the booking's version; METHOD is REQUEST (add or update) or CANCEL.
The arrival window is the event, in the company's time zone (with its VTIMEZONE: the
zone's rules from the booking's year to the end of the next, built once per zone and year —
icalendar's default, 1970 to 2038, is 2.7 KB of transitions no one needs and took a
confirm's worth of CPU to build and write).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText

from app.domain.booking import Booking

Method = Literal["REQUEST", "CANCEL"]
PRODUCT_ID = "-//Scheduler//Booking//EN"


def event_uid(booking: Booking, mail_from: str) -> str:
    return f"{booking.reference}@{mail_from.rpartition('@')[2]}"


@lru_cache(maxsize=256)
def zone_rules(zone_name: str, year: int) -> Timezone:
    """The VTIMEZONE of `zone_name` for `year` and the year after (not to be changed: shared)."""
    return Timezone.from_tzid(zone_name, first_date=date(year, 1, 1), last_date=date(year + 2, 1, 1))


def calendar_file(
    booking: Booking,
    *,
    company: str,
    company_phone: str | None,
    zone_name: str,
    mail_from: str,
    now: datetime,
    method: Method = "REQUEST",
) -> bytes:
    zone = ZoneInfo(zone_name)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(zone_rules(zone_name, booking.day.year))
    event = Event()
    event.add("uid", event_uid(booking, mail_from))
    event.add("sequence", booking.version)
    event.add("dtstamp", now)
    event.add("dtstart", booking.window.starts_at(zone))
    event.add("dtend", booking.window.ends_at(zone))
    event.add("summary", f"{booking.service.name} — {company}")
    event.add("location", booking.customer.shown_address)  # the visitor's file: an address on file stays masked
    lines = [
        f"{company} arrives between {booking.window.label}.",
        f"Booking reference: {booking.reference}",
    ]
    if company_phone:
        lines.append(f"Questions or changes: {company_phone}")
    event.add("description", "\n".join(lines))
    if method == "CANCEL" or booking.status == "cancelled":
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED" if booking.status == "confirmed" else "TENTATIVE")
    organizer = vCalAddress(f"mailto:{mail_from}")
    organizer.params["cn"] = vText(company)
    event.add("organizer", organizer)
    if booking.customer.email:
        attendee = vCalAddress(f"mailto:{booking.customer.email}")
        attendee.params["cn"] = vText(booking.customer.full_name or booking.customer.email)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("ACCEPTED")
        event.add("attendee", attendee)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
