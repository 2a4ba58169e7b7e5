"""Organization and flow configuration, kept a few seconds per web process.

Every widget request needs its organization (by publishable key) and its flow; both
change only when someone imports a YAML file. Keeping them `config_cache_seconds`
saves two of a step's database round trips; an import reaches every process within
that time. When an entry runs out, one request reads it again and the others waiting for
it share that read. Nothing about a session is kept here.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Generic, TypeVar

from app.db import Database
from app.flows.models import Flow, Organization
from app.flows.repository import flow_by_id, organization_by_key
from app.single_flight import SingleFlight

T = TypeVar("T")


class Expiring(Generic[T]):
    """Values kept `seconds` each in this process (bounded: cleared past 10,000 keys)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.entries: dict[Hashable, tuple[float, T]] = {}

    def get(self, key: Hashable) -> T | None:
        entry = self.entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: Hashable, value: T) -> T:
        if self.seconds > 0:
            if len(self.entries) > 10_000:  # bounded: unknown keys are never stored, but be safe
                self.entries.clear()
            self.entries[key] = (time.monotonic() + self.seconds, value)
        return value


class ConfigCache:
    def __init__(self, db: Database, seconds: float) -> None:
        self._db = db
        self._organizations: Expiring[Organization] = Expiring(seconds)
        self._flows: Expiring[Flow] = Expiring(seconds)
        self._reading = SingleFlight()

    async def organization_by_key(self, key: str) -> Organization | None:
        found = self._organizations.get(key)
        if found is None:
            found = await self._reading.run(("organization", key), lambda: organization_by_key(self._db, key))
            if found is not None:
                self._organizations.put(key, found)
        return found

    async def flow(self, organization_id: str, flow_id: str) -> Flow | None:
        key = f"{organization_id}:{flow_id}"
        found = self._flows.get(key)
        if found is None:
            found = await self._reading.run(("flow", key), lambda: flow_by_id(self._db, organization_id, flow_id))
            if found is not None:
                self._flows.put(key, found)
        return found
