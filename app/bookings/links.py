"""Signed links to one booking, for people without an account: its calendar file, and
(for the visitor's emails) its page to change or cancel it.

A link carries the booking's reference, its version and what it is for, signed with
LINK_SECRET (itsdangerous). It opens nothing else: another booking's reference or a
changed purpose breaks the signature. It lapses a week after the appointment; a
`manage` link also lapses when the booking changes (a newer email has the new link).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeSerializer

from app.domain.booking import Booking
from app.i18n import N_

Purpose = Literal["calendar", "manage"]
LINKS_LAST_AFTER_THE_VISIT = timedelta(days=7)


class BadLink(Exception):
    """The link is not ours, not for this, or no longer good; the message says which, for people."""


@dataclass(frozen=True)
class LinkClaim:
    reference: str
    version: int
    expires: datetime


class BookingLinks:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="booking-link")

    def token(self, booking: Booking, purpose: Purpose, zone: ZoneInfo) -> str:
        expires = booking.window.ends_at(zone) + LINKS_LAST_AFTER_THE_VISIT
        return str(self._serializer.dumps({"r": booking.reference, "v": booking.version, "p": purpose, "x": int(expires.timestamp())}))

    def claim(self, token: str, purpose: Purpose, now: datetime) -> LinkClaim:
        """What a link says, if it is ours, for `purpose`, and still good at `now`."""
        try:
            data = self._serializer.loads(token[:1000])
        except BadSignature:
            raise BadLink(N_("This link is not valid. Please use the link in your latest email.")) from None
        if not isinstance(data, dict) or data.get("p") != purpose:
            raise BadLink(N_("This link is not valid here."))
        try:
            claim = LinkClaim(str(data["r"]), int(data["v"]), datetime.fromtimestamp(int(data["x"]), now.tzinfo))
        except (KeyError, TypeError, ValueError):
            raise BadLink(N_("This link is not valid. Please use the link in your latest email.")) from None
        if now > claim.expires:
            raise BadLink(N_("This link has expired: the visit it was for is over."))
        return claim
