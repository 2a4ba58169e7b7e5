"""Recording the web process's own events as they happen."""

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


async def record_server_events(
    db: Database,
    publisher: EventPublisher,
    session: BookingSession,
    items: list[EventItem],
    now: datetime,
    request_id: str | None = None,
) -> None:
    """Number the events (an atomic counter per session) and publish them.

    Recording never stands in a visitor's way: a failure is logged, the request goes on.
    """
    if not items:
        return
    try:
        counter = await db.event_counters.find_one_and_update(
            {"_id": session.id}, {"$inc": {"server": len(items)}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert counter is not None  # upserted
        first = counter["server"] - len(items) + 1
        events = [
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
        await publisher.publish(events)
    except Exception:
        logger.exception("recording %d events of session %s failed", len(items), session.id)
