"""What an adversary sends the event socket and the beacon: keys MongoDB refuses, deep
nesting, floods across reconnects; and what a bad event or a full queue must not do to
everyone else's events."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import aiohttp
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quart import Quart

from app.db import Database
from app.events.models import SessionEvent
from app.events.publishers import InProcessPublisher
from app.events.store import store_events
from app.events.summary import merge_summary, summarize
from app.metrics import EVENTS_SET_ASIDE, EVENTS_SHED
from app.web.services import services_of
from app.web.session_events import BUSY, CLOSE_BAD_MESSAGE, CLOSE_TOO_MANY, RATE_MESSAGES
from tests.conftest import LiveServer
from tests.events.conftest import ORIGIN, session_id
from tests.visitor import Visitor, httpx_sender, quart_sender

PER_SESSION = 40
# The widget's own time for its events (the server orders them by its clock).
CLIENT_AT = "2027-06-09T18:30:00+00:00"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_client_events_per_session": PER_SESSION, "rate_limit_client_events_per_ip": 3 * PER_SESSION}


def event(seq: int, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"seq": seq, "type": "step_time", "at": CLIENT_AT, "step": "ZipCode", "data": data or {"ms": seq}}


def events_message(*events: dict[str, Any]) -> str:
    return json.dumps({"type": "events", "events": list(events)})


def nested(depth: int) -> Any:
    value: Any = 1
    for n in range(depth):
        value = {"k": value} if n % 2 else [value]
    return value


async def stored_client_events(app: Quart, db: Database) -> list[dict]:
    await services_of(app).events.drain()
    return await db.events.find({"source": "client"}).sort("seq", 1).to_list()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"a\u0000b": 1}, "NUL"),
        ({"$where": "sleep(1000)"}, "'$'"),
        ({"a.b": 1}, "'.'"),
        ({"ok": {"inner": {"$gt": ""}}}, "'$'"),
        (nested(12), "nest"),
        ({"k" * 65: 1}, "characters"),
        ({"count": 2**64}, "64 bits"),  # BSON has no wider integer: it would be acknowledged and then set aside
        ({"list": [1, -(2**63) - 1]}, "64 bits"),
    ],
)
async def test_data_the_database_would_refuse_is_refused_at_the_socket(
    app: Quart, client, db: Database, visitor: Visitor, data: Any, problem: str  # type: ignore[no-untyped-def]
) -> None:
    async with client.websocket(f"/ws/sessions/{session_id(visitor)}?key=pk_test_demo", headers=ORIGIN) as socket:
        await socket.send(json.dumps({"type": "hello", "token": visitor.token}))
        assert await socket.receive_json() == {"type": "ready"}
        await socket.send(events_message(event(1, data if isinstance(data, dict) else {"deep": data})))
        refused = await socket.receive_json()
        assert refused["type"] == "error" and problem in refused["message"]
        await socket.send(events_message(event(2)))  # the socket goes on; the next batch is taken
        assert await socket.receive_json() == {"type": "ack", "seqs": [2]}
    assert [e["seq"] for e in await stored_client_events(app, db)] == [2]


async def test_the_beacon_refuses_the_same_with_a_400_naming_it(client, visitor: Visitor) -> None:  # type: ignore[no-untyped-def]
    body = {"key": "pk_test_demo", "token": visitor.token, "events": [event(1, {"a\u0000b": 1})]}
    response = await client.post(f"/sessions/{session_id(visitor)}/events", data=json.dumps(body), headers=ORIGIN)
    assert response.status_code == 400 and "NUL" in await response.get_data(as_text=True)


@pytest.mark.parametrize("body", ["[" * 30_000, '{"k":' * 5000 + "1" + "}" * 5000, '[{"k":' * 3000 + "1" + "}]" * 3000])
async def test_deep_nesting_is_a_400_at_the_beacon_and_an_error_at_the_socket(client, visitor: Visitor, body: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(f"/sessions/{session_id(visitor)}/events", data=body, headers=ORIGIN)
    assert response.status_code == 400
    async with client.websocket(f"/ws/sessions/{session_id(visitor)}?key=pk_test_demo", headers=ORIGIN) as socket:
        await socket.send(body)  # as the hello
        refused = await socket.receive_json()
        assert refused == {"type": "error", "message": 'send {"type": "hello", "token": …} first'}
        with pytest.raises(Exception) as closed:
            await socket.receive()
        assert getattr(closed.value, "code", None) == CLOSE_BAD_MESSAGE or "4400" in repr(closed.value)
    async with client.websocket(f"/ws/sessions/{session_id(visitor)}?key=pk_test_demo", headers=ORIGIN) as socket:
        await socket.send(json.dumps({"type": "hello", "token": visitor.token}))
        await socket.receive_json()
        await socket.send(body)  # as a batch
        assert (await socket.receive_json())["type"] == "error"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.dictionaries(st.text(max_size=12), json_values, max_size=5), depth=st.integers(0, 80))
async def test_generated_keys_and_depths_never_break_the_socket_or_the_store(
    app: Quart, client, db: Database, visitor: Visitor, data: dict[str, Any], depth: int  # type: ignore[no-untyped-def]
) -> None:
    """Whatever keys and nesting come, at the socket and the beacon, the answer is an ack or
    an error, and what was acknowledged is stored. (Past the session's limit, the answer
    is the limit's.)"""
    app.extensions["seq"] = seq = app.extensions.get("seq", 0) + 1
    payload = data | {"deep": nested(depth)} if depth else data
    async with client.websocket(f"/ws/sessions/{session_id(visitor)}?key=pk_test_demo", headers=ORIGIN) as socket:
        await socket.send(json.dumps({"type": "hello", "token": visitor.token}))
        assert await socket.receive_json() == {"type": "ready"}
        await socket.send(events_message(event(seq, payload)))
        answer = await socket.receive_json()
    assert answer["type"] in {"ack", "error"}
    if answer["type"] == "ack":
        assert seq in [e["seq"] for e in await stored_client_events(app, db)]
    # The same by beacon: taken, refused naming the problem, or limited; never a 500.
    body = {"key": "pk_test_demo", "token": visitor.token, "events": [event(seq + 100_000, payload)]}
    response = await client.post(f"/sessions/{session_id(visitor)}/events", data=json.dumps(body), headers=ORIGIN)
    assert response.status_code in {204, 400, 429}, await response.get_data(as_text=True)


async def test_reconnecting_does_not_start_a_new_count(client, visitor: Visitor) -> None:  # type: ignore[no-untyped-def]
    """Events are counted per session (and address) across sockets and beacons."""
    acknowledged, seq, closes = 0, 0, []
    for _ in range(5):  # five sockets, one after the other
        async with client.websocket(f"/ws/sessions/{session_id(visitor)}?key=pk_test_demo", headers=ORIGIN) as socket:
            await socket.send(json.dumps({"type": "hello", "token": visitor.token}))
            await socket.receive_json()
            for _ in range(RATE_MESSAGES - 5):  # within the per-socket message limit
                seq += 1
                await socket.send(events_message(event(seq)))
                answer = await socket.receive_json()
                if answer["type"] != "ack":
                    assert "Too many requests" in answer["message"]
                    try:
                        await socket.receive()
                    except Exception as closed:
                        closes.append(getattr(closed, "code", repr(closed)))
                    break
                acknowledged += 1
    assert acknowledged == PER_SESSION
    assert closes and all(code == CLOSE_TOO_MANY or str(CLOSE_TOO_MANY) in str(code) for code in closes)
    body = {"key": "pk_test_demo", "token": visitor.token, "events": [event(seq + 1)]}
    response = await client.post(f"/sessions/{session_id(visitor)}/events", data=json.dumps(body), headers=ORIGIN)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1


async def test_the_beacon_is_limited_too_and_other_sessions_from_the_address_as_well(client) -> None:  # type: ignore[no-untyped-def]
    answers = []
    for _ in range(4):  # four visitors from one address, each sending its fill by beacon
        visitor = Visitor(quart_sender(client))
        visitor.page = await visitor.start()  # type: ignore[attr-defined]
        for start in range(0, PER_SESSION, 10):
            body = {"key": "pk_test_demo", "token": visitor.token, "events": [event(start + n + 1) for n in range(10)]}
            response = await client.post(f"/sessions/{session_id(visitor)}/events", data=json.dumps(body), headers=ORIGIN)
            answers.append(response.status_code)
        body = {"key": "pk_test_demo", "token": visitor.token, "events": [event(PER_SESSION + 1)]}
        response = await client.post(f"/sessions/{session_id(visitor)}/events", data=json.dumps(body), headers=ORIGIN)
        answers.append(response.status_code)
    # Each session takes its 40 and is refused the 41st; the address takes 120 events in all.
    assert answers[:5] == [204, 204, 204, 204, 429]
    assert answers.count(204) == 12 and answers[-5:] == [429] * 5


def session_event(seq: int, data: dict[str, Any] | None = None, session: str = "s1") -> SessionEvent:
    return SessionEvent(
        session_id=session, organization_id="demo-plumbing", flow_id="residential", source="server", seq=seq,
        type="step_submitted", at=datetime.fromisoformat(CLIENT_AT), step="ZipCode", data=data or {},
    )


async def test_an_event_the_database_refuses_is_set_aside_and_the_rest_stored(db: Database) -> None:
    """A storage fault injected past the edge (a server event with a NUL key): the batch splits."""
    before = EVENTS_SET_ASIDE._value.get()
    batch = [session_event(n) for n in range(1, 10)] + [session_event(10, {"a\u0000b": 1})] + [session_event(n) for n in range(11, 20)]
    assert await store_events(db, batch) == 18
    assert sorted(e["seq"] for e in await db.events.find({}).to_list()) == [n for n in range(1, 20) if n != 10]
    dead = await db.dead_events.find_one({"_id": "s1:s10"})
    assert dead is not None and "InvalidDocument" in dead["problem"] and json.loads(dead["event"])["data"] == {"a\u0000b": 1}
    assert EVENTS_SET_ASIDE._value.get() == before + 1
    assert (await db.session_summaries.find_one({"_id": "s1"}))["event_count"] == 18
    assert await store_events(db, batch) == 0  # delivered again: nothing new, nothing doubled


async def test_the_in_process_queue_goes_on_storing_after_a_poisoned_event(app: Quart, db: Database) -> None:
    publisher = services_of(app).events
    assert await publisher.publish([session_event(1, {"bad\u0000key": 1}, "poisoned"), session_event(2, {}, "poisoned")])
    await publisher.drain()
    assert await publisher.publish([session_event(1, {}, "next")])  # another session, after the poison
    await asyncio.wait_for(publisher.drain(), 10)
    assert {e["_id"] for e in await db.events.find({}).to_list()} == {"poisoned:s2", "next:s1"}
    assert await db.dead_events.count_documents({}) == 1


async def test_the_in_process_queue_is_bounded_and_counts_what_it_sheds(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.events import publishers

    release = asyncio.Event()

    async def slow_store(database: Database, events: list[SessionEvent]) -> int:
        await release.wait()
        return len(events)

    monkeypatch.setattr(publishers, "store_events", slow_store)
    publisher = InProcessPublisher(db, max_waiting=10)
    await publisher.start()
    shed_before = EVENTS_SHED.labels("server")._value.get()
    assert await publisher.publish([session_event(n) for n in range(1, 9)])
    assert not await publisher.publish([session_event(n) for n in range(9, 12)])  # 11 > 10: refused whole
    assert await publisher.publish([session_event(n) for n in range(9, 11)])
    assert publisher.waiting == 10 and EVENTS_SHED.labels("server")._value.get() == shed_before + 3
    release.set()
    await asyncio.wait_for(publisher.drain(), 10)
    assert publisher.waiting == 0
    await publisher.stop()


async def test_a_full_queue_is_not_acknowledged_and_the_widget_sends_again(client, app: Quart, visitor: Visitor, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    publisher = services_of(app).events
    monkeypatch.setattr(publisher, "_max_waiting", 0)
    async with client.websocket(f"/ws/sessions/{session_id(visitor)}?key=pk_test_demo", headers=ORIGIN) as socket:
        await socket.send(json.dumps({"type": "hello", "token": visitor.token}))
        await socket.receive_json()
        await socket.send(events_message(event(1)))
        assert await socket.receive_json() == {"type": "error", "message": BUSY, "retry": True}
        monkeypatch.setattr(publisher, "_max_waiting", 1000)
        await socket.send(events_message(event(1)))
        assert await socket.receive_json() == {"type": "ack", "seqs": [1]}
    body = {"key": "pk_test_demo", "token": visitor.token, "events": [event(2)]}
    monkeypatch.setattr(publisher, "_max_waiting", 0)
    response = await client.post(f"/sessions/{session_id(visitor)}/events", data=json.dumps(body), headers=ORIGIN)
    assert response.status_code == 503


summary_events = st.lists(
    st.tuples(
        st.sampled_from(["session_started", "step_shown", "step_submitted", "validation_error", "timeslot_viewed", "booking_failed", "booking_confirmed", "out_of_area", "step_time"]),
        st.sampled_from(["ZipCode", "ServiceSelection", "Timeslot", "Customer", "Summary"]),
        st.integers(0, 3),
        st.integers(0, 100),
    ),
    min_size=1, max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(items=summary_events, cuts=st.lists(st.integers(0, 25), max_size=5), shuffle=st.randoms())
def test_a_summary_folded_batch_by_batch_equals_one_from_all_events(items: list[tuple[str, str, int, int]], cuts: list[int], shuffle: Any) -> None:
    steps = ["ZipCode", "ServiceSelection", "AdditionalDetails", "Timeslot", "Customer", "Summary"]
    base = datetime(2027, 6, 9, 18, 30, tzinfo=UTC)
    from datetime import timedelta

    events = [
        {"organization_id": "o", "flow_id": "f", "source": "server", "seq": n + 1, "type": kind, "step": step,
         "at": base + timedelta(seconds=second), "data": {"open_days": days, "reason": "slot_taken" if days else "x", "reference": f"R{n}", "attribution": {"n": n}}}
        for n, (kind, step, days, second) in enumerate(items)
    ]
    arrived = list(events)
    shuffle.shuffle(arrived)  # stored in whatever order and batches they come
    bounds = sorted({0, len(arrived), *[c for c in cuts if c < len(arrived)]})
    summary = None
    for start, end in zip(bounds, bounds[1:]):
        summary = merge_summary("s", summary, arrived[start:end], steps)
    whole = summarize("s", events, steps)
    fields = ("started_at", "last_event_at", "furthest_step", "outcome", "leave_reason", "booking_reference", "attribution", "event_count")
    assert {f: summary[f] for f in fields} == {f: whole[f] for f in fields}  # type: ignore[index]


def close_wait_sockets(port: int) -> int:
    """Connections to `port` that the server has not closed after the client did."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if int(local.rsplit(":", 1)[1], 16) == port and state == "08":
                count += 1
    return count


async def test_a_flooded_socket_is_closed_for_good_on_the_server(live_server: LiveServer) -> None:
    """The flood limit's close completes: no connection is left in CLOSE-WAIT."""
    port = int(live_server.url.rsplit(":", 1)[1])
    async with httpx.AsyncClient(timeout=30) as http:
        visitor = Visitor(httpx_sender(http, live_server.url), origin=ORIGIN["Origin"])
        page = await visitor.start()
        sid = page.headers["x-scheduler-session-id"]
    ws_url = live_server.url.replace("http", "ws") + f"/ws/sessions/{sid}?key=pk_test_demo"
    codes = []
    async with aiohttp.ClientSession() as http:
        for attempt in range(3):
            socket = await http.ws_connect(ws_url, headers=ORIGIN, autoclose=False)
            await socket.send_str(json.dumps({"type": "hello", "token": visitor.token}))
            await socket.receive()
            for n in range(RATE_MESSAGES + 15):  # a flood, all of it sent before any answer is read
                await socket.send_str(events_message(event(1000 * attempt + n + 1)))
            while True:
                message = await socket.receive()
                if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                    codes.append(message.data)
                    break
            await socket.close()
    assert codes == [CLOSE_TOO_MANY] * 3
    for _ in range(50):
        if close_wait_sockets(port) == 0:
            break
        await asyncio.sleep(0.1)
    assert close_wait_sockets(port) == 0
