"""The vendor outbox: bookings and leads stored first, then pushed to the vendor until it answers.

A remote vendor can be slow, down or throttling when a visitor confirms. The booking is
already saved; an outbox entry beside it says what is still to be pushed. Whoever claims
the entry (the confirm request itself, then any web process's drainer) holds a lease, so
one push runs at a time however many processes there are. Each vendor call's result is
saved as it happens (the customer made, its address…), so a retry continues; a retry
after an answer that never came first looks for what the last try may have made.

Times in entries are epoch seconds: numbers compare the same in every MongoDB.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pymongo.errors import DuplicateKeyError

from app.bookings.repository import booking_by_reference
from app.db import Database
from app.metrics import VENDOR_PUSHES
from app.polling import Poller, backoff, lease_due
from app.vendors.base import (
    BookingProgress,
    BookingRequest,
    PhotoFiles,
    SlotUnavailable,
    VendorError,
    VendorRejected,
    VendorStrategy,
    VendorUnavailable,
)

log = logging.getLogger(__name__)

LEASE_SECONDS = 120.0  # longer than a push can take: every call has a time-out
FIRST_RETRY_SECONDS = 5.0
LONGEST_RETRY_SECONDS = 15 * 60.0
GIVE_UP_AFTER_SECONDS = 48 * 3600.0  # then it is the office's to sort out, with the reason

# "photos": a booking's photos of the problem, attached to its job once the vendor made it.
Kind = Literal["booking", "lead", "change", "photos"]
PushState = Literal["confirmed", "pending", "slot_taken", "rejected"]
# Builds the vendor strategy for an organization id (None when it no longer exists).
VendorLookup = Callable[[str, datetime], Awaitable[VendorStrategy | None]]
# Told when a booking's push ended (confirmed or needing a person): its reference.
Settled = Callable[[str, datetime], Awaitable[None]]
# Carries out a claimed change entry (a reschedule or cancel the vendor was too slow for).
ChangeHandler = Callable[[dict[str, Any], VendorStrategy, datetime], Awaitable[None]]


@dataclass(frozen=True)
class PushResult:
    state: PushState
    external_id: str | None = None
    message: str | None = None


def entry_id(kind: Kind, target_id: str) -> str:
    return f"{kind}:{target_id}"


def retry_delay(attempts: int, retry_after: float | None) -> float:
    """Exponential, jittered, capped; never sooner than the vendor asked."""
    return max(backoff(attempts, FIRST_RETRY_SECONDS, LONGEST_RETRY_SECONDS), retry_after or 0.0)


async def enqueue(
    db: Database, kind: Kind, target_id: str, organization_id: str, now: datetime, key: str | None = None,
    payload: dict[str, Any] | None = None, first_try_in: float = 0.0,
) -> None:
    """Add the entry (once: enqueueing again keeps what earlier pushes made). `key` tells
    entries for one target apart (each change to a booking); `payload` is what the
    handler needs beyond the target; `first_try_in` seconds from now it is due."""
    entry = {
        "_id": entry_id(kind, f"{target_id}:{key}" if key else target_id),
        "kind": kind,
        "target_id": target_id,
        "organization_id": organization_id,
        "state": "pending",
        "attempts": 0,
        "due_at": now.timestamp() + first_try_in,
        "created_at": now.timestamp(),
        "lease_until": 0.0,
        "lease_id": None,
        "progress": {},
        "claims": 0,
        "retried": False,
        "last_error": None,
        "payload": payload or {},
    }
    try:
        await db.vendor_outbox.insert_one(entry)
    except DuplicateKeyError:
        await db.vendor_outbox.update_one(
            {"_id": entry["_id"]}, {"$set": {"state": "pending", "due_at": now.timestamp(), "retried": True}}
        )


async def claim(db: Database, now: datetime, outbox_id: str | None = None) -> dict[str, Any] | None:
    """Take the lease on one entry that is due (or on `outbox_id`); None when there is none free."""
    # `claims` counts every lease taken: a second one means an earlier push may have got
    # through without being recorded (a crash, a database outage, a cut-short push).
    return await lease_due(db.vendor_outbox, now, LEASE_SECONDS, outbox_id, also={"$inc": {"claims": 1}})


async def _push_to_vendor(
    db: Database, entry: dict[str, Any], vendor: VendorStrategy, progress: BookingProgress, now: datetime, photos: PhotoFiles | None,
) -> PushResult:
    if entry["kind"] == "lead":
        lead = await db.leads.find_one({"_id": entry["target_id"]})
        if lead is None:
            return PushResult("rejected", message="the lead no longer exists")
        return PushResult("confirmed", await vendor.create_lead(lead))
    booking = await booking_by_reference(db, entry["target_id"])
    if booking is None:
        return PushResult("rejected", message="the booking no longer exists")
    links = tuple(photos.link(p) for p in booking.photos) if photos is not None else ()
    made = await vendor.create_booking(BookingRequest(booking, progress, links))
    if booking.photos and photos is not None and vendor.takes_photo_files:  # the files follow, in the background
        await enqueue(db, "photos", booking.reference, booking.organization_id, now)
    return PushResult("confirmed", made.external_id)


async def push(
    db: Database, entry: dict[str, Any], vendor: VendorStrategy, now: datetime, visitor_waiting: bool = False,
    photos: PhotoFiles | None = None,
) -> PushResult:
    """Push a claimed entry once and record what happened; never raises for a vendor's reasons.

    A window taken at the vendor meanwhile leaves the booking `slot_taken` for the visitor
    who is `visitor_waiting` to choose again; in the background it needs a person."""
    lease = {"_id": entry["_id"], "lease_id": entry["lease_id"]}

    async def save_progress(done: dict[str, Any]) -> None:
        await db.vendor_outbox.update_one(lease, {"$set": {"progress": done}})

    retried = bool(entry.get("retried")) or entry.get("claims", 1) > 1
    progress = BookingProgress(entry.get("progress"), save_progress, retried=retried)
    attempts = entry.get("attempts", 0) + 1
    try:
        result = await _push_to_vendor(db, entry, vendor, progress, now, photos)
    except SlotUnavailable as exc:
        taken = f"the window was taken at the vendor: {exc}" if str(exc) else "the window was taken at the vendor"
        result = PushResult("slot_taken" if visitor_waiting else "rejected", message=taken)
    except VendorUnavailable as exc:
        if await retry_later(db, entry, now, exc):
            VENDOR_PUSHES.labels(vendor.vendor_type, "pending").inc()
            return PushResult("pending", message=exc.message)
        result = PushResult("rejected", message=f"gave up after {attempts} tries over 48 hours: {exc.message}")
    except VendorRejected as exc:
        result = PushResult("rejected", message=exc.message)
    except (VendorError, KeyError, ValueError, TypeError) as exc:
        # A bug or an answer we don't understand: keep the entry for a person, say why.
        # (A database error propagates: the lease lapses and a later claim tries again.)
        log.exception("vendor push failed", extra={"outbox": entry["_id"]})
        result = PushResult("rejected", message=f"{type(exc).__name__}: {exc}"[:300])
    VENDOR_PUSHES.labels(vendor.vendor_type, result.state).inc()
    await _finish(db, entry, lease, attempts, result)
    return result


async def attach_photos(db: Database, entry: dict[str, Any], vendor: VendorStrategy, now: datetime, photos: PhotoFiles | None) -> None:
    """Attach a booking's photos to its job (a claimed "photos" entry); retried like a push,
    each photo once. It never changes the booking's status: the job is made already."""
    lease = {"_id": entry["_id"], "lease_id": entry["lease_id"]}

    async def save_progress(done: dict[str, Any]) -> None:
        await db.vendor_outbox.update_one(lease, {"$set": {"progress": done}})

    progress = BookingProgress(entry.get("progress"), save_progress, retried=entry.get("claims", 1) > 1)
    attempts = entry.get("attempts", 0) + 1
    booking = await booking_by_reference(db, entry["target_id"])
    problem = None
    try:
        if booking is None:
            problem = "the booking no longer exists"
        elif photos is None:
            problem = "no uploads bucket here (UPLOADS_BUCKET): the photos cannot be read"
        else:
            await vendor.attach_photos(booking, photos, progress)
    except VendorUnavailable as exc:
        if await retry_later(db, entry, now, exc):
            return
        problem = f"gave up after {attempts} tries over 48 hours: {exc.message}"
    except (VendorError, OSError, RuntimeError) as exc:  # S3 (StorageUnavailable) included
        problem = f"{type(exc).__name__}: {exc}"[:300]
    VENDOR_PUSHES.labels(vendor.vendor_type, "rejected" if problem else "confirmed").inc()
    await db.vendor_outbox.update_one(lease, {"$set": {
        "state": "failed" if problem else "done", "attempts": attempts, "lease_until": 0.0, "lease_id": None, "last_error": problem,
    }})
    if problem:
        log.error("photos not attached at the vendor", extra={"outbox": entry["_id"], "problem": problem})


