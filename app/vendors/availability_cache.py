"""Vendor availability answers kept for a short while.

Every visitor paging through the calendar would otherwise cost a vendor call per click;
an answer is kept per organization, service, ZIP code and range for the organization's
`availability_cache_seconds`, and re-checked with the vendor before a booking is pushed.
Requests that want an answer while it is being fetched wait for that fetch.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from app.single_flight import SingleFlight

T = TypeVar("T")
MAX_ENTRIES = 5000
# A key's first two parts say whose answer it is — ("local", organization id) or
# (organization slug, vendor) — and what a booking makes stale is that owner's answers.
OWNER_PARTS = 2


def owner_of(key: Hashable) -> Hashable:
    return key[:OWNER_PARTS] if isinstance(key, tuple) else key


class AvailabilityCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock
        self._fetching = SingleFlight()
        # Each owner's keys held, so forgetting an owner's answers after a booking reads
        # only theirs, not every organization's in the process.
        self._owners: dict[Hashable, set[Hashable]] = {}
        # How often each owner's answers were forgotten: one fetched across that is not kept
        # (another owner's booking does not make it stale).
        self._forgotten: dict[Hashable, int] = {}

    async def get(self, key: Hashable, ttl: float, load: Callable[[], Awaitable[T]]) -> T:
        now = self._clock()
        found = self._entries.get(key)
        if found is not None and found[0] > now:
            self._entries.move_to_end(key)
            return found[1]  # type: ignore[return-value]
        owner = owner_of(key)
        forgotten = self._forgotten.get(owner, 0)
        value = await self._fetching.run((key, forgotten), load)  # after a forget, a new fetch
        if ttl > 0 and forgotten == self._forgotten.get(owner, 0):
            self._entries[key] = (now + ttl, value)
            self._entries.move_to_end(key)
            self._owners.setdefault(owner, set()).add(key)
            while len(self._entries) > self._max_entries:
                self._drop(self._entries.popitem(last=False)[0])
        return value

    def forget(self, prefix: tuple[Hashable, ...]) -> None:
        """Drop every answer whose key starts with `prefix` (an organization's, after a
        booking); `prefix` names an owner at least."""
        if len(prefix) < OWNER_PARTS:
            raise ValueError(f"a prefix names an owner: its first {OWNER_PARTS} parts, not {prefix!r}")
        owner = owner_of(prefix)
        self._forgotten[owner] = self._forgotten.get(owner, 0) + 1
        for key in [k for k in self._owners.get(owner, ()) if k[: len(prefix)] == prefix]:  # type: ignore[index]
            del self._entries[key]
            self._drop(key)

    def _drop(self, key: Hashable) -> None:
        owner = owner_of(key)
        keys = self._owners.get(owner)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._owners[owner]
