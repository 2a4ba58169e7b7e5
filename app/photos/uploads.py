"""A session's photos: asking to upload one, checking what arrived, removing one, and the
booking keeping them.

Each photo is a document in `photos` (`_id` its id, the session's id, a slot 0–4,
`status` pending → checking → ready). The unique (session, slot) index is the limit: two
uploads started at once cannot take a sixth slot. Every lookup is by id *and* session, so a
photo id from another session is simply not found. A photo is checked once: the claim from
`pending` to `checking` is a single conditional update, so a replayed upload (the same
presigned form posted again) or a second "check" changes nothing that was kept. A check
that fails deletes what it wrote and the record: nothing is half-stored.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.db import Database
from app.domain.photo import Photo
from app.i18n import N_
from app.photos.bucket import UNKEPT_COPY_DAYS
from app.photos.images import CONTENT_TYPES, NOT_A_PHOTO, NotAPhoto, make_copies
from app.photos.links import PhotoLinks
from app.photos.storage import PhotoStore, StorageUnavailable, photo_keys, upload_key

log = logging.getLogger(__name__)

MAX_PHOTOS = 5
MAX_UPLOAD_BYTES = 15 * 1024 * 1024

TOO_LARGE = N_("This photo is over 15 MB. Send a smaller copy (your phone's camera makes photos well under that).")
TOO_MANY = N_("You can add up to %(count)s photos.")
NOT_FOUND = N_("We can't find that photo. Add it again.")
NOT_RECEIVED = N_("We didn't receive that photo. Add it again.")
ALREADY_ADDED = N_("That photo is already added.")
STORAGE_PROBLEM = N_("We can't take photos right now. Please try again in a minute, or continue without them.")


class PhotoRefused(Exception):
    """The visitor's request is refused: an HTTP status, a code for programs, a message
    (untranslated: the web floor says it in the visitor's language) and its values."""

    def __init__(self, status: int, code: str, message: str, **values: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.values = values


@dataclass(frozen=True)
class UploadForm:
    photo_id: str
    url: str
    fields: dict[str, str]
    max_bytes: int


def _photo(doc: dict[str, Any]) -> Photo:
    return Photo.from_document(doc | {"id": doc["_id"]})


@dataclass(frozen=True)
class BookingPhotoFiles:
    """A booking's photos as a vendor takes them (app/vendors/base.py's PhotoFiles): signed
    links made at `now`, and the resized copies' bytes."""

    store: PhotoStore
    links: PhotoLinks
    base_url: str
    now: datetime

    def link(self, photo: Photo) -> str:
        return f"{self.base_url}/photos/{self.links.token(photo.key, self.now)}"

    async def read(self, photo: Photo) -> bytes:
        return await self.store.read_all(photo.key)


class PhotoUploads:
    def __init__(self, db: Database, store: PhotoStore, links: PhotoLinks, base_url: str) -> None:
        self.db = db
        self.store = store
        self.links = links
        self.base_url = base_url

    def files(self, now: datetime) -> BookingPhotoFiles:
        return BookingPhotoFiles(self.store, self.links, self.base_url, now)

    async def begin(self, organization_id: str, session_id: str, content_type: str, size: int, now: datetime, limit: int = MAX_PHOTOS) -> UploadForm:
        """A presigned form for one more photo of this session, or PhotoRefused."""
        if content_type not in CONTENT_TYPES:
            raise PhotoRefused(415, "not_a_photo", NOT_A_PHOTO)
        if size > MAX_UPLOAD_BYTES:
            raise PhotoRefused(413, "too_large", TOO_LARGE)
        if size < 1:
            raise PhotoRefused(400, "empty", NOT_A_PHOTO)
        photo_id = secrets.token_hex(8)
        for slot in range(min(limit, MAX_PHOTOS)):
            try:
                await self.db.photos.insert_one({
                    "_id": photo_id, "session_id": session_id, "organization_id": organization_id, "slot": slot,
                    "status": "pending", "content_type": content_type, "created_at": now,
                    # Records of photos no booking kept go when their copies do (the bucket's rule).
                    "expires_at": now + timedelta(days=UNKEPT_COPY_DAYS),
                })
                break
            except DuplicateKeyError:
                continue
        else:
            raise PhotoRefused(409, "too_many", TOO_MANY, count=limit)
        try:
            form = await self.store.upload_form(upload_key(organization_id, session_id, photo_id), content_type, MAX_UPLOAD_BYTES)
        except StorageUnavailable:
            await self.db.photos.delete_one({"_id": photo_id})
            raise
        return UploadForm(photo_id, str(form["url"]), {str(k): str(v) for k, v in form["fields"].items()}, MAX_UPLOAD_BYTES)

    async def check(self, session_id: str, photo_id: str) -> Photo:
        """The uploaded object checked, re-encoded and kept as this session's photo."""
        claimed = await self.db.photos.find_one_and_update(
            {"_id": photo_id, "session_id": session_id, "status": "pending"}, {"$set": {"status": "checking"}},
        )
        if claimed is None:
            if await self.db.photos.count_documents({"_id": photo_id, "session_id": session_id}):
                raise PhotoRefused(409, "already_added", ALREADY_ADDED)
            raise PhotoRefused(404, "no_such_photo", NOT_FOUND)
        organization_id = str(claimed["organization_id"])
        uploaded = upload_key(organization_id, session_id, photo_id)
        key, thumb_key = photo_keys(organization_id, session_id, photo_id)
        written: list[str] = []
        try:
            size = await self.store.size_of(uploaded)
            if size is None:
                raise PhotoRefused(409, "not_received", NOT_RECEIVED)
            if size > MAX_UPLOAD_BYTES:  # S3 enforces the policy's range; a store that does not is caught here
                raise PhotoRefused(413, "too_large", TOO_LARGE)
            data = await self.store.read(uploaded, MAX_UPLOAD_BYTES)
            try:
                copies = await asyncio.to_thread(make_copies, data)
            except NotAPhoto as exc:
                raise PhotoRefused(422, "not_a_photo", exc.message) from None
            written.append(key)
            await self.store.put(key, copies.photo)
            written.append(thumb_key)
            await self.store.put(thumb_key, copies.thumb)
        except Exception:
            await self._forget(photo_id, [uploaded, *written])
            raise
        await self._delete_quietly([uploaded])
        fields = {"status": "ready", "key": key, "thumb_key": thumb_key, "width": copies.width, "height": copies.height,
                  "bytes": len(copies.photo)}
        await self.db.photos.update_one({"_id": photo_id}, {"$set": fields})
        return _photo(claimed | fields)

    async def remove(self, session_id: str, photo_id: str) -> None:
        doc = await self.db.photos.find_one_and_delete(
            {"_id": photo_id, "session_id": session_id, "status": {"$in": ["pending", "ready"]}},
        )
        if doc is None:
            raise PhotoRefused(404, "no_such_photo", NOT_FOUND)
        keys = [upload_key(str(doc["organization_id"]), session_id, photo_id)]
        if doc.get("key"):
            keys += [str(doc["key"]), str(doc["thumb_key"])]
        await self._delete_quietly(keys)  # what S3 keeps meanwhile is unkept: the lifecycle rule removes it

    async def of_session(self, session_id: str) -> list[Photo]:
        """The session's checked photos, in the order they were added."""
        cursor = self.db.photos.find({"session_id": session_id, "status": "ready"}).sort("slot", 1)
        return [_photo(doc) async for doc in cursor]

    async def keep(self, photos: Iterable[Photo], reference: str) -> bool:
        """The booking `reference` has these photos: their copies stay (tagged kept). False
        when S3 did not answer for one (logged with the reference; the copies stay 30 days)."""
        photos = list(photos)
        if not photos:
            return True
        await self.db.photos.update_many(
            {"_id": {"$in": [p.id for p in photos]}}, {"$set": {"booking_reference": reference}, "$unset": {"expires_at": ""}},
        )
        results = await asyncio.gather(
            *(self.store.keep(k) for p in photos for k in (p.key, p.thumb_key)), return_exceptions=True,
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            log.error("photos of booking %s could not be marked kept: %s", reference, failures[0])
        return not failures

    async def _forget(self, photo_id: str, keys: list[str]) -> None:
        await self.db.photos.delete_one({"_id": photo_id})
        await self._delete_quietly(keys)

    async def _delete_quietly(self, keys: list[str]) -> None:
        try:
            await self.store.delete(*keys)
        except StorageUnavailable as exc:
            log.warning("photo objects left for the lifecycle rule: %s", exc)