async def retry_later(db: Database, entry: dict[str, Any], now: datetime, exc: VendorUnavailable, give_up_at: float | None = None) -> bool:
    """Give a claimed entry back to be tried again after a backoff; False (and nothing done)
    once it has waited 48 hours, or would be tried again after `give_up_at`."""
    attempts = entry.get("attempts", 0) + 1
    delay = retry_delay(attempts, exc.retry_after)
    waited = now.timestamp() - entry.get("created_at", now.timestamp())
    if waited >= GIVE_UP_AFTER_SECONDS or (give_up_at is not None and now.timestamp() + delay >= give_up_at):
        return False
    await db.vendor_outbox.update_one({"_id": entry["_id"], "lease_id": entry["lease_id"]}, {"$set": {
        "attempts": attempts, "due_at": now.timestamp() + delay, "lease_until": 0.0, "lease_id": None,
        "last_error": exc.message, "retried": True,
    }})
    log.warning("vendor push postponed", extra={"outbox": entry["_id"], "vendor": exc.vendor, "problem": exc.message, "retry_in_s": round(delay, 1)})
    return True


async def close_entry(db: Database, entry: dict[str, Any], done: bool, message: str | None) -> None:
    """A claimed entry is finished: done, or failed with `message` for a person to read."""
    await db.vendor_outbox.update_one({"_id": entry["_id"], "lease_id": entry["lease_id"]}, {"$set": {
        "state": "done" if done else "failed", "attempts": entry.get("attempts", 0) + 1, "lease_until": 0.0,
        "lease_id": None, "last_error": message,
    }})


