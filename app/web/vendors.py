"""The request's vendor strategy, answering for what the visitor has chosen so far."""

from __future__ import annotations

from datetime import datetime

from quart import current_app

from app.db import current_db
from app.flows.models import Organization
from app.sessions.model import BookingSession
from app.vendors.base import VendorStrategy
from app.vendors.factory import vendor_for
from app.vendors.remote import AvailabilityScope


def request_vendor(
    organization: Organization, now: datetime, session: BookingSession | None = None, scope: AvailabilityScope | None = None
) -> VendorStrategy:
    """The organization's vendor; a remote one asks about the session's service and ZIP code."""
    if scope is None:
        scope = AvailabilityScope.of_booking(session.booking.service, session.booking.zip_code) if session else AvailabilityScope()
    return vendor_for(current_db(), organization, now, clients=current_app.extensions["vendors"], scope=scope)
