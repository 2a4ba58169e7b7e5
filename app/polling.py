"""What the outboxes (vendor pushes, mail) share: a background job that drains what is due
every few seconds, the lease that keeps an entry to one process, and the retry backoff.

Each web process runs one drainer per outbox. `wake()` drains at once (mail just
queued); a database that is down is logged and tried again at the next round; `stop()`
ends the loop after the entry in hand. Entries keep times as epoch seconds.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from app.db import DB_WORK

log = logging.getLogger(__name__)


def backoff(attempts: int, first: float, longest: float) -> float:
    """Seconds before the next try: doubling from `first`, capped at `longest`, jittered down
    by up to a fifth so that many entries failing together do not retry together."""
    delay = min(longest, first * 2 ** max(attempts - 1, 0))
    return random.uniform(delay * 0.8, delay)


async def lease_due(
    collection: AsyncCollection[dict[str, Any]],
    now: datetime,
    lease_seconds: float,
    key: str | None = None,
    also: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Lease the pending entry due soonest (or the one named `key`, due or not) that no one
    holds; None when there is none. `also` adds to the update (a counter of leases)."""
    moment = now.timestamp()
    query: dict[str, Any] = {"state": "pending", "lease_until": {"$lt": moment}}
    if key is None:
        query["due_at"] = {"$lte": moment}
    else:
        query["_id"] = key
    update: dict[str, Any] = {"$set": {"lease_until": moment + lease_seconds, "lease_id": secrets.token_hex(8)}}
    return await collection.find_one_and_update(
        query, update | (also or {}), sort=[("due_at", 1)], return_document=ReturnDocument.AFTER
    )


class Poller(ABC):
    """Drains an outbox: leases each due entry (`claim`) and handles it (`handle`) until none is due."""

    name = "poller"

    def __init__(self, clock: Callable[[], datetime], interval: float) -> None:
        self._clock = clock
        self._interval = interval
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """Something is due now: drain without waiting for the next round."""
        self._wake.set()

    @abstractmethod
    async def claim(self, now: datetime) -> dict[str, Any] | None:
        """Lease the next entry that is due; None when there is none."""

    @abstractmethod
    async def handle(self, entry: dict[str, Any], now: datetime) -> None:
        """Do a claimed entry's work once and record the result."""

    async def drain_once(self) -> int:
        """Handle everything that is due now; how many were handled."""
        handled = 0
        while not self.stopping:
            now = self._clock()
            entry = await self.claim(now)
            if entry is None:
                break
            await self.handle(entry, now)
            handled += 1
        return handled

    async def run(self) -> None:
        DB_WORK.set(self.name)  # this task's round trips are not any request's
        while not self._stopping.is_set():
            try:
                await self.drain_once()
            except PyMongoError as exc:
                log.warning("%s: database unreachable", self.name, extra={"problem": str(exc)})
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            except TimeoutError:
                pass
