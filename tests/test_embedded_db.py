"""The embedded database server deletes expired documents as MongoDB does: once a minute,
not before every read (app/embedded_db_server.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import neosqlite
import pytest
from neosqlite.collection import Collection

from app import embedded_db_server


def test_expired_documents_go_once_a_minute_not_on_every_read(monkeypatch: pytest.MonkeyPatch) -> None:
    seconds = [1000.0]
    monkeypatch.setattr(embedded_db_server, "clock", lambda: seconds[0])
    monkeypatch.setattr(Collection, "_auto_purge_ttl", embedded_db_server.purge_once_a_minute)
    purges = []
    purge = Collection.purge_expired
    monkeypatch.setattr(Collection, "purge_expired", lambda self, now=None: purges.append(self.name) or purge(self, now))

    sessions = neosqlite.Connection(":memory:")["sessions"]
    sessions.create_index("expires_at", expireAfterSeconds=0)
    # neosqlite deletes by the clock it reads (in this process, the instant time-machine holds).
    now = datetime.now(UTC)  # clock-ok: the instant time-machine holds, which neosqlite reads too
    sessions.insert_many([
        {"_id": "gone", "expires_at": now - timedelta(minutes=5)},
        {"_id": "live", "expires_at": now + timedelta(hours=1)},
    ])

    assert {d["_id"] for d in sessions.find({})} == {"live"}  # the first read deletes what expired
    sessions.insert_one({"_id": "expired-since", "expires_at": now - timedelta(minutes=1)})
    for _ in range(50):
        sessions.find_one({"_id": "live"})
    assert sessions.count_documents({"_id": "expired-since"}) == 1  # not on every read: kept until the next pass
    assert purges == ["sessions"]

    seconds[0] += embedded_db_server.TTL_MONITOR_SECONDS
    assert {d["_id"] for d in sessions.find({})} == {"live"}  # a minute on, the next read deletes it
    assert purges == ["sessions", "sessions"]
