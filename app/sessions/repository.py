"""Creating, finding and saving booking sessions.

A session is saved whole with optimistic concurrency: the save succeeds only if nobody
saved it since it was loaded, so two requests of one session can never interleave
their changes. Every step request that gets as far as an answer saves it once — what it
changed, the numbers of the events it recorded, its count against the per-session rate
limit — so a step costs two round trips: this load and this save.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from app.db import Database
from app.sessions.model import BookingDraft, BookingSession


class SessionConflict(Exception):
    """The session changed since it was loaded (a second request of the same session won)."""


def hash_token(token: str) -> str:
    # Only the hash is stored: a copy of the database does not let anyone resume sessions.
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(
    *,
    organization_id: str,
    flow_id: str,
    steps: list[str],
    now: datetime,
    ttl: timedelta,
    attribution: dict[str, str],
    booking: BookingDraft,
    saved_state: dict[str, dict[str, Any]],
    locale: str = "en_US",
    visitor_zone: str | None = None,
) -> tuple[BookingSession, str]:
    """A session at the flow's first step, not yet stored; it and the token the widget keeps."""
    token = secrets.token_urlsafe(32)
    session = BookingSession(
        id=uuid.uuid4().hex,
        token_hash=hash_token(token),
        organization_id=organization_id,
        flow_id=flow_id,
        steps=steps,
        current_step=steps[0],
        created_at=now,
        updated_at=now,
        expires_at=now + ttl,
        attribution=attribution,
        booking=booking,
        saved_state=saved_state,
        version=1,
        locale=locale,
        visitor_zone=visitor_zone,
    )
    return session, token


async def insert_session(db: Database, session: BookingSession) -> None:
    await db.sessions.insert_one(session.to_document())


async def session_for_token(db: Database, token: str, now: datetime) -> BookingSession | None:
    """The live session a token opens, or None when it is unknown or has expired."""
    doc = await db.sessions.find_one({"token_hash": hash_token(token)})
    if doc is None:
        return None
    session = BookingSession.from_document(doc)
    return session if session.expires_at > now else None


async def session_by_id(db: Database, session_id: str) -> BookingSession | None:
    """The session as it is stored now (a request that lost a save reloads it)."""
    doc = await db.sessions.find_one({"_id": session_id})
    return None if doc is None else BookingSession.from_document(doc)


async def save_session(db: Database, session: BookingSession, now: datetime, ttl: timedelta) -> None:
    """Write the session if it is unchanged since loaded; raise SessionConflict otherwise."""
    expected = session.version
    session.version = expected + 1
    session.updated_at = now
    session.expires_at = now + ttl
    result = await db.sessions.replace_one({"_id": session.id, "version": expected}, session.to_document())
    if result.matched_count != 1:
        session.version = expected
        raise SessionConflict(session.id)