async def postpone(db: Database, entry: dict[str, Any], now: datetime, reason: str) -> None:
    """Give a claimed entry back for a later push (the one in hand was cut short)."""
    await db.vendor_outbox.update_one(
        {"_id": entry["_id"], "lease_id": entry["lease_id"]},
        {"$set": {
            "due_at": now.timestamp() + retry_delay(1, None), "lease_until": 0.0, "lease_id": None,
            "last_error": reason, "retried": True,  # the cut-short try may have made something
        }},
    )


async def _finish(db: Database, entry: dict[str, Any], lease: dict[str, Any], attempts: int, result: PushResult) -> None:
    await db.vendor_outbox.update_one(lease, {"$set": {
        "state": "done" if result.state == "confirmed" else "failed", "attempts": attempts, "lease_until": 0.0,
        "lease_id": None, "last_error": result.message,
    }})
    collection = db.leads if entry["kind"] == "lead" else db.bookings
    status = {"confirmed": "confirmed", "slot_taken": "slot_taken", "rejected": "needs_attention"}[result.state]
    change: dict[str, Any] = {"vendor.external_id": result.external_id, "vendor.error": result.message}
    if entry["kind"] == "booking":
        change["status"] = status
    else:
        change["vendor.status"] = status
    await collection.update_one({"_id": entry["target_id"]}, {"$set": change})
    if result.state == "confirmed":
        log.info("vendor push done", extra={"outbox": entry["_id"], "external_id": result.external_id})
    else:
        log.error("vendor push needs a person", extra={"outbox": entry["_id"], "state": result.state, "problem": result.message})


class OutboxDrainer(Poller):
    """Pushes due entries in the background of every web process; leases keep it to one each."""

    name = "vendor outbox"

    def __init__(
        self,
        db: Database,
        vendor_lookup: VendorLookup,
        clock: Callable[[], datetime],
        interval: float = 2.0,
        on_settled: Settled | None = None,
        on_change: ChangeHandler | None = None,
        photos: Callable[[datetime], PhotoFiles] | None = None,
    ) -> None:
        super().__init__(clock, interval)
        self._db = db
        self._photos = photos
        self._on_settled = on_settled
        self._on_change = on_change
        self._vendor_lookup = vendor_lookup

    async def claim(self, now: datetime) -> dict[str, Any] | None:
        return await claim(self._db, now)

    async def handle(self, entry: dict[str, Any], now: datetime) -> None:
        """Push the entry to its organization's vendor; the visitor hears how a booking ended."""
        vendor = await self._vendor_lookup(entry["organization_id"], now)
        if vendor is None:
            await _finish(self._db, entry, {"_id": entry["_id"], "lease_id": entry["lease_id"]}, entry.get("attempts", 0),
                          PushResult("rejected", message="the organization no longer exists"))
            return
        if entry["kind"] == "change":
            if self._on_change is None:
                await postpone(self._db, entry, now, "no one here carries out changes")
            else:
                await self._on_change(entry, vendor, now)
            return
        photos = self._photos(now) if self._photos is not None else None
        if entry["kind"] == "photos":
            await attach_photos(self._db, entry, vendor, now, photos)
            return
        result = await push(self._db, entry, vendor, now, photos=photos)
        if entry["kind"] == "booking" and result.state != "pending" and self._on_settled is not None:
            await self._on_settled(entry["target_id"], now)
