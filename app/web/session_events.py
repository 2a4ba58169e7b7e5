"""The widget's own events: a WebSocket per session, and a beacon for when the page hides.

Socket protocol (JSON text frames):
  → {"type": "hello", "token": "…"}            first, within HELLO_SECONDS
  ← {"type": "ready"}
  → {"type": "events", "events": [{seq, type, at, step, data}, …]}
  ← {"type": "ack", "seqs": [1, 2, …]}           once published; the widget drops them
  ← {"type": "error", "message": "…"}            a message was refused (not acknowledged)
  ← {"type": "error", "message": "…", "retry": true}   too busy to take it: send it again shortly
The key travels in the URL (`?key=pk_…`, it is public) so the Origin is checked before the
socket is accepted; the token travels in the first message, never in a URL.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from pydantic import ValidationError
from quart import Blueprint, Response, abort, request, websocket

from app import json_input
from app.events.models import ClientBatch, ClientEvent, SessionEvent
from app.metrics import OPEN_SOCKETS
from app.sessions.model import BookingSession
from app.sessions.repository import session_for_token
from app.web import rate_limits, services
from app.web.access import organization_for, session_of_organization
from app.web.problems import HttpProblem
from app.web.rate_limits import RateLimited
from app.web.request_ids import current_request_id

bp = Blueprint("session_events", __name__)

HELLO_SECONDS = 10
MAX_MESSAGE_BYTES = 32 * 1024
# A socket may send this many messages per window; more closes it (the widget batches).
RATE_MESSAGES = 30
RATE_WINDOW_SECONDS = 10.0
CLOSE_BAD_MESSAGE = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_MANY = 4429
CLOSE_TOO_BIG = 1009
# After closing, how long the handler reads on until the widget's close comes back.
CLOSE_DRAIN_SECONDS = 30
BUSY = "the server is busy: send these events again shortly"



def client_events(session: BookingSession, events: list[ClientEvent]) -> list[SessionEvent]:
    now = services.now()  # the server's clock orders events; the widget's is kept beside it
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
    session = session_of_organization(await session_for_token(services.current_db(), token[:200], services.now()), organization)
    if session.id != session_id:
        raise HttpProblem(403, "wrong_session", "This token is for another session.")
    return session


@bp.websocket("/ws/sessions/<session_id>")
async def session_socket(session_id: str) -> None:
    key = (websocket.args.get("key") or "")[:200]
    origin = websocket.headers.get("Origin")
    try:
        await organization_for(key, origin)
    except HttpProblem as denied:
        abort(denied.status)  # before accepting: the browser sees the handshake refused
    await websocket.accept()
    try:
        raw = await asyncio.wait_for(websocket.receive(), HELLO_SECONDS)
        if len(raw) > MAX_MESSAGE_BYTES:
            raise ValueError("message too large")
        hello = json_input.loads(raw)
        if not isinstance(hello, dict):
            raise ValueError("not an object")
        session = await _session_for(session_id, key, str(hello.get("token", "")), origin)
    except HttpProblem as denied:
        await _refuse(denied.message, CLOSE_UNAUTHORIZED)
        return
    except (TimeoutError, ValueError):
        await _refuse("send {\"type\": \"hello\", \"token\": …} first", CLOSE_BAD_MESSAGE)
        return
    await websocket.send_json({"type": "ready"})
    OPEN_SOCKETS.inc()
    try:
        await _relay(session)
    finally:
        OPEN_SOCKETS.dec()


async def _close(code: int, reason: str) -> None:
    """Close, then read whatever the widget had already sent until its close arrives.

    Hypercorn hands each message to the app through a queue of ten; once the handler
    has returned, nothing empties it, and a flood still in flight blocks the reader for
    good, so the connection is never closed (CLOSE-WAIT, one descriptor per flood).
    """
    await websocket.close(code, reason)
    try:
        async with asyncio.timeout(CLOSE_DRAIN_SECONDS):
            while True:
                await websocket.receive()
    except TimeoutError:
        pass


async def _refuse(message: str, code: int) -> None:
    await websocket.send_json({"type": "error", "message": message})
    await _close(code, message[:100])


async def _relay(session: BookingSession) -> None:
    """Publish each batch the widget sends, and acknowledge it, until the socket closes."""
    limit = RateLimit(RATE_MESSAGES, RATE_WINDOW_SECONDS)
    publisher = services.current().events
    while True:
        raw = await websocket.receive()
        if len(raw) > MAX_MESSAGE_BYTES:
            await _close(CLOSE_TOO_BIG, "message too large")
            return
        if not limit.allow():
            await _close(CLOSE_TOO_MANY, "too many messages")
            return
        try:
            json_input.check_depth(raw)
            batch = ClientBatch.model_validate_json(raw)
        except json_input.JsonTooDeep as exc:
            await websocket.send_json({"type": "error", "message": str(exc)})
            continue
        except ValidationError as exc:
            await websocket.send_json({"type": "error", "message": validation_problems(exc)})
            continue
        try:
            await count_client_events(session, len(batch.events))
        except RateLimited as limited:
            # Counted per session and per address across sockets and beacons: reconnecting
            # starts no new count. Nothing of this batch was acknowledged; the widget keeps it.
            await _refuse(limited.message, CLOSE_TOO_MANY)
            return
        if not await publisher.publish(client_events(session, batch.events)):
            await websocket.send_json({"type": "error", "message": BUSY, "retry": True})  # not acknowledged: the widget sends it again
            continue
        await websocket.send_json({"type": "ack", "seqs": [e.seq for e in batch.events]})


def validation_problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)[:5])[:500]


async def count_client_events(session: BookingSession, count: int) -> None:
    """Count a batch against the session's and the address's limits (RateLimited beyond)."""
    now = services.now()
    await rate_limits.check(services.current_db(), "client_events_per_session", session.id, now, cost=count)
    await rate_limits.check(services.current_db(), "client_events_per_ip", rate_limits.client_ip(), now, cost=count)


@bp.post("/sessions/<session_id>/events")
async def beacon(session_id: str) -> Response:
    """navigator.sendBeacon when the page hides: {"key", "token", "events"} as text/plain."""
    try:
        body = json_input.loads(await request.get_data())
        if not isinstance(body, dict):
            raise ValueError("not an object")
        session = await _session_for(session_id, str(body.get("key", "")), str(body.get("token", "")), request.headers.get("Origin"))
        batch = ClientBatch.model_validate({"events": body.get("events")})
    except HttpProblem as denied:
        return Response(denied.message, status=denied.status, content_type="text/plain")
    except ValidationError as exc:
        return Response(validation_problems(exc), status=400, content_type="text/plain")
    except (ValueError, AttributeError):
        return Response("expected {\"key\", \"token\", \"events\": [...]}", status=400, content_type="text/plain")
    try:
        await count_client_events(session, len(batch.events))
    except RateLimited as limited:
        return Response(limited.message, status=429, headers={"Retry-After": str(limited.retry_after)}, content_type="text/plain")
    if not await services.current().events.publish(client_events(session, batch.events)):
        return Response(BUSY, status=503, headers={"Retry-After": "5"}, content_type="text/plain")
    return Response("", status=204)
