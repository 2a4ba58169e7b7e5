"""nx-27017 (the embedded MongoDB-wire server) with MongoDB's rhythm for TTL indexes.

neosqlite, under nx-27017, deletes the expired documents of a collection with a TTL index
before *every* find, count, distinct and aggregate on it: two statements that read every
document (its date comparison cannot use the index). Loading one session then read all of
them — 6 ms at 2,000 sessions, growing with each — which MongoDB never does: its TTL
monitor deletes expired documents in the background once every 60 seconds. Here they go
the same way: at most once a minute per collection, on the first read after it, so the
database cost the benchmarks and tests see is the application's, not the embedded server's.
Nothing relies on a document being gone sooner: the application checks expiry itself
(a session past `expires_at` is not opened), as it must on MongoDB.

Run by `app/embedded_db.py` as a script, with nx-27017's own arguments (run as a file, not
as a module of the package, the server does not load the application).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from neosqlite.collection import Collection
from nx_27017.nx_27017 import main

TTL_MONITOR_SECONDS = 60.0  # MongoDB's TTLMonitor sleeps 60 s between passes
_purge_on_every_read = Collection._auto_purge_ttl
clock = time.monotonic


def purge_once_a_minute(collection: Any) -> None:
    """What neosqlite does before each read of `collection`: now at most once a minute."""
    now = clock()
    last = collection.__dict__.get("_ttl_purged_at")
    if last is not None and now - last < TTL_MONITOR_SECONDS:
        return
    collection.__dict__["_ttl_purged_at"] = now
    _purge_on_every_read(collection)


def install() -> None:
    Collection._auto_purge_ttl = purge_once_a_minute


if __name__ == "__main__":
    install()
    sys.argv[0] = "nx-27017"
    sys.exit(main())
