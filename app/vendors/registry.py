"""Every vendor, in one place. Adding a vendor is its module (a `VendorStrategy` with its
`settings_model`) plus one line in STRATEGIES; the YAML's `vendor:` block, `flows import`
errors, `vendors check` and the strategy a request gets all follow from it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Union

from pydantic import Discriminator, Tag

from app.db import Database
from app.vendors.base import AvailabilityScope, VendorOwner, VendorSettings, VendorStrategy
from app.vendors.housecallpro import HousecallProStrategy
from app.vendors.jobber import JobberStrategy
from app.vendors.local import LocalCalendarVendor
from app.vendors.remote import VendorClients
from app.vendors.servicetitan import ServiceTitanStrategy

STRATEGIES: tuple[type[VendorStrategy], ...] = (
    LocalCalendarVendor,
    ServiceTitanStrategy,
    HousecallProStrategy,
    JobberStrategy,
)
BY_TYPE: dict[str, type[VendorStrategy]] = {strategy.vendor_type: strategy for strategy in STRATEGIES}
VENDOR_TYPES: tuple[str, ...] = tuple(BY_TYPE)
DEFAULT_VENDOR = LocalCalendarVendor.vendor_type


def _vendor_type(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("type", DEFAULT_VENDOR))
    return str(getattr(value, "type", DEFAULT_VENDOR))


if TYPE_CHECKING:
    VendorConfig = VendorSettings
else:
    # `vendor:` in an organization's YAML: one of the registered settings models, by `type`.
    VendorConfig = Annotated[
        Union[tuple(Annotated[s.settings_model, Tag(s.vendor_type)] for s in STRATEGIES)],  # noqa: UP007
        Discriminator(_vendor_type),
    ]


def vendor_for(
    db: Database,
    owner: VendorOwner,
    now: datetime,
    *,
    clients: VendorClients | None = None,
    scope: AvailabilityScope = AvailabilityScope(),
) -> VendorStrategy:
    """The organization's vendor, answering for what the visitor has chosen (`scope`)."""
    strategy = BY_TYPE.get(owner.vendor.type)
    if strategy is None:
        raise ValueError(f"unsupported vendor type {owner.vendor.type!r}")
    return strategy.create(db, owner, now, clients, scope)
