"""A company's webhook endpoints: where to send which events, and the secret that signs them.

An endpoint's URL must be https and reach a public address: not this scheduler, not
localhost, not a private or link-local network (the addresses are checked when the URL is
saved and again before each delivery, so a name that later points inside is refused
then). Development, and tests with a local receiver, may allow private addresses.

Secrets follow the Standard Webhooks format (`whsec_` + base64). Rotating keeps the old
secret for 24 hours: deliveries carry both signatures meanwhile, so the receiver can
switch without losing any.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from app.db import Database

EVENT_TYPES: tuple[str, ...] = (
    "booking.created", "booking.confirmed", "booking.rescheduled", "booking.cancelled", "booking.needs_attention",
    "lead.created",
)
TEST_EVENT = "webhook.test"
MAX_ENDPOINTS = 10
MAX_URL = 2000
ROTATION_OVERLAP = timedelta(hours=24)


class BadEndpoint(ValueError):
    """A URL or a choice of events that can't be used; the message says why."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass(frozen=True)
class Endpoint:
    id: str
    organization_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime
    created_by: str
    enabled: bool = True
    disabled_reason: str | None = None
    previous_secret: str | None = None
    previous_until: datetime | None = None
    description: str = ""

    def secrets_at(self, now: datetime) -> list[str]:
        """The secrets a delivery is signed with now: the current, and the last within a day of rotating."""
        found = [self.secret]
        if self.previous_secret and self.previous_until and now < self.previous_until:
            found.append(self.previous_secret)
        return found

    def wants(self, event_type: str) -> bool:
        return self.enabled and (event_type in self.events or event_type == TEST_EVENT)

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": self.id, "organization_id": self.organization_id, "url": self.url, "events": list(self.events),
            "secret": self.secret, "created_at": self.created_at, "created_by": self.created_by, "enabled": self.enabled,
            "disabled_reason": self.disabled_reason, "previous_secret": self.previous_secret,
            "previous_until": self.previous_until.timestamp() if self.previous_until else None, "description": self.description,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Endpoint:
        return cls(
            id=str(doc["_id"]), organization_id=str(doc["organization_id"]), url=str(doc["url"]),
            events=tuple(e for e in doc.get("events") or [] if e in EVENT_TYPES), secret=str(doc["secret"]),
            created_at=doc["created_at"], created_by=str(doc.get("created_by") or ""), enabled=bool(doc.get("enabled", True)),
            disabled_reason=doc.get("disabled_reason"), previous_secret=doc.get("previous_secret"),
            previous_until=datetime.fromtimestamp(doc["previous_until"], UTC) if isinstance(doc.get("previous_until"), int | float) else None,
            description=str(doc.get("description") or ""),
        )


# -- the URL ------------------------------------------------------------------------------


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def netloc(host: str, port: int | None, scheme: str) -> str:
    """`host:port` with the scheme's port filled in: how this scheduler's own address is compared."""
    return f"{host.lower().rstrip('.')}:{port or (443 if scheme == 'https' else 80)}"


async def check_url(url: str, allow_private: bool, own_hosts: frozenset[str] = frozenset()) -> str:
    """The URL, checked: https (http only where private addresses are allowed), not this
    scheduler (`own_hosts`: its `host:port`s), and every address it resolves to public.
    Raises BadEndpoint."""
    url = url.strip()
    if not url or len(url) > MAX_URL or any(c in url for c in "\x00\r\n\t "):
        raise BadEndpoint("Enter the full https:// address your system gave you.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise BadEndpoint("That address is not a valid URL.") from None
    if parts.scheme not in ({"https", "http"} if allow_private else {"https"}):
        raise BadEndpoint("Webhook addresses must start with https://.")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise BadEndpoint("That address has no host name.")
    if parts.username or parts.password:
        raise BadEndpoint("Put credentials in your system's settings, not in the address.")
    if netloc(host, port, parts.scheme) in own_hosts:
        raise BadEndpoint("A webhook can't point at this scheduler itself.")
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise BadEndpoint(f"{host} can't be found (check the spelling).") from None
    addresses = {str(info[4][0]) for info in found}
    if not allow_private and not all(_is_public(a) for a in addresses):
        raise BadEndpoint(f"{host} points at a private or local network address: webhooks go to the public internet only.")
    return url


def own_netlocs(*urls: str) -> frozenset[str]:
    found = set()
    for url in urls:
        try:
            parts = urlsplit(url)
            if parts.hostname:
                found.add(netloc(parts.hostname, parts.port, parts.scheme))
        except ValueError:
            continue
    return frozenset(found)


def _chosen(events: list[str]) -> tuple[str, ...]:
    chosen = tuple(e for e in EVENT_TYPES if e in events)
    if not chosen:
        raise BadEndpoint("Choose at least one event to send.")
    return chosen


# -- storing --------------------------------------------------------------------------------


async def list_endpoints(db: Database, organization_id: str) -> list[Endpoint]:
    return [Endpoint.from_document(d) async for d in db.webhook_endpoints.find({"organization_id": organization_id}).sort("created_at", 1)]


async def endpoint_by_id(db: Database, organization_id: str, endpoint_id: str) -> Endpoint | None:
    doc = await db.webhook_endpoints.find_one({"_id": endpoint_id[:64], "organization_id": organization_id})
    return Endpoint.from_document(doc) if doc else None


async def create_endpoint(
    db: Database, organization_id: str, url: str, events: list[str], description: str, person: str, now: datetime,
    allow_private: bool, own_hosts: frozenset[str] = frozenset(),
) -> Endpoint:
    if await db.webhook_endpoints.count_documents({"organization_id": organization_id}) >= MAX_ENDPOINTS:
        raise BadEndpoint(f"A company can have {MAX_ENDPOINTS} endpoints: remove one first.")
    endpoint = Endpoint(
        id="ep_" + secrets.token_hex(8), organization_id=organization_id,
        url=await check_url(url, allow_private, own_hosts), events=_chosen(events), secret=new_secret(),
        created_at=now, created_by=person, description=" ".join(description.split())[:200],
    )
    await db.webhook_endpoints.insert_one(endpoint.to_document())
    return endpoint


async def change_events(db: Database, endpoint: Endpoint, events: list[str]) -> None:
    await db.webhook_endpoints.update_one({"_id": endpoint.id}, {"$set": {"events": list(_chosen(events))}})


async def rotate_secret(db: Database, endpoint: Endpoint, now: datetime) -> str:
    secret = new_secret()
    await db.webhook_endpoints.update_one({"_id": endpoint.id}, {"$set": {
        "secret": secret, "previous_secret": endpoint.secret, "previous_until": (now + ROTATION_OVERLAP).timestamp(),
    }})
    return secret


async def set_enabled(db: Database, endpoint: Endpoint, enabled: bool, reason: str | None = None) -> bool:
    """Enable or disable; True when this call changed it (so one caller tells the owners)."""
    result = await db.webhook_endpoints.update_one(
        {"_id": endpoint.id, "enabled": not enabled},
        {"$set": {"enabled": enabled, "disabled_reason": None if enabled else reason}},
    )
    return result.modified_count == 1


async def delete_endpoint(db: Database, endpoint: Endpoint) -> None:
    await db.webhook_endpoints.delete_one({"_id": endpoint.id})
    await db.webhook_deliveries.update_many({"endpoint_id": endpoint.id, "state": "pending"}, {"$set": {"state": "failed", "last_error": "endpoint removed"}})
