"""Storing events exactly once, and keeping each session's summary up to date.

This is the one handler both the worker (SQS) and the in-process queue run.

- A redelivered event is a no-op (its identity is its `_id`).
- An event the database will not take (a key it refuses, say) is set aside in the
  dead-letter collection with the reason, and the rest of its batch is stored: one bad
  event never holds up the others. Only a database that does not answer fails the
  batch, which the caller then offers again.
- A session's summary is brought up to date from the events just stored, not re-read
  from all of them — and the summaries of a whole batch at once: one read of them, one
  bulk write of compare-and-swaps (each on the summary's version). A batch's storing is
  then four round trips however many sessions it holds (events, flows, summaries read,
  summaries written), a small fraction of the requests that recorded them. When another
  storer changed one of those summaries meanwhile (two processes storing one session's
  events at once), the write says so only in its counts; each summary whose marker is
  not this write's is then derived again from all its stored events, which is right
  whichever of the two writes won.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo import InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError, ExecutionTimeout, WTimeoutError

from app.db import DUPLICATE_KEY, Database, insert_new
from app.events.models import SessionEvent
from app.events.summary import merge_summary
from app.flows.cache import Expiring
from app.metrics import EVENT_LAG, EVENTS_SET_ASIDE

logger = logging.getLogger(__name__)
# The database is away or slow: the batch is offered again, nothing is set aside.
TRANSIENT = (ConnectionFailure, ExecutionTimeout, WTimeoutError)
# Attempts at a summary's compare-and-swap when two stores update one session at once.
SUMMARY_ATTEMPTS = 20
# A flow's steps (what a summary's furthest step is counted in) are read once a minute.
FLOW_STEPS_SECONDS = 60.0
_flow_steps: Expiring[list[str]] = Expiring(FLOW_STEPS_SECONDS)


def _document(event: SessionEvent) -> dict[str, Any]:
    # stored_ns: when it was stored, to show that a session's events are stored in order.
    return event.model_dump() | {"_id": event.key, "stored_ns": time.time_ns()}


async def store_events(db: Database, events: Iterable[SessionEvent]) -> int:
    """Insert each event under its identity; returns how many were new."""
    batch = list(events)
    if not batch:
        return 0
    try:
        new = await _insert(db, batch)
        await _update_summaries(db, new)
    except _Refused as refused:
        # Something in the batch was refused: find it by halves, set it aside, store the rest.
        new = await _store_without_refused(db, batch, refused.problem)
        await _rebuild_summaries(db, batch)
    stored_at = datetime.now(UTC)
    for event in batch:
        EVENT_LAG.observe(max((stored_at - event.at).total_seconds(), 0))
    return len(new)


class _Refused(Exception):
    """The database refused something in a batch other than a duplicate."""

    def __init__(self, problem: Exception) -> None:
        super().__init__(str(problem))
        self.problem = problem


async def _insert(db: Database, batch: list[SessionEvent]) -> list[SessionEvent]:
    """The events newly inserted (duplicates are not); raises _Refused for anything else refused."""
    try:
        # Unordered: a duplicate (a redelivery) does not stop the events after it going in.
        new = await insert_new(db.events, [_document(e) for e in batch])
    except TRANSIENT:
        raise
    except Exception as exc:  # InvalidDocument, a refusal other than a duplicate: the batch holds a bad event
        raise _Refused(exc) from None
    return [e for e, is_new in zip(batch, new, strict=True) if is_new]


async def _store_without_refused(db: Database, batch: list[SessionEvent], problem: Exception) -> list[SessionEvent]:
    """`batch` was refused: store each half that is taken, split each that is not, and set
    aside the single events refused on their own. Returns the events newly stored."""
    if len(batch) == 1:
        await set_aside(db, batch[0], problem)
        return []
    middle = len(batch) // 2
    stored: list[SessionEvent] = []
    for half in (batch[:middle], batch[middle:]):
        try:
            stored += await _insert(db, half)
        except _Refused as refused:
            stored += await _store_without_refused(db, half, refused.problem)
    return stored


async def set_aside(db: Database, event: SessionEvent, problem: Exception) -> None:
    """Keep a refused event (as JSON, which takes any key) where an operator can look."""
    EVENTS_SET_ASIDE.inc()
    logger.error("event %s set aside: %s", event.key, str(problem)[:300])
    await db.dead_events.replace_one(
        {"_id": event.key},
        {
            "_id": event.key,
            "session_id": event.session_id,
            "organization_id": event.organization_id,
            "event": event.model_dump_json(),
            "problem": f"{type(problem).__name__}: {str(problem)[:500]}",
            "set_aside_at": datetime.now(UTC),
        },
        upsert=True,
    )


async def flow_steps(db: Database, organization_id: str, flow_id: str) -> list[str]:
    key = (db.db.name, organization_id, flow_id)
    known = _flow_steps.get(key)
    if known is not None:
        return known
    flow = await db.flows.find_one({"_id": f"{organization_id}:{flow_id}"}, {"steps": 1})
    steps = _flow_steps.put(key, [s["type"] for s in (flow or {}).get("steps", [])])
    return steps


def _by_session(events: list[SessionEvent]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        grouped.setdefault(event.session_id, []).append(event.model_dump())
    return grouped


async def _steps_of_each(db: Database, grouped: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """Each session's flow steps, each flow read once a batch, not once a session."""
    flows: dict[tuple[str, str], list[str]] = {}
    steps: dict[str, list[str]] = {}
    for session_id, events in grouped.items():
        key = (events[0]["organization_id"], events[0]["flow_id"])
        if key not in flows:
            flows[key] = await flow_steps(db, *key)
        steps[session_id] = flows[key]
    return steps


