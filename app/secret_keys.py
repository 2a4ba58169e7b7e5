"""Secret keys: what a company's servers (and its dashboard) use, stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from app.db import Database

PREFIX = "sk_live_"


def hash_secret(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_secret_key(db: Database, organization_id: str, now: datetime, key: str | None = None) -> str:
    """Store a new key for the organization (or the given one, for the demo); returns it."""
    key = key or PREFIX + secrets.token_urlsafe(24)
    digest = hash_secret(key)
    # _id in the document too: the embedded server does not take it from the filter on upsert.
    await db.api_keys.replace_one(
        {"_id": digest}, {"_id": digest, "organization_id": organization_id, "created_at": now}, upsert=True
    )
    return key


async def organization_for_secret(db: Database, key: str) -> str | None:
    """The organization a secret key belongs to, or None."""
    digest = hash_secret(key[:200])
    found = await db.api_keys.find_one({"_id": digest})
    # The lookup is by hash already; compare_digest keeps the last comparison constant-time too.
    if found is None or not hmac.compare_digest(found["_id"], digest):
        return None
    return str(found["organization_id"])
