"""One load at a time per key: the callers that ask while it runs wait for its answer.

When a cached entry (an organization, a flow, a month of the calendar) runs out while
fifty requests want it, one of them reads the database and the other forty-nine wait for
that read, instead of fifty reads at once. A caller that gives up (its request was
cancelled) does not cancel the read the others wait for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SingleFlight:
    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future[Any]] = {}

    async def run(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(load())
            self._running[key] = running
            running.add_done_callback(lambda _: self._running.pop(key, None))
        result: T = await asyncio.shield(running)
        return result
