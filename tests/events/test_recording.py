"""The web process records what happens in a session, and keeps its summary."""

from __future__ import annotations

from datetime import date

from quart import Quart

from app.db import Database
from app.web.services import services_of
from tests.visitor import Visitor, quart_sender


async def stored(app: Quart, db: Database) -> list[dict]:
    await services_of(app).events.drain()
    return await db.events.find({}).sort([("at", 1), ("seq", 1)]).to_list()


async def test_a_booked_session_is_recorded_step_by_step(app: Quart, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    visitor = Visitor(quart_sender(client))
    first = await visitor.start(page_url="http://localhost:8000/?utm_source=google")
    await visitor.submit("ZipCode", zip_code="1")
    await visitor.walk_to("Summary", today, first_page=await visitor.current())
    await visitor.submit("Summary")
    events = await stored(app, db)
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["session_started", "step_shown"] and kinds[-1] == "step_shown"
    assert [e["step"] for e in events if e["type"] == "step_shown"] == [
        "ZipCode", "ServiceSelection", "AdditionalDetails", "Timeslot", "Customer", "Summary", "Confirmation",
    ]
    assert [e["data"]["fields"] for e in events if e["type"] == "validation_error"] == [["zip_code"]]
    assert [e["data"]["answer"] for e in events if e["type"] == "answer_chosen"] == ["plumbing", "leak", "inside"]
    assert "timeslot_viewed" in kinds and "booking_confirmed" in kinds
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # numbered without gaps
    assert all(e["source"] == "server" for e in events) and first.headers["x-scheduler-session-id"] == events[0]["session_id"]
    summary = await db.session_summaries.find_one({})
    assert summary["outcome"] == "booked" and summary["furthest_step"] == "Summary"
    assert summary["attribution"]["utm_source"] == "google" and summary["leave_reason"] is None
    booking = await db.bookings.find_one({})
    assert summary["booking_reference"] == booking["_id"]


async def test_an_out_of_area_visitor_is_summarised_so(app: Quart, client, db: Database) -> None:  # type: ignore[no-untyped-def]
    visitor = Visitor(quart_sender(client))
    await visitor.start()
    await visitor.submit("ZipCode", zip_code="10001")
    await stored(app, db)
    summary = await db.session_summaries.find_one({})
    assert summary["outcome"] == "out_of_area" and summary["leave_reason"] == "out_of_area"


async def test_leaving_after_a_validation_error_says_so(app: Quart, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    visitor = Visitor(quart_sender(client))
    await visitor.walk_to("Customer", today)
    await visitor.submit("Customer", first_name="Ada")
    await stored(app, db)
    summary = await db.session_summaries.find_one({})
    assert summary["outcome"] == "open" and summary["furthest_step"] == "Customer"
    assert summary["leave_reason"] == "validation_error"
