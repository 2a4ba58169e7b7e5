"""Rate limits without a database write per request: each web process counts in memory and
adds its count to the shared one in batches (a share of the limit), so one process is exact,
all of them together overshoot by at most half the limit, and nobody gets round it by
spreading requests over processes or reconnecting."""

from __future__ import annotations

import pytest
from quart import Quart

from app import create_app
from app.db import Database
from app.settings import Settings
from tests.test_rate_limits import from_ip

LIMIT = 40
PROCESSES = 2  # so each counts LIMIT ÷ 4 = 10 before telling the others


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_sessions_per_ip": LIMIT, "rate_limit_processes": PROCESSES, "trusted_proxy_hops": 1}


async def shared_count(db: Database) -> int:
    doc = await db.rate_limits.find_one({"_id": {"$regex": "^sessions_per_ip:203.0.113.20:"}})
    return int(doc["count"]) if doc else 0


async def test_one_process_is_exact_and_writes_once_a_batch(client, db: Database) -> None:  # type: ignore[no-untyped-def]
    statuses = [(await from_ip(client, "203.0.113.20").start()).status for _ in range(25)]
    assert statuses == [200] * 25
    assert await shared_count(db) == 20  # two batches of 10 told; the last 5 are still this process's own
    statuses += [(await from_ip(client, "203.0.113.20").start()).status for _ in range(16)]
    assert statuses[:LIMIT] == [200] * LIMIT and statuses[LIMIT] == 429
    assert await shared_count(db) == LIMIT + 1  # the refusal is told at once: the others refuse too


async def test_processes_together_overshoot_by_at_most_half_the_limit(app: Quart, client, db: Database, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    other = create_app(settings)
    async with other.test_app():
        clients = [client, other.test_client()]
        statuses = [(await from_ip(clients[i % 2], "203.0.113.20").start()).status for i in range(90)]
    admitted = statuses.count(200)
    assert LIMIT <= admitted <= LIMIT + LIMIT // 2, admitted
    assert statuses[-10:] == [429] * 10  # once both know, both refuse
