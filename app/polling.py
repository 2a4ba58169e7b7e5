"""A background job that drains something due every few seconds (the vendor and mail outboxes).

Each web process runs one per outbox; leases in the database keep an entry to one
process. `wake()` drains at once (mail just queued); a database that is down is logged
and tried again at the next round; `stop()` ends the loop after the entry in hand.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod

from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)


class Poller(ABC):
    name = "poller"

    def __init__(self, interval: float) -> None:
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
    async def drain_once(self) -> int:
        """Handle everything that is due now; how many were handled."""

    async def run(self) -> None:
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
