"""The instants the suite runs at, in the demo company's zone (Austin: America/Chicago).

Every test runs at one chosen instant, never at the hour the suite happens to start:
`tests/conftest.py` moves the clock there for each test. Date-sensitive tests (marked
`dates`) run at every instant below; the others at DEFAULT_INSTANT. The instants are
in the future (2027–28) so that nothing stored at them has expired by the real clock
of a database that honours TTL indexes.

Offsets are written out: 01:30 on 7 Nov 2027 happens twice in Austin; this is the first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

COMPANY_ZONE = ZoneInfo("America/Chicago")

INSTANTS: dict[str, str] = {
    # A Wednesday: before the first window, just before the 8 am one, in the afternoon,
    # a minute before the last window ends, and five minutes before midnight.
    "weekday-0005": "2027-06-09T00:05:00-05:00",
    "weekday-0759": "2027-06-09T07:59:00-05:00",
    "weekday-1330": "2027-06-09T13:30:00-05:00",
    "weekday-1659": "2027-06-09T16:59:00-05:00",
    "weekday-2355": "2027-06-09T23:55:00-05:00",
    # Saturday evening: tomorrow is a Sunday, which the demo company keeps closed.
    "saturday-evening": "2027-06-12T19:00:00-05:00",
    # Holidays the demo company closes for.
    "christmas-eve": "2027-12-24T10:00:00-06:00",
    "new-years-eve-2330": "2027-12-31T23:30:00-06:00",
    # The US daylight-saving switches of 2027, either side of the missing or repeated hour.
    "dst-spring-0130": "2027-03-14T01:30:00-06:00",
    "dst-spring-0330": "2027-03-14T03:30:00-05:00",
    "dst-fall-0130": "2027-11-07T01:30:00-05:00",
    "dst-fall-0330": "2027-11-07T03:30:00-06:00",
    "leap-day": "2028-02-29T10:00:00-06:00",
}
DEFAULT_INSTANT = "weekday-1330"


def instant_named(name: str) -> datetime:
    """An instant by its name above, or any ISO 8601 instant with its offset, in UTC."""
    text = INSTANTS.get(name, name)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"unknown instant {name!r}: one of {', '.join(INSTANTS)}, or ISO 8601 with an offset") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=COMPANY_ZONE)
    return moment.astimezone(UTC)


def company_date(moment: datetime) -> date:
    """The company's calendar date at `moment`."""
    return moment.astimezone(COMPANY_ZONE).date()
