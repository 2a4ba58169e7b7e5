"""The JSON API: routing, triggers, availability, bookings, and its errors."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.db import Database
from tests.visitor import Visitor, quart_sender

KEY = {"X-Scheduler-Key": "pk_test_demo"}


async def test_resolve_uses_the_routing_rules(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/booking-flow-routers/resolve", json={"url": "https://plumber.test/commercial/hvac?x=1"}, headers=KEY)
    body = await response.get_json()
    assert response.status_code == 200 and body["flow_id"] == "commercial"
    assert body["theme"]["--wb-primary"] == "#1e3a8a"
    response = await client.post("/booking-flow-routers/resolve", json={"url": "https://plumber.test/"}, headers=KEY)
    body = await response.get_json()
    assert body["flow_id"] == "residential" and [s["type"] for s in body["steps"]][0] == "ZipCode"


async def test_button_triggers(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/booking-flow-routers/button-triggers", headers=KEY)
    assert (await response.get_json())["triggers"] == [
        {"selector": ".book-now", "flow_id": None},
        {"selector": "#commercial-quote", "flow_id": "commercial"},
    ]


@pytest.mark.dates
async def test_month_availability_and_date_timeslots(client, today: date) -> None:  # type: ignore[no-untyped-def]
    next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    open_day = None
    for month in (today.strftime("%Y-%m"), next_month.strftime("%Y-%m")):  # late in a month, the next has the days
        response = await client.get(f"/scheduler/month-availability?month={month}", headers=KEY)
        body = await response.get_json()
        assert response.status_code == 200 and body["month"] == month and len(body["days"]) >= 28
        assert not any(d["available"] for d in body["days"] if date.fromisoformat(d["date"]) < today)
        open_day = open_day or next((d["date"] for d in body["days"] if d["available"]), None)
    assert open_day is not None
    response = await client.get(f"/scheduler/date-timeslots?date={open_day}", headers=KEY)
    slots = (await response.get_json())["timeslots"]
    assert [s["window_id"] for s in slots] == ["morning", "midday", "afternoon"]
    assert slots[0]["start"] == "08:00" and slots[0]["end"] == "11:00"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/scheduler/month-availability?month=2026-13", "month"),
        ("/scheduler/month-availability", "month"),
        ("/scheduler/date-timeslots?date=tomorrow", "date"),
    ],
)
async def test_bad_query_names_the_field(client, path: str, field: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(path, headers=KEY)
    body = await response.get_json()
    assert response.status_code == 422 and body["error"] == "invalid_request"
    assert [f["field"] for f in body["fields"]] == [field]


async def test_bad_json_body(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/booking-flow-routers/resolve", data=b"{not json", headers=KEY | {"Content-Type": "application/json"})
    assert response.status_code in {400, 422}
    assert "error" in await response.get_json()
    response = await client.post("/booking-flow-routers/resolve", data=b"\xff\xfe", headers=KEY | {"Content-Type": "application/json"})
    assert response.status_code == 400 and (await response.get_json())["error"] == "invalid_encoding"
    response = await client.post("/booking-flow-routers/resolve", json={"url": ""}, headers=KEY)
    body = await response.get_json()
    assert response.status_code == 422 and body["fields"][0]["field"] == "url"


async def test_unknown_key_and_foreign_origin(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/booking-flow-routers/button-triggers", headers={"X-Scheduler-Key": "pk_unknown_key"})
    assert response.status_code == 401 and (await response.get_json())["error"] == "unknown_key"
    response = await client.get("/booking-flow-routers/button-triggers")
    assert response.status_code == 401 and (await response.get_json())["error"] == "missing_key"
    response = await client.get("/booking-flow-routers/button-triggers", headers=KEY | {"Origin": "https://evil.example"})
    assert response.status_code == 403 and (await response.get_json())["error"] == "origin_not_allowed"


async def test_post_bookings_confirms_the_session_once(client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    visitor = Visitor(quart_sender(client))
    await visitor.walk_to("Summary", today)
    headers = KEY | {"X-Scheduler-Session": visitor.token}
    first = await client.post("/bookings", headers=headers)
    second = await client.post("/bookings", headers=headers)
    assert first.status_code == second.status_code == 201
    assert (await first.get_json())["reference"] == (await second.get_json())["reference"]
    assert await db.bookings.count_documents({}) == 1
    assert (await visitor.current()).step == "Confirmation"


async def test_post_bookings_of_an_unfinished_session(client) -> None:  # type: ignore[no-untyped-def]
    visitor = Visitor(quart_sender(client))
    await visitor.start()
    response = await client.post("/bookings", headers=KEY | {"X-Scheduler-Session": visitor.token})
    body = await response.get_json()
    assert response.status_code == 409 and body["error"] == "incomplete" and "ZIP code" in body["message"]
    response = await client.post("/bookings", headers=KEY | {"X-Scheduler-Session": "nope"})
    assert response.status_code == 410 and (await response.get_json())["error"] == "session_expired"


async def test_openapi_document_lists_the_routes(client) -> None:  # type: ignore[no-untyped-def]
    spec = await (await client.get("/openapi.json")).get_json()
    for path in ("/booking-flow-routers/resolve", "/booking-flow-routers/button-triggers", "/scheduler/month-availability", "/scheduler/date-timeslots", "/bookings"):
        assert path in spec["paths"]
    assert (await client.get("/docs")).status_code == 200
