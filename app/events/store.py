"""Storing events exactly once, and keeping each session's summary up to date.

This is the one handler both the worker (SQS) and the in-process queue run.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from collections.abc import Iterable

from pymongo.errors import BulkWriteError

from app.db import Database
from app.metrics import EVENT_LAG
from app.events.models import SessionEvent
from app.events.summary import summarize

DUPLICATE_KEY = 11000


async def store_events(db: Database, events: Iterable[SessionEvent]) -> int:
    """Insert each event under its identity (a redelivery is a no-op); returns how many were new."""
    batch = list(events)
    if not batch:
        return 0
    touched = {event.session_id: event for event in batch}
    # stored_ns: when it was stored, to show that a session's events are stored in order.
    documents = [e.model_dump() | {"_id": e.key, "stored_ns": time.time_ns()} for e in batch]
    try:
        # Unordered: a duplicate (a redelivery) does not stop the events after it going in.
        new = len((await db.events.insert_many(documents, ordered=False)).inserted_ids)
    except BulkWriteError as exc:
        others = [e for e in exc.details.get("writeErrors", []) if e.get("code") != DUPLICATE_KEY]
        if others:
            raise
        new = exc.details.get("nInserted", 0)
    steps_of: dict[tuple[str, str], list[str]] = {}  # each flow read once a batch, not once a session
    for session_id, event in touched.items():
        flow_key = (event.organization_id, event.flow_id)
        if flow_key not in steps_of:
            steps_of[flow_key] = await flow_steps(db, *flow_key)
        await refresh_summary(db, session_id, steps_of[flow_key])
    stored_at = datetime.now(UTC)
    for event in batch:
        EVENT_LAG.observe(max((stored_at - event.at).total_seconds(), 0))
    return new


async def flow_steps(db: Database, organization_id: str, flow_id: str) -> list[str]:
    flow = await db.flows.find_one({"_id": f"{organization_id}:{flow_id}"}, {"steps": 1})
    return [s["type"] for s in (flow or {}).get("steps", [])]


async def refresh_summary(db: Database, session_id: str, steps: list[str]) -> None:
    """Derive the session's summary again from all its stored events."""
    events = await db.events.find({"session_id": session_id}).to_list()
    if not events:
        return
    await db.session_summaries.replace_one({"_id": session_id}, summarize(session_id, events, steps), upsert=True)
