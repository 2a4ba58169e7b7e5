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


class AvailabilityCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._max_entries = max_entries
        self._fetching = SingleFlight()
        self._forgotten = 0  # how often answers were forgotten: one fetched across that is not kept

    async def get(self, key: Hashable, ttl: float, load: Callable[[], Awaitable[T]]) -> T:
        now = time.monotonic()
        found = self._entries.get(key)
        if found is not None and found[0] > now:
            self._entries.move_to_end(key)
            return found[1]  # type: ignore[return-value]
        forgotten = self._forgotten
        value = await self._fetching.run((key, forgotten), load)  # after a forget, a new fetch
        if ttl > 0 and forgotten == self._forgotten:
            self._entries[key] = (now + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return value

    def forget(self, prefix: tuple[Hashable, ...]) -> None:
        """Drop every answer whose key starts with `prefix` (an organization's, after a booking)."""
        self._forgotten += 1
        for key in [k for k in self._entries if isinstance(k, tuple) and k[: len(prefix)] == prefix]:
            del self._entries[key]
