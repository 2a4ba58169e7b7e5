"""The MongoDB client's lifecycle, the collections and their indexes.

Writes follow two rules so they behave the same on MongoDB and on the embedded
MongoDB-wire server: documents are written whole (insert or versioned replace), and
counters change through conditional single-document updates.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, PyMongoError

from app.metrics import DB_COMMANDS

logger = logging.getLogger(__name__)
# What the collections hold: BSON documents as dicts.
Document = dict[str, Any]


# What the running task does for the database's round-trip count: a request unless a
# background job says otherwise (`DB_WORK.set("events")` at the start of its task).
DB_WORK: ContextVar[str] = ContextVar("db_work", default="request")


class RoundTrips(monitoring.CommandListener):
    """Counts each command sent (a round trip to the database) in /metrics, by its name and
    by the work that sent it (a request, or a background job)."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        DB_COMMANDS.labels(event.command_name, DB_WORK.get()).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


ROUND_TRIPS = RoundTrips()
DUPLICATE_KEY = 11000


async def insert_new(collection: AsyncCollection[Document], documents: Sequence[Document]) -> list[bool]:
    """Insert in one round trip each document whose `_id` is not stored yet (unordered: one
    stored already does not stop the rest); which of them were new. Other errors raise."""
    if not documents:
        return []
    try:
        await collection.insert_many(list(documents), ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        stored = {e["index"] for e in errors}
        return [i not in stored for i in range(len(documents))]
    return [True] * len(documents)


@dataclass
class Database:
    """One client and the collections the application uses (each made once: a step asks for
    the sessions' twice, and PyMongo builds a collection object anew on every `db[name]`)."""

    client: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    indexes_ready: bool = False

    @classmethod
    def connect(cls, uri: str, name: str) -> Database:
        client: AsyncMongoClient[Document] = AsyncMongoClient(
            uri, tz_aware=True, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000, event_listeners=[ROUND_TRIPS]
        )
        return cls(client=client, db=client[name])

    @cached_property
    def organizations(self) -> AsyncCollection[Document]:
        return self.db["organizations"]

    @cached_property
    def flows(self) -> AsyncCollection[Document]:
        return self.db["booking_flows"]

    @cached_property
    def sessions(self) -> AsyncCollection[Document]:
        return self.db["booking_sessions"]

    @cached_property
    def bookings(self) -> AsyncCollection[Document]:
        return self.db["bookings"]

    @cached_property
    def calendar_slots(self) -> AsyncCollection[Document]:
        """The built-in vendor's calendar: one document per arrival window and day."""
        return self.db["calendar_slots"]

    @cached_property
    def leads(self) -> AsyncCollection[Document]:
        return self.db["leads"]

    @cached_property
    def events(self) -> AsyncCollection[Document]:
        """Session events, one document per (session, source, sequence)."""
        return self.db["session_events"]

    @cached_property
    def dead_events(self) -> AsyncCollection[Document]:
        """Events the database refused to store, set aside (as JSON) so the rest go in."""
        return self.db["session_events_dead"]

    @cached_property
    def event_counters(self) -> AsyncCollection[Document]:
        """Per session, the last sequence number the server gave its own events."""
        return self.db["session_event_counters"]

    @cached_property
    def session_summaries(self) -> AsyncCollection[Document]:
        return self.db["session_summaries"]

    @cached_property
    def rate_limits(self) -> AsyncCollection[Document]:
        """One counter per limit, key and time window (app/rate_limits.py)."""
        return self.db["rate_limits"]

    @cached_property
    def api_keys(self) -> AsyncCollection[Document]:
        """Secret keys (server to server), stored as hashes."""
        return self.db["api_keys"]

    @cached_property
    def vendor_tokens(self) -> AsyncCollection[Document]:
        """OAuth tokens a vendor rotates (Jobber's refresh token), shared by every process."""
        return self.db["vendor_tokens"]

    @cached_property
    def vendor_outbox(self) -> AsyncCollection[Document]:
        """Bookings and leads still to be pushed to a remote vendor (app/bookings/outbox.py)."""
        return self.db["vendor_outbox"]

    @cached_property
    def mail_outbox(self) -> AsyncCollection[Document]:
        """Mail still to send, and what was sent (app/mail/outbox.py)."""
        return self.db["mail_outbox"]

    @cached_property
    def webhook_endpoints(self) -> AsyncCollection[Document]:
        """Where each company's webhooks go, which events, and their signing secrets."""
        return self.db["webhook_endpoints"]

    @cached_property
    def webhook_deliveries(self) -> AsyncCollection[Document]:
        """One signed message to one endpoint, until it is delivered or given up (an outbox)."""
        return self.db["webhook_deliveries"]

    @cached_property
    def webhook_attempts(self) -> AsyncCollection[Document]:
        """Each try of a delivery: when, the answer, how long it took (the console's log)."""
        return self.db["webhook_attempts"]

    @cached_property
    def jobs(self) -> AsyncCollection[Document]:
        """Where background jobs keep their place (the abandoned-lead watermark)."""
        return self.db["jobs"]

    @cached_property
    def console_sign_ins(self) -> AsyncCollection[Document]:
        """Sign-in links emailed to a company's people, by the hash of their secret."""
        return self.db["console_sign_ins"]

    @cached_property
    def console_sessions(self) -> AsyncCollection[Document]:
        """People signed in to their company's console, by the hash of the cookie's id."""
        return self.db["console_sessions"]

    @cached_property
    def photos(self) -> AsyncCollection[Document]:
        """Photos of the problem a session uploaded (app/photos/): one per slot, 5 slots a session."""
        return self.db["photos"]

    @cached_property
    def returning_lookups(self) -> AsyncCollection[Document]:
        """What a session's last returning-customer look-up found (app/steps/returning.py), by session id."""
        return self.db["returning_lookups"]

    async def create_indexes(self) -> None:
        await self.organizations.create_index("publishable_key", unique=True)
        await self.flows.create_index(
            [("organization_id", ASCENDING), ("flow_id", ASCENDING)], unique=True
        )
        await self.sessions.create_index("token_hash", unique=True)
        # Abandoned sessions disappear once they expire; every save pushes expiry forward.
        await self.sessions.create_index("expires_at", expireAfterSeconds=0)
        await self.sessions.create_index(
            [("organization_id", ASCENDING), ("created_at", DESCENDING)]
        )
        # One booking per session: a double click or a retried confirm cannot make two.
        await self.bookings.create_index("session_id", unique=True)
        await self.bookings.create_index([("organization_id", ASCENDING), ("date", ASCENDING)])
        await self.calendar_slots.create_index(
            [("organization_id", ASCENDING), ("date", ASCENDING)]
        )
        await self.leads.create_index([("organization_id", ASCENDING), ("created_at", DESCENDING)])
        await self.events.create_index([("session_id", ASCENDING), ("at", ASCENDING)])
        await self.session_summaries.create_index(
            [("organization_id", ASCENDING), ("flow_id", ASCENDING), ("started_at", ASCENDING)]
        )
        await self.api_keys.create_index("organization_id")
        await self.rate_limits.create_index("expires_at", expireAfterSeconds=0)
        await self.vendor_outbox.create_index([("state", ASCENDING), ("due_at", ASCENDING)])
        await self.mail_outbox.create_index([("state", ASCENDING), ("due_at", ASCENDING)])
        await self.organizations.create_index("people.email")
        # Abandoned bookings are found in the order their sessions went quiet.
        # (Not with _id in a compound key: the embedded nx-27017 server then refuses every insert.)
        await self.sessions.create_index("updated_at")
        await self.leads.create_index([("organization_id", ASCENDING), ("status", ASCENDING), ("created_at", DESCENDING)])
        await self.webhook_endpoints.create_index("organization_id")
        await self.webhook_deliveries.create_index([("state", ASCENDING), ("due_at", ASCENDING)])
        await self.webhook_deliveries.create_index([("endpoint_id", ASCENDING), ("created_at", DESCENDING)])
        await self.webhook_attempts.create_index([("delivery_id", ASCENDING), ("at", ASCENDING)])
        # Links and sessions go a day after they end (until then, a reused link says so).
        await self.console_sign_ins.create_index("expires_at", expireAfterSeconds=86400)
        await self.console_sessions.create_index("expires_at", expireAfterSeconds=86400)
        # The console's inbox: an organization's bookings newest first, by status.
        await self.bookings.create_index([("organization_id", ASCENDING), ("created_at", DESCENDING)])
        await self.bookings.create_index([("organization_id", ASCENDING), ("status", ASCENDING), ("created_at", DESCENDING)])
        # A returning customer's earlier bookings, by the phone or email they type again.
        await self.bookings.create_index([("organization_id", ASCENDING), ("customer.phone", ASCENDING)])
        await self.bookings.create_index([("organization_id", ASCENDING), ("customer.email", ASCENDING)])
        await self.returning_lookups.create_index("expires_at", expireAfterSeconds=0)
        # A session's photos take numbered slots: two uploads at once cannot take a sixth.
        await self.photos.create_index([("session_id", ASCENDING), ("slot", ASCENDING)], unique=True)
        await self.photos.create_index("expires_at", expireAfterSeconds=0)

    async def ensure_indexes(self) -> bool:
        """Create the indexes unless done already; False (logged) when the database is down."""
        if not self.indexes_ready:
            try:
                await self.create_indexes()
            except PyMongoError as exc:
                logger.warning("database unreachable, indexes not created yet: %s", exc)
                return False
            self.indexes_ready = True
        return True

    async def is_reachable(self) -> bool:
        try:
            await self.client.admin.command("ping")
        except PyMongoError:
            return False
        return await self.ensure_indexes()

    async def close(self) -> None:
        await self.client.close()
