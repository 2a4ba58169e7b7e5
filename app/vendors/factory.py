"""Picks the vendor strategy for an organization."""

from __future__ import annotations

from datetime import datetime

from app.db import Database
from app.flows.models import Organization
from app.vendors.base import AvailabilityScope, VendorStrategy
from app.vendors.housecallpro import HousecallProStrategy
from app.vendors.jobber import JobberStrategy
from app.vendors.local import LocalCalendarVendor
from app.vendors.remote import RemoteVendorStrategy, VendorClients
from app.vendors.servicetitan import ServiceTitanStrategy

REMOTE_STRATEGIES: dict[str, type[RemoteVendorStrategy]] = {
    s.vendor_type: s for s in (ServiceTitanStrategy, HousecallProStrategy, JobberStrategy)
}


def vendor_for(
    db: Database,
    organization: Organization,
    now: datetime,
    *,
    clients: VendorClients | None = None,
    scope: AvailabilityScope = AvailabilityScope(),
) -> VendorStrategy:
    """The organization's vendor, answering for what the visitor has chosen (`scope`)."""
    vendor_type = organization.vendor.type
    if vendor_type == "local":
        return LocalCalendarVendor(db, organization, now)
    strategy = REMOTE_STRATEGIES.get(vendor_type)
    if strategy is None:
        raise ValueError(f"unsupported vendor type {vendor_type!r}")
    if clients is None:
        raise RuntimeError("a remote vendor needs the process's VendorClients")
    return strategy(db, organization, clients, scope, now)
