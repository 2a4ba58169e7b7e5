"""Webhook deliveries: each event, for each endpoint that wants it, is stored first (an
outbox), then sent signed per the Standard Webhooks spec (`webhook-id`,
`webhook-timestamp`, `webhook-signature`, by the `standardwebhooks` library) until the
endpoint answers 2xx.

A delivery that fails is tried again with exponential backoff (5 s, doubling, at most
5 hours apart) for 3 days; then it is given up, the endpoint is disabled and the
company's owners are emailed. Every try is logged (when, the answer, how long) for the
console. The message id stays the same on every try and on *Resend*, so a receiver that
got it before can tell. A receiver that hangs is cut off after 10 seconds: the outbox
runs in the background of each web process and never holds up a visitor or the console.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from app.db import Database, insert_new
from app.domain.booking import Booking
from app.domain.lead import Lead
from app.polling import Poller, backoff, lease_due
from app.webhooks.endpoints import TEST_EVENT, BadEndpoint, Endpoint, check_url, endpoint_by_id, set_enabled

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
LEASE_SECONDS = 30.0
FIRST_RETRY_SECONDS = 5.0
LONGEST_RETRY_SECONDS = 5 * 3600.0
GIVE_UP_AFTER = timedelta(days=3)
USER_AGENT = "Scheduler-Webhooks/1"

# Told when an endpoint was disabled for failing (its owners are emailed): the endpoint.
Disabled = Callable[[Endpoint, datetime], Awaitable[None]]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def booking_data(booking: Booking) -> dict[str, Any]:
    """A booking as webhooks carry it (documented in docs/WEBHOOKS.md)."""
    c, w = booking.customer, booking.window
    return {
        "reference": booking.reference,
        "status": booking.status,
        "version": booking.version,
        "flow_id": booking.flow_id,
        "service": {"id": booking.service.id, "name": booking.service.name, "duration_minutes": booking.service.duration_minutes},
        "window": {"date": w.day.isoformat(), "start": w.start.strftime("%H:%M"), "end": w.end.strftime("%H:%M"), "label": w.label},
        "customer": {"first_name": c.first_name, "last_name": c.last_name, "phone": c.phone, "email": c.email},
        "address": {"street": c.street, "unit": c.unit, "city": c.city, "state": c.state, "zip_code": c.zip_code},
        # Booked at an address on file (a returning customer); the photos of the problem, in the console.
        "returning_customer": c.on_file,
        "photo_count": len(booking.photos),
        "answers": [{"question": a.prompt, "answer": a.label} for a in booking.answers],
        "details": dict(booking.details),
        "attribution": dict(booking.attribution),
        "vendor": {"type": booking.vendor.type, "external_id": booking.vendor.external_id, "error": booking.vendor.error},
        "created_at": _utc(booking.created_at),
        "updated_at": _utc(booking.updated_at or booking.created_at),
        "cancel_reason": next((ch.reason for ch in reversed(booking.changes) if ch.kind == "cancelled"), None)
        if booking.is_cancelled else None,
    }


def lead_data(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id, "reason": lead.reason, "status": lead.status, "name": lead.name, "phone": lead.phone,
        "email": lead.email, "zip_code": lead.zip_code, "address": lead.address, "service": lead.service,
        "flow_id": lead.flow_id, "created_at": _utc(lead.created_at),
    }


def _body(event_type: str, data: Mapping[str, Any], now: datetime) -> str:
    return json.dumps({"type": event_type, "timestamp": _utc(now), "data": data}, separators=(",", ":"), ensure_ascii=False)


async def emit(
    db: Database, organization_id: str, event_types: Sequence[str], data: Mapping[str, Any], key: str, now: datetime,
) -> int:
    """Store a delivery of each event for each of the organization's endpoints that wants it
    (one read of the endpoints, one write of the deliveries, whatever their number).
    `key` names what the events are about (a booking's reference and version, a lead): the same
    event about the same thing is stored once, however often a confirm or a push is retried."""
    deliveries = []
    async for doc in db.webhook_endpoints.find({"organization_id": organization_id, "enabled": True}):
        endpoint = Endpoint.from_document(doc)
        for event_type in event_types:
            if endpoint.wants(event_type) and event_type != TEST_EVENT:
                digest = hashlib.sha256(f"{endpoint.id}|{event_type}|{key}".encode()).hexdigest()[:24]
                deliveries.append(_delivery(endpoint, event_type, _body(event_type, data, now), now, "msg_" + digest))
    return sum(await insert_new(db.webhook_deliveries, deliveries))


async def send_test_event(db: Database, endpoint: Endpoint, person: str, now: datetime) -> str:
    body = _body(TEST_EVENT, {"endpoint_id": endpoint.id, "sent_by": person, "message": "A test event from your booking scheduler."}, now)
    return await _store(db, endpoint, TEST_EVENT, body, now)


def _delivery(endpoint: Endpoint, event_type: str, body: str, now: datetime, delivery_id: str) -> dict[str, Any]:
    return {
        "_id": delivery_id, "endpoint_id": endpoint.id, "organization_id": endpoint.organization_id,
        "event_type": event_type, "body": body, "state": "pending", "attempts": 0, "created_at": now.timestamp(),
        "due_at": now.timestamp(), "lease_until": 0.0, "lease_id": None, "last_status": None, "last_error": None,
    }


async def _store(db: Database, endpoint: Endpoint, event_type: str, body: str, now: datetime) -> str:
    delivery_id = "msg_" + secrets.token_hex(12)
    await db.webhook_deliveries.insert_one(_delivery(endpoint, event_type, body, now, delivery_id))
    return delivery_id


async def resend(db: Database, organization_id: str, delivery_id: str, now: datetime) -> bool:
    """Send a delivery again now (same message id), whatever became of it; False if not found."""
    result = await db.webhook_deliveries.update_one(
        {"_id": delivery_id[:64], "organization_id": organization_id},
        {"$set": {"state": "pending", "due_at": now.timestamp(), "created_at": now.timestamp(), "lease_until": 0.0}},
    )
    return result.matched_count == 1


async def deliveries_of(db: Database, endpoint_id: str, limit: int = 50) -> list[dict[str, Any]]:
    found = await db.webhook_deliveries.find({"endpoint_id": endpoint_id}, {"body": 0}).sort("created_at", -1).limit(limit).to_list()
    ids = [d["_id"] for d in found]
    attempts: dict[str, list[dict[str, Any]]] = {}
    async for a in db.webhook_attempts.find({"delivery_id": {"$in": ids}}).sort("at", 1):
        attempts.setdefault(a["delivery_id"], []).append(a)
    for d in found:
        d["tries"] = attempts.get(d["_id"], [])
    return found


class WebhookDrainer(Poller):
    """Sends due deliveries in the background of every web process; leases keep each to one."""

    name = "webhook outbox"

    def __init__(
        self, db: Database, clock: Callable[[], datetime], interval: float, allow_private: bool,
        own_hosts: frozenset[str] = frozenset(), on_disabled: Disabled | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(clock, interval)
        self._db = db
        self._allow_private = allow_private
        self._own_hosts = own_hosts
        self._on_disabled = on_disabled
        self._timeout = timeout
        # No redirects: a receiver can't bounce a signed message (or us) somewhere else.
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def close(self) -> None:
        await self._client.aclose()

    async def claim(self, now: datetime) -> dict[str, Any] | None:
        return await lease_due(self._db.webhook_deliveries, now, LEASE_SECONDS)

    async def handle(self, entry: dict[str, Any], now: datetime) -> None:
        endpoint = await endpoint_by_id(self._db, entry["organization_id"], entry["endpoint_id"])
        if endpoint is None or not endpoint.enabled:
            await self._finish(entry, "failed", None, "the endpoint is disabled or removed")
            return
        status, problem, ms = await self._send(endpoint, entry, now)
        await self._db.webhook_attempts.insert_one({
            "delivery_id": entry["_id"], "endpoint_id": endpoint.id, "at": now, "status": status, "ms": ms, "error": problem,
        })
        if problem is None:
            await self._finish(entry, "delivered", status, None)
            return
        attempts = entry.get("attempts", 0) + 1
        delay = backoff(attempts, FIRST_RETRY_SECONDS, LONGEST_RETRY_SECONDS)
        if now.timestamp() + delay - entry["created_at"] < GIVE_UP_AFTER.total_seconds():
            await self._db.webhook_deliveries.update_one({"_id": entry["_id"], "lease_id": entry["lease_id"]}, {"$set": {
                "attempts": attempts, "due_at": now.timestamp() + delay, "lease_until": 0.0, "lease_id": None,
                "last_status": status, "last_error": problem,
            }})
            return
        await self._finish(entry, "failed", status, f"gave up after {attempts} tries over 3 days: {problem}")
        if await set_enabled(self._db, endpoint, False, f"disabled on {now:%Y-%m-%d}: deliveries failed for 3 days ({problem})"):
            log.error("webhook endpoint disabled", extra={"endpoint": endpoint.id, "organization": endpoint.organization_id})
            if self._on_disabled is not None:
                await self._on_disabled(endpoint, now)

    async def _send(self, endpoint: Endpoint, entry: dict[str, Any], now: datetime) -> tuple[int | None, str | None, int]:
        """(status, problem or None, milliseconds)."""
        try:
            await check_url(endpoint.url, self._allow_private, self._own_hosts)
        except BadEndpoint as exc:
            return None, str(exc), 0
        body: str = entry["body"]
        signatures = " ".join(Webhook(secret).sign(entry["_id"], now.astimezone(UTC), body) for secret in endpoint.secrets_at(now))
        headers = {
            "webhook-id": entry["_id"], "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signatures,
            "content-type": "application/json", "user-agent": USER_AGENT,
        }
        started = time.monotonic()
        try:
            response = await self._client.post(endpoint.url, content=body.encode(), headers=headers)
        except httpx.TimeoutException:
            return None, f"no answer within {self._timeout:g} s", int((time.monotonic() - started) * 1000)
        except httpx.HTTPError as exc:
            return None, f"could not connect ({type(exc).__name__})", int((time.monotonic() - started) * 1000)
        ms = int((time.monotonic() - started) * 1000)
        if 200 <= response.status_code < 300:
            return response.status_code, None, ms
        return response.status_code, f"answered {response.status_code}", ms

    async def _finish(self, entry: dict[str, Any], state: str, status: int | None, problem: str | None) -> None:
        await self._db.webhook_deliveries.update_one({"_id": entry["_id"], "lease_id": entry["lease_id"]}, {"$set": {
            "state": state, "attempts": entry.get("attempts", 0) + 1, "lease_until": 0.0, "lease_id": None,
            "last_status": status, "last_error": problem,
        }})
