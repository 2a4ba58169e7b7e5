"""Checking an organization's vendor before visitors do: credentials present, vendor answers.

`python -m app vendors check SLUG [--connect]` prints one line per credential (where it
comes from, never its value) and, with --connect, asks the vendor for tomorrow's arrival
windows the way a visitor's calendar would.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from app.db import Database
from app.domain.config import env_variable, secret_fields
from app.vendors.base import AvailabilityScope, VendorError, VendorOwner
from app.vendors.registry import vendor_for
from app.vendors.remote import RemoteVendorStrategy, VendorClients


def credential_lines(organization: VendorOwner) -> tuple[list[str], bool]:
    """A line per credential and whether all of them can be read."""
    lines, complete = [], True
    for name in secret_fields(organization.vendor):
        variable = env_variable(getattr(organization.vendor, name))
        if variable is not None:
            found = bool(os.environ.get(variable))
            complete &= found
            lines.append(f"vendor.{name}: from ${variable} ({'set' if found else 'NOT SET'})")
        else:
            lines.append(f"vendor.{name}: written in the configuration")
    return lines, complete


async def connection_line(db: Database, organization: VendorOwner, now: datetime) -> tuple[str, bool]:
    """Ask the vendor for tomorrow's windows; what it answered, and whether it did."""
    clients = VendorClients.create()
    try:
        vendor = vendor_for(db, organization, now, clients=clients, scope=AvailabilityScope())
        assert isinstance(vendor, RemoteVendorStrategy)
        tomorrow = now.astimezone(organization.zone).date() + timedelta(days=1)
        answer = await vendor.check_connection(tomorrow)
    except VendorError as exc:
        return f"{organization.vendor.type}: {exc.message}", False
    finally:
        await clients.close()
    return f"{organization.vendor.type} answered: {answer}", True
