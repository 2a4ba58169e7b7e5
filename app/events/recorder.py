"""Recording the web process's own events as they happen.

A session numbers its server events itself: `BookingSession.server_events` is how many
it has numbered, a request numbers what it recorded from there, and the session is saved
with the new count in the request's one write (a compare-and-swap, so two requests never
take the same numbers, and a request whose save lost takes none). Then the events go to
the publisher, which stores them in bulk after the answer.

Sessions saved before they counted (`server_events` None) are numbered by the counter
collection as before, one round trip more, until they expire.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from app.db import Database
from app.events.models import SessionEvent
from app.events.publishers import EventPublisher
from app.sessions.model import BookingSession

logger = logging.getLogger(__name__)

# (step, type, data)
EventItem = tuple[str | None, str, dict[str, Any]]


def number_events(
    session: BookingSession, items: list[EventItem], now: datetime, request_id: str | None = None, first: int | None = None
) -> list[SessionEvent]:
    """The items as the session's next server events; advances the session's count (save it
    after). `first`: the first number when the count is kept elsewhere (the old counter)."""
    if first is None:
        assert session.server_events is not None
        first = session.server_events + 1
        session.server_events += len(items)
    return [
        SessionEvent(
            session_id=session.id,
            organization_id=session.organization_id,
            flow_id=session.flow_id,
            source="server",
            seq=first + i,
            type=kind,
            at=now,
            step=step,
            data=data,
            request_id=request_id,
        )
        for i, (step, kind, data) in enumerate(items)
    ]


async def publish_events(publisher: EventPublisher, events: list[SessionEvent]) -> None:
    """Hand numbered events to the publisher. Recording never stands in a visitor's way: a
    failure is logged, the request goes on."""
    if not events:
        return
    try:
        await publisher.publish(events)
    except Exception:
        logger.exception("recording %d events of session %s failed", len(events), events[0].session_id)


async def record_with_old_counter(
    db: Database,
    publisher: EventPublisher,
    session: BookingSession,
    items: list[EventItem],
    now: datetime,
    request_id: str | None = None,
) -> None:
    """Number and publish the events of a session from before sessions counted (an atomic
    counter per session in its own collection)."""
    if not items:
        return
    try:
        counter = await db.event_counters.find_one_and_update(
            {"_id": session.id}, {"$inc": {"server": len(items)}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert counter is not None  # upserted
        events = number_events(session, items, now, request_id, first=counter["server"] - len(items) + 1)
    except Exception:
        logger.exception("numbering %d events of session %s failed", len(items), session.id)
        return
    await publish_events(publisher, events)
