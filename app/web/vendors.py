"""The request's vendor strategy for an organization."""

from __future__ import annotations

from datetime import datetime

from app.flows.models import Organization
from app.vendors.base import AvailabilityScope, VendorStrategy
from app.vendors.registry import vendor_for
from app.web import services


def request_vendor(organization: Organization, now: datetime, scope: AvailabilityScope | None = None) -> VendorStrategy:
    """The organization's vendor; a remote one answers for `scope` (the service and ZIP code)."""
    service = services.current()
    return vendor_for(service.db, organization, now, clients=service.vendors, scope=scope or AvailabilityScope())
