"""US ZIP codes to their city and state, offline (the `zipcodes` package's USPS data).

The Customer step fills City and State from the ZIP the visitor already gave, and checks
the State they type against it. The data is indexed once per process (about a second:
`warm()` does it at start-up, so no visitor waits), then each look-up is a dict read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import zipcodes


@dataclass(frozen=True)
class Place:
    city: str
    state: str  # two letters, as the USPS writes it


@cache
def _index() -> dict[str, Place]:
    every = zipcodes.list_all()  # type: ignore[no-untyped-call]  # the package has no annotations
    return {z["zip_code"]: Place(str(z["city"]).title(), str(z["state"])) for z in every}


@cache
def states() -> frozenset[str]:
    return frozenset(p.state for p in _index().values())


def place_of(zip_code: str) -> Place | None:
    return _index().get(zip_code.strip()[:5])


def warm() -> None:
    _index()
    states()