async def _update_summaries(db: Database, new: list[SessionEvent]) -> None:
    """Fold the new events into their sessions' summaries: one read, one bulk write."""
    grouped = _by_session(new)
    if not grouped:
        return
    steps = await _steps_of_each(db, grouped)
    previous = {doc["_id"]: doc async for doc in db.session_summaries.find({"_id": {"$in": list(grouped)}})}
    marker = uuid.uuid4().hex  # which write each summary last took
    writes: list[InsertOne[Any] | ReplaceOne[Any]] = []
    for session_id, events in grouped.items():
        before = previous.get(session_id)
        merged = merge_summary(session_id, before, events, steps[session_id]) | {"write": marker}
        if before is None:
            writes.append(InsertOne(merged))
        else:
            writes.append(ReplaceOne({"_id": session_id, "version": before.get("version", 0)}, merged))
    try:
        result = await db.session_summaries.bulk_write(writes, ordered=False)
        applied = result.inserted_count + result.matched_count
    except BulkWriteError as exc:
        if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
            raise
        applied = exc.details.get("nInserted", 0) + exc.details.get("nMatched", 0)
    if applied == len(writes):
        return
    # Another storer wrote some of these summaries first: which, the counts do not say.
    taken = {doc["_id"] async for doc in db.session_summaries.find({"_id": {"$in": list(grouped)}, "write": marker}, {"_id": 1})}
    for session_id in grouped:
        if session_id not in taken:
            await refresh_summary(db, session_id, steps[session_id])


async def refresh_summary(db: Database, session_id: str, steps: list[str]) -> None:
    """Derive the session's summary again from all its stored events (after a split batch, or
    a summary another storer wrote at the same time): a compare-and-swap, tried again when
    another write came between."""
    for _ in range(SUMMARY_ATTEMPTS):
        previous = await db.session_summaries.find_one({"_id": session_id}, {"version": 1})
        events = await db.events.find({"session_id": session_id}).to_list()
        if not events:
            return
        summary = merge_summary(session_id, None, events, steps)
        summary["version"] = (previous or {}).get("version", 0) + 1
        try:
            if previous is None:
                await db.session_summaries.insert_one(summary)
                return
            result = await db.session_summaries.replace_one({"_id": session_id, "version": previous.get("version", 0)}, summary)
        except DuplicateKeyError:
            continue
        if result.matched_count == 1:
            return
    raise RuntimeError(f"the summary of session {session_id} stayed contended")


async def _rebuild_summaries(db: Database, batch: list[SessionEvent]) -> None:
    grouped = _by_session(batch)
    steps = await _steps_of_each(db, grouped)
    for session_id in grouped:
        await refresh_summary(db, session_id, steps[session_id])
