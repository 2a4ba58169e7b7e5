"""An address a returning customer has on file — from the company's earlier bookings here, or
from its field-service system's customer search — and how a visitor is shown it: masked.

Whoever types a phone number or an email learns only that it is known and the street of
each address on it without the number ("•••• Congress Ave"): never the house number, the
unit, the city or the ZIP, and never the name. The whole address stays on the server (in
the session, then in the booking) and goes to the company and its vendor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

MASK = "••••"
# A house number: digits with an optional letter or range ("100", "12B", "12-14", "N123").
_NUMBER = re.compile(r"^\s*(?:[NSEW]?\d+[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?|\d+\s*1/2)\b[\s,]*")


def mask_street(street: str) -> str:
    """'100 Congress Ave' → '•••• Congress Ave'; a street without a number loses its first word."""
    street = " ".join(street.split())
    rest = _NUMBER.sub("", street, count=1)
    if rest == street:  # no number: "Rural Route 2", "Calle Luna" keep their last words only
        words = street.split(" ")
        rest = " ".join(words[1:]) if len(words) > 1 else ""
    return f"{MASK} {rest}".strip()


@dataclass(frozen=True)
class KnownPlace:
    """One address on file; `id` names it in the visitor's form ("p1"…), nothing else does."""

    id: str
    street: str
    city: str
    state: str
    zip_code: str
    unit: str = ""
    source: Literal["bookings", "vendor"] = "bookings"
    # At the vendor: the customer and the address (location, property) to book against.
    vendor_customer_id: str | None = None
    vendor_location_id: str | None = None

    @property
    def masked(self) -> str:
        return mask_street(self.street)

    def same_place(self, other: KnownPlace) -> bool:
        def key(place: KnownPlace) -> tuple[str, str, str]:
            return (" ".join(place.street.lower().split()), place.unit.lower().strip(), place.zip_code[:5])

        return key(self) == key(other)

    def to_document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> KnownPlace:
        def text(name: str) -> str:
            value = doc.get(name)
            return value if isinstance(value, str) else ""

        source: Literal["bookings", "vendor"] = "vendor" if doc.get("source") == "vendor" else "bookings"
        return cls(
            id=text("id"), street=text("street"), city=text("city"), state=text("state"), zip_code=text("zip_code"), unit=text("unit"),
            source=source, vendor_customer_id=text("vendor_customer_id") or None, vendor_location_id=text("vendor_location_id") or None,
        )
