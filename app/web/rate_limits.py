"""Rate limits shared by every web process: fixed windows, counted here and in MongoDB.

A window's shared count is one document, incremented atomically, so the processes behind
the load balancer count a visitor together; a TTL index removes old windows. A process does
not write it on every request: it counts in memory (`LocalCounts`) and adds what it counted
to the shared count once it has `batch` requests of a key unshared — a share of the limit
small enough (limit ÷ 2 × RATE_LIMIT_PROCESSES) that all processes together overshoot by at
most half the limit, and 1 for small limits, which are therefore exact. A process refuses
as soon as what it knows (the shared count when it last wrote, and its own since) is over
the limit, and writes first, so the others learn it too. However a visitor reconnects, the
keys (their address, their session) are the same: nothing resets the count but the window.

The step routes count a session's requests in the session itself (`count_in_session`):
they save it on every request, so that count costs nothing and is exact.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from pymongo import ReturnDocument
from quart import has_request_context, request, websocket

from app.db import Database
from app.i18n import gettext
from app.sessions.model import BookingSession
from app.web import services
from app.web.problems import HttpProblem


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: int = 60


class RateLimited(HttpProblem):
    """Too many requests; `retry_after` seconds until the window ends."""

    def __init__(self, limit: Limit, retry_after: int) -> None:
        super().__init__(
            429, "rate_limited", gettext("Too many requests. Please wait %(seconds)s seconds and try again.") % {"seconds": retry_after},
            retry_after=retry_after,
        )
        self.limit = limit
        self.retry_after = retry_after


def limits() -> Mapping[str, Limit]:
    settings = services.current().settings
    return _limits(
        settings.rate_limit_sessions_per_ip, settings.rate_limit_steps_per_session, settings.rate_limit_steps_per_ip,
        settings.rate_limit_confirms_per_session, settings.rate_limit_client_events_per_session,
        settings.rate_limit_client_events_per_ip,
    )


@functools.lru_cache(maxsize=16)
def _limits(
    sessions_per_ip: int, steps_per_session: int, steps_per_ip: int, confirms_per_session: int,
    client_events_per_session: int, client_events_per_ip: int,
) -> Mapping[str, Limit]:
    """Built once per configuration, not on every request (a step asks twice); read-only."""
    return MappingProxyType({
        "sessions_per_ip": Limit("new sessions per IP address", sessions_per_ip),
        "steps_per_session": Limit("step requests per session", steps_per_session),
        "steps_per_ip": Limit("step requests per IP address", steps_per_ip),
        "confirms_per_session": Limit("confirmations per session", confirms_per_session),
        "client_events_per_session": Limit("widget events per session", client_events_per_session),
        "client_events_per_ip": Limit("widget events per IP address", client_events_per_ip),
        # Returning customers: a visitor types their phone and email once or twice; more is
        # someone trying numbers (a new session does not start the count again: the address counts too).
        "returning_per_session": Limit("address look-ups per session", 5, 600),
        "returning_per_ip": Limit("address look-ups per IP address", 20, 600),
        # Photos: 5 a session, each asked for, checked and perhaps removed; more is a script.
        "photos_per_session": Limit("photo requests per session", 40),
        "photos_per_ip": Limit("photo requests per IP address", 200),
        # Sign-in links: a person asks for one now and then; more is someone guessing or flooding an inbox.
        "sign_ins_per_ip": Limit("sign-in requests per IP address", 20, 600),
        "sign_ins_per_email": Limit("sign-in requests per email address", 5, 600),
        "console_actions_per_person": Limit("console actions per person", 120),
    })


def client_ip() -> str:
    """The visitor's address: behind `trusted_proxy_hops` proxies, taken from X-Forwarded-For."""
    hops = services.current().settings.trusted_proxy_hops
    asking = request if has_request_context() else websocket
    forwarded = [part.strip() for part in asking.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops][:64]
    return (asking.remote_addr or "unknown")[:64]


def count_in_session(session: BookingSession, now: datetime) -> None:
    """Count a step request against the per-session limit in the session document itself:
    the engine saves the session once per request anyway, and the count goes with it (a
    compare-and-swap, so it is exact across processes and costs no round trip of its own)."""
    limit = limits()["steps_per_session"]
    window = int(now.timestamp()) // limit.seconds
    if session.requests_window != window:
        session.requests_window, session.requests_in_window = window, 0
    if session.requests_in_window >= limit.count:
        raise RateLimited(limit, max(math.ceil((window + 1) * limit.seconds - now.timestamp()), 1))
    session.requests_in_window += 1


async def check(db: Database, which: str, key: str, now: datetime, cost: int = 1) -> None:
    """Count `cost` (one request, or a batch's events) against a limit; raise RateLimited when it is over."""
    service = services.current()
    limit = limits()[which]
    window = int(now.timestamp()) // limit.seconds
    ends = (window + 1) * limit.seconds
    tally = service.rate_counts.tally(which, key, window)
    tally.unshared += cost
    batch = max(1, limit.count // (2 * service.settings.rate_limit_processes))
    if tally.unshared >= batch or tally.shared + tally.unshared > limit.count:
        counter = await db.rate_limits.find_one_and_update(
            {"_id": f"{which}:{key}:{window}"},
            {"$inc": {"count": tally.unshared}, "$setOnInsert": {"expires_at": datetime.fromtimestamp(ends + limit.seconds, UTC)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert counter is not None  # upserted
        tally.shared, tally.unshared = int(counter["count"]), 0
    if tally.shared + tally.unshared > limit.count:
        raise RateLimited(limit, max(math.ceil(ends - now.timestamp()), 1))
