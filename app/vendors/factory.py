"""Picks the vendor strategy for an organization."""

from __future__ import annotations

from datetime import datetime

from app.db import Database
from app.flows.models import Organization
from app.vendors.base import VendorStrategy
from app.vendors.local import LocalCalendarVendor


def vendor_for(db: Database, organization: Organization, now: datetime) -> VendorStrategy:
    if organization.vendor.type == "local":
        return LocalCalendarVendor(db, organization, now)
    raise ValueError(f"unsupported vendor type {organization.vendor.type!r}")
