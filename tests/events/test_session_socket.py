"""The widget's event socket and beacon: token and origin checked, size and rate bounded."""

from __future__ import annotations

import json

import pytest
from quart import Quart
from quart.testing import WebsocketResponseError

from app.db import Database
from app.web.services import services_of
from app.web.session_events import RATE_MESSAGES
from tests.events.conftest import ORIGIN, session_id
from tests.visitor import Visitor, quart_sender


def batch(*seqs: int, kind: str = "step_time") -> str:
    now = "2027-06-09T18:30:00+00:00"  # the widget's own time (the server orders events by its clock)
    return json.dumps({"type": "events", "events": [{"seq": s, "type": kind, "at": now, "step": "ZipCode", "data": {"ms": 10 * s}} for s in seqs]})


async def client_events(app: Quart, db: Database) -> list[dict]:
    await services_of(app).events.drain()
    return await db.events.find({"source": "client"}).sort("seq", 1).to_list()


async def test_events_are_acknowledged_and_stored_once(app: Quart, client, db: Database, visitor: Visitor) -> None:  # type: ignore[no-untyped-def]
    async with client.websocket(f"/ws/sessions/{session_id(visitor)}?key=pk_test_demo", headers=ORIGIN) as socket:
        await socket.send(json.dumps({"type": "hello", "token": visitor.token}))
        assert await socket.receive_json() == {"type": "ready"}
        await socket.send(batch(1, 2, 3))
        assert await socket.receive_json() == {"type": "ack", "seqs": [1, 2, 3]}
        await socket.send(batch(2, 3, 4))  # resent after a drop: 2 and 3 again
        assert await socket.receive_json() == {"type": "ack", "seqs": [2, 3, 4]}
        await socket.send(json.dumps({"type": "events", "events": [{"seq": 5, "type": "rm -rf", "at": "now"}]}))
        refused = await socket.receive_json()
        assert refused["type"] == "error" and "events.0.type" in refused["message"]
    events = await client_events(app, db)
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert events[0]["data"]["ms"] == 10 and "client_at" in events[0]["data"]
    summary = await db.session_summaries.find_one({})
    assert summary["event_count"] == len(await db.events.find({}).to_list())


async def test_a_wrong_token_closes_the_socket(client, visitor: Visitor) -> None:  # type: ignore[no-untyped-def]
    async with client.websocket(f"/ws/sessions/{session_id(visitor)}?key=pk_test_demo", headers=ORIGIN) as socket:
        await socket.send(json.dumps({"type": "hello", "token": "stolen?"}))
        assert (await socket.receive_json())["message"] == "This booking session has expired."


async def test_a_token_for_another_session_is_refused(client, visitor: Visitor) -> None:  # type: ignore[no-untyped-def]
    other = Visitor(quart_sender(client))
    await other.start()
    async with client.websocket(f"/ws/sessions/{session_id(visitor)}?key=pk_test_demo", headers=ORIGIN) as socket:
        await socket.send(json.dumps({"type": "hello", "token": other.token}))
        assert (await socket.receive_json())["message"] == "This token is for another session."


async def test_a_foreign_origin_is_refused_before_the_socket_opens(client, visitor: Visitor) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WebsocketResponseError) as refused:
        async with client.websocket(f"/ws/sessions/{session_id(visitor)}?key=pk_test_demo", headers={"Origin": "https://evil.example"}) as socket:
            await socket.receive()
    assert refused.value.response.status_code == 403


async def test_oversized_and_too_many_messages_close_the_socket(client, visitor: Visitor) -> None:  # type: ignore[no-untyped-def]
    async with client.websocket(f"/ws/sessions/{session_id(visitor)}?key=pk_test_demo", headers=ORIGIN) as socket:
        await socket.send(json.dumps({"type": "hello", "token": visitor.token}))
        await socket.receive_json()
        await socket.send("x" * 40_000)
        with pytest.raises(Exception):
            await socket.receive()
    async with client.websocket(f"/ws/sessions/{session_id(visitor)}?key=pk_test_demo", headers=ORIGIN) as socket:
        await socket.send(json.dumps({"type": "hello", "token": visitor.token}))
        await socket.receive_json()
        acks = 0
        with pytest.raises(Exception):
            for seq in range(1, RATE_MESSAGES + 5):
                await socket.send(batch(seq))
                await socket.receive_json()
                acks += 1
        assert acks == RATE_MESSAGES


async def test_beacon_delivers_the_rest(app: Quart, client, db: Database, visitor: Visitor) -> None:  # type: ignore[no-untyped-def]
    body = {"key": "pk_test_demo", "token": visitor.token, "events": json.loads(batch(7, 8, kind="page_hidden"))["events"]}
    response = await client.post(f"/sessions/{session_id(visitor)}/events", data=json.dumps(body), headers=ORIGIN | {"Content-Type": "text/plain"})
    assert response.status_code == 204
    assert [e["seq"] for e in await client_events(app, db)] == [7, 8]
    response = await client.post(f"/sessions/{session_id(visitor)}/events", data=json.dumps(body | {"token": "nope"}), headers=ORIGIN)
    assert response.status_code == 410
    response = await client.post(f"/sessions/{session_id(visitor)}/events", data="not json", headers=ORIGIN)
    assert response.status_code == 400
