"""The widget's own events: a WebSocket per session, and a beacon for when the page hides.

Socket protocol (JSON text frames):
  → {"type": "hello", "token": "…"}            first, within HELLO_SECONDS
  ← {"type": "ready"}
  → {"type": "events", "events": [{seq, type, at, step, data}, …]}
  ← {"type": "ack", "seqs": [1, 2, …]}           once published; the widget drops them
  ← {"type": "error", "message": "…"}            a message was refused (not acknowledged)
The key travels in the URL (`?key=pk_…`, it is public) so the Origin is checked before the
socket is accepted; the token travels in the first message, never in a URL.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque

from pydantic import ValidationError
from quart import Blueprint, Response, abort, current_app, request, websocket

from app import clock
from app.db import current_db
from app.events.models import ClientBatch, ClientEvent, SessionEvent
from app.logs import current_request_id
from app.metrics import OPEN_SOCKETS
from app.sessions.model import BookingSession
from app.sessions.repository import session_for_token
from app.web.access import AccessDenied, organization_for, session_of_organization

bp = Blueprint("session_events", __name__)

HELLO_SECONDS = 10
MAX_MESSAGE_BYTES = 32 * 1024
# A socket may send this many messages per window; more closes it (the widget batches).
RATE_MESSAGES = 30
RATE_WINDOW_SECONDS = 10.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_MANY = 4429
CLOSE_TOO_BIG = 1009



def client_events(session: BookingSession, events: list[ClientEvent]) -> list[SessionEvent]:
    now = clock.now()  # the server's clock orders events; the widget's is kept beside it
    return [
        SessionEvent(
            session_id=session.id,
            organization_id=session.organization_id,
            flow_id=session.flow_id,
            source="client",
            seq=e.seq,
            type=e.type,
            at=now,
            step=e.step,
            data=e.data | {"client_at": e.at.isoformat()},
            request_id=current_request_id(),
        )
        for e in events
    ]


class RateLimit:
    def __init__(self, count: int, window: float) -> None:
        self.count, self.window, self.times = count, window, deque[float]()

    def allow(self) -> bool:
        now = time.monotonic()
        while self.times and now - self.times[0] > self.window:
            self.times.popleft()
        if len(self.times) >= self.count:
            return False
        self.times.append(now)
        return True


async def _session_for(session_id: str, key: str, token: str, origin: str | None) -> BookingSession:
    organization = await organization_for(key, origin)
    session = session_of_organization(await session_for_token(current_db(), token[:200], clock.now()), organization)
    if session.id != session_id:
        raise AccessDenied(403, "wrong_session", "This token is for another session.")
    return session


@bp.websocket("/ws/sessions/<session_id>")
async def session_socket(session_id: str) -> None:
    key = (websocket.args.get("key") or "")[:200]
    origin = websocket.headers.get("Origin")
    try:
        await organization_for(key, origin)
    except AccessDenied as denied:
        abort(denied.status)  # before accepting: the browser sees the handshake refused
    await websocket.accept()
    try:
        hello = json.loads(await asyncio.wait_for(websocket.receive(), HELLO_SECONDS))
        session = await _session_for(session_id, key, str(hello.get("token", "")), origin)
    except (asyncio.TimeoutError, ValueError, AttributeError, AccessDenied) as exc:
        message = exc.message if isinstance(exc, AccessDenied) else "send {\"type\": \"hello\", \"token\": …} first"
        await websocket.send_json({"type": "error", "message": message})
        await websocket.close(CLOSE_UNAUTHORIZED)
        return
    await websocket.send_json({"type": "ready"})
    OPEN_SOCKETS.inc()
    try:
        await _relay(session)
    finally:
        OPEN_SOCKETS.dec()


async def _relay(session: BookingSession) -> None:
    """Publish each batch the widget sends, and acknowledge it, until the socket closes."""
    limit = RateLimit(RATE_MESSAGES, RATE_WINDOW_SECONDS)
    publisher = current_app.extensions["events"]
    while True:
        raw = await websocket.receive()
        if len(raw) > MAX_MESSAGE_BYTES:
            await websocket.close(CLOSE_TOO_BIG, "message too large")
            return
        if not limit.allow():
            await websocket.close(CLOSE_TOO_MANY, "too many messages")
            return
        try:
            batch = ClientBatch.model_validate_json(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
            await websocket.send_json({"type": "error", "message": problems[:500]})
            continue
        await publisher.publish(client_events(session, batch.events))
        await websocket.send_json({"type": "ack", "seqs": [e.seq for e in batch.events]})


@bp.post("/sessions/<session_id>/events")
async def beacon(session_id: str) -> Response:
    """navigator.sendBeacon when the page hides: {"key", "token", "events"} as text/plain."""
    try:
        body = json.loads(await request.get_data(as_text=True))
        session = await _session_for(session_id, str(body.get("key", "")), str(body.get("token", "")), request.headers.get("Origin"))
        batch = ClientBatch.model_validate({"events": body.get("events")})
    except AccessDenied as denied:
        return Response(denied.message, status=denied.status, content_type="text/plain")
    except (ValueError, AttributeError, ValidationError):
        return Response("expected {\"key\", \"token\", \"events\": [...]}", status=400, content_type="text/plain")
    await current_app.extensions["events"].publish(client_events(session, batch.events))
    return Response("", status=204)
