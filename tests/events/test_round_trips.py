"""What a step costs the database (issue #20): the request loads the session and saves it —
its change, its events' numbers and its count against the per-session limit in that one
write — and the events are stored afterwards in bulk, a batch in a few round trips however
many sessions it holds. Round trips are counted as PyMongo sends them (/metrics' counter)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from quart import Quart

from app.db import Database
from app.events import store
from app.events.models import SessionEvent
from app.events.store import store_events
from app.events.summary import summarize
from app.flows.cache import ConfigCache
from app.metrics import DB_COMMANDS
from app.web.services import services_of
from tests.visitor import Visitor, quart_sender


def sent(work: str = "request") -> Counter[str]:
    """Commands sent to the database so far, by name: by requests and tests ("request"), or
    by the in-process queue storing events ("events")."""
    counts: Counter[str] = Counter()
    for metric in DB_COMMANDS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels["work"] == work:
                counts[sample.labels["command"]] += int(sample.value)
    return counts


async def commands_of(step: Any) -> Counter[str]:
    before = sent()
    await step
    return sent() - before


@pytest.fixture
def held(app: Quart, monkeypatch: pytest.MonkeyPatch) -> list[SessionEvent]:
    """The events requests publish, held instead of stored (so only the request's own round trips count)."""
    published: list[SessionEvent] = []

    async def publish(events: list[SessionEvent]) -> bool:
        published.extend(events)
        return True

    monkeypatch.setattr(services_of(app).events, "publish", publish)
    return published


async def test_a_step_is_one_load_and_one_save(client, held: list[SessionEvent]) -> None:  # type: ignore[no-untyped-def]
    visitor = Visitor(quart_sender(client))
    await visitor.start()
    await visitor.submit("ZipCode", zip_code="1")  # the organization and flow are cached from here
    counted = len(held)
    assert await commands_of(visitor.submit("ZipCode", zip_code="1")) == {"find": 1, "update": 1}
    assert [e.type for e in held[counted:]] == ["step_submitted", "validation_error"]
    assert await commands_of(visitor.submit("ZipCode", zip_code="10115")) == {"find": 1, "update": 1}  # out of area
    assert await commands_of(visitor.current()) == {"find": 1, "update": 1}
    assert [e.seq for e in held] == list(range(1, len(held) + 1))  # numbered by the session, without gaps


async def test_a_step_hands_nothing_to_a_worker_thread(client, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Quart runs synchronous hooks and template context processors in a thread pool: a
    step's fragment would pay two thread hops for Flask's and Quart-Auth's processors."""
    import quart.app

    handed: list[str] = []
    run_sync = quart.app.run_sync

    def spy(function):  # type: ignore[no-untyped-def]
        handed.append(getattr(function, "__qualname__", repr(function)))
        return run_sync(function)

    monkeypatch.setattr(quart.app, "run_sync", spy)
    visitor = Visitor(quart_sender(client))
    await visitor.start()
    await visitor.submit("ZipCode", zip_code="1")
    await visitor.current()
    assert handed == []


async def test_the_calendar_is_one_load_one_month_and_one_save(client, held: list[SessionEvent], today: date) -> None:  # type: ignore[no-untyped-def]
    visitor = Visitor(quart_sender(client))
    page = await visitor.walk_to("Timeslot", today)
    day = page.open_days()[0]
    looked = await commands_of(visitor.view("Timeslot", date=day))
    assert looked == {"find": 1, "update": 1}  # the month the step opened on is the process's for a few seconds
    other = [d for d in page.open_days() if d != day][0]
    assert await commands_of(visitor.view("Timeslot", date=other)) == {"find": 1, "update": 1}
    assert held[-1].type == "timeslot_viewed" and held[-1].data["date"] == other
    assert [e.seq for e in held] == list(range(1, len(held) + 1))


async def test_a_new_session_is_one_insert(client, held: list[SessionEvent]) -> None:  # type: ignore[no-untyped-def]
    await Visitor(quart_sender(client)).start()
    used = await commands_of(Visitor(quart_sender(client)).start())
    assert used["insert"] == 1 and used["update"] == 0 and used["findAndModify"] <= 1  # the sessions-per-address count
    assert [e.type for e in held[-2:]] == ["session_started", "step_shown"] and [e.seq for e in held[-2:]] == [1, 2]


async def test_a_session_saved_before_sessions_counted_goes_on_from_its_counter(app: Quart, client, db: Database) -> None:  # type: ignore[no-untyped-def]
    visitor = Visitor(quart_sender(client))
    await visitor.start()
    session = await db.sessions.find_one({})
    # As the previous release left it: no count on the session, three events numbered by the counter.
    await db.sessions.replace_one({"_id": session["_id"]}, {k: v for k, v in session.items() if k != "server_events"})
    await db.event_counters.insert_one({"_id": session["_id"], "server": 3})
    await visitor.submit("ZipCode", zip_code="1")
    await visitor.submit("ZipCode", zip_code="1")
    await services_of(app).events.drain()
    seqs = sorted(e["seq"] for e in await db.events.find({}).to_list())
    assert seqs == [1, 2, 4, 5, 6, 7]  # 1–2 stored at the start; 3 was the old release's; nothing taken twice
    assert (await db.event_counters.find_one({"_id": session["_id"]}))["server"] == 7


async def test_two_requests_of_one_session_at_once_never_share_a_number(app: Quart, client, db: Database) -> None:  # type: ignore[no-untyped-def]
    visitor = Visitor(quart_sender(client))
    await visitor.start()
    # A double click while the calendar loads: every one answered.
    pages = await asyncio.gather(visitor.submit("ZipCode", zip_code="1"), visitor.submit("ZipCode", zip_code="1"), visitor.current())
    assert [p.status for p in pages] == [200, 200, 200]
    # A script sending a dozen at once: each answered, or told to try again; none a 500.
    pages = await asyncio.gather(*(visitor.submit("ZipCode", zip_code="1") for _ in range(6)), *(visitor.current() for _ in range(6)))
    assert all(p.status == 200 or (p.status == 409 and p.contains("Please try again")) for p in pages), [p.status for p in pages]
    await services_of(app).events.drain()
    seqs = sorted(e["seq"] for e in await db.events.find({}).to_list())
    assert seqs == list(range(1, len(seqs) + 1))
    session = await db.sessions.find_one({})
    assert session["server_events"] == len(seqs)


# -- storing in bulk ---------------------------------------------------------------------

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def events_of(session: str, first: int, kinds: list[str]) -> list[SessionEvent]:
    steps = {"session_started": None, "step_shown": "ZipCode", "step_submitted": "ZipCode", "validation_error": "ZipCode"}
    return [
        SessionEvent(
            session_id=session, organization_id="demo-plumbing", flow_id="residential", source="server", seq=first + i,
            type=kind, at=AT + timedelta(seconds=first + i), step=steps[kind],
            data={"fields": ["zip_code"]} if kind == "validation_error" else {},
        )
        for i, kind in enumerate(kinds)
    ]


async def expected_summaries(db: Database, sessions: list[str]) -> dict[str, dict[str, Any]]:
    steps = await store.flow_steps(db, "demo-plumbing", "residential")
    found = {}
    for session in sessions:
        events = await db.events.find({"session_id": session}).to_list()
        found[session] = summarize(session, events, steps)
    return found


def comparable(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k not in {"version", "write"}}


async def test_a_batch_of_many_sessions_is_stored_in_a_few_round_trips(app: Quart, db: Database) -> None:
    sessions = [f"bulk{n}" for n in range(40)]
    await store.flow_steps(db, "demo-plumbing", "residential")  # the flow, as a running storer has it
    first = [e for s in sessions for e in events_of(s, 1, ["session_started", "step_shown"])]
    assert (await commands_of(store_events(db, first))) == {"insert": 2, "find": 1}  # events; summaries read; new summaries
    more = [e for s in sessions for e in events_of(s, 3, ["step_submitted", "validation_error"])]
    assert (await commands_of(store_events(db, more))) == {"insert": 1, "find": 1, "update": 1}
    wanted = await expected_summaries(db, sessions)
    for summary in await db.session_summaries.find({}).to_list():
        assert comparable(summary) == comparable(wanted[summary["_id"]])
        assert summary["event_count"] == 4 and summary["leave_reason"] == "validation_error" and summary["version"] == 2


async def test_the_in_process_queue_stores_the_events_of_requests_answered_together_in_one_batch(app: Quart, db: Database) -> None:
    """Requests answered within the queue's linger are stored in one batch (one insert), not
    one each; whoever waits for the queue to empty (a graceful stop) does not wait the linger."""
    from app.events.publishers import InProcessPublisher

    await store.flow_steps(db, "demo-plumbing", "residential")
    publisher = InProcessPublisher(db, linger_seconds=0.5)
    await publisher.start()
    before = sent("events")
    for n in range(6):  # six requests, a few milliseconds apart: without the linger, the first went alone
        await publisher.publish(events_of(f"linger{n}", 1, ["session_started", "step_shown"]))
        await asyncio.sleep(0.005)
    await publisher.drain()
    # One batch: the events' insert, the summaries' read, the new summaries' insert (as above).
    assert sent("events") - before == {"insert": 2, "find": 1}
    assert await db.events.count_documents({"session_id": {"$regex": "^linger"}}) == 12

    patient = InProcessPublisher(db, linger_seconds=3600)
    await patient.start()
    await patient.publish(events_of("hurried", 1, ["session_started"]))
    await asyncio.wait_for(patient.stop(), 30)  # not an hour
    assert await db.events.count_documents({"session_id": "hurried"}) == 1
    await publisher.stop()


async def test_two_storers_of_one_sessions_events_at_once_keep_every_summary_right(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes storing events of the same sessions at the same moment: one bulk write wins
    each summary, the other finds out from its counts and derives those summaries again."""
    refreshed: list[str] = []
    refresh = store.refresh_summary

    async def counted_refresh(database: Database, session_id: str, steps: list[str]) -> None:
        refreshed.append(session_id)
        await refresh(database, session_id, steps)

    monkeypatch.setattr(store, "refresh_summary", counted_refresh)
    sessions = [f"both{n}" for n in range(12)]
    await store_events(db, [e for s in sessions for e in events_of(s, 1, ["session_started", "step_shown"])])
    for round_ in range(3):
        seq = 3 + 4 * round_
        one = [e for s in sessions for e in events_of(s, seq, ["step_submitted", "validation_error"])]
        other = [e for s in sessions for e in events_of(s, seq + 2, ["step_submitted", "step_shown"])]
        await asyncio.gather(store_events(db, one), store_events(db, other))
    wanted = await expected_summaries(db, sessions)
    for summary in await db.session_summaries.find({}).to_list():
        assert comparable(summary) == comparable(wanted[summary["_id"]])
        assert summary["event_count"] == 14
    assert refreshed  # the race did happen, and was caught


async def test_requests_that_find_the_configuration_run_out_share_one_read(db: Database, organization) -> None:  # type: ignore[no-untyped-def]
    cache = ConfigCache(db, 60)
    found = await commands_of(asyncio.gather(*(cache.organization_by_key("pk_test_demo") for _ in range(50))))
    assert found == {"find": 1}
    assert await commands_of(asyncio.gather(*(cache.flow("demo-plumbing", "residential") for _ in range(50)))) == {"find": 1}
    assert await commands_of(cache.organization_by_key("pk_test_demo")) == {}  # kept from here
