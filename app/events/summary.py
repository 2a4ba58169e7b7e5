"""A session's summary, folded from its events as they are stored.

Furthest step, outcome (booked, out of area, or still open — the funnel calls an open
session abandoned once it has been quiet long enough), why a visitor who left left,
and where they came from. Folding new events into a summary gives what deriving it
from all the events at once would give, in whatever batches they arrive: every field
is a first, a last, a maximum, a count, or the latest event that decides it (kept with
its place in the order, so an event stored late still falls into place).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# What decides why a visitor left: the latest of these events (None: they were moving on).
_MOVING_ON = {"step_submitted", "answer_chosen", "booking_confirmed"}


def _order(event: dict[str, Any]) -> list[Any]:
    return [event["at"], event["source"], event["seq"]]


def _verdict(event: dict[str, Any]) -> tuple[bool, str | None]:
    """Whether the event says why a visitor would have left here, and what it says."""
    kind, data = event["type"], event.get("data") or {}
    if kind == "validation_error":
        return True, "validation_error"
    if kind == "booking_failed" and data.get("reason") == "slot_taken":
        return True, "no_slot"
    if kind == "timeslot_viewed" and data.get("open_days") == 0:
        return True, "no_slot"
    if kind in _MOVING_ON:
        return True, None
    return False, None


def merge_summary(
    session_id: str, previous: dict[str, Any] | None, events: Iterable[dict[str, Any]], flow_steps: list[str]
) -> dict[str, Any]:
    """The summary `previous` (None: no events yet) with `events` (not seen before) folded in."""
    ordered = sorted(events, key=_order)
    summary = dict(previous) if previous else {
        "_id": session_id,
        "organization_id": ordered[0]["organization_id"],
        "flow_id": ordered[0]["flow_id"],
        "started_at": ordered[0]["at"],
        "last_event_at": ordered[0]["at"],
        "furthest_step_index": 0,
        "booking_reference": None,
        "booked_order": None,
        "saw_out_of_area": False,
        "reason_order": None,
        "reason": None,
        "attribution": {},
        "attribution_order": None,
        "event_count": 0,
        "version": 0,
    }
    for event in ordered:
        order = _order(event)
        summary["started_at"] = min(summary["started_at"], event["at"])
        summary["last_event_at"] = max(summary["last_event_at"], event["at"])
        kind, data = event["type"], event.get("data") or {}
        if kind == "step_shown" and event.get("step") in flow_steps:
            summary["furthest_step_index"] = max(summary["furthest_step_index"], flow_steps.index(event["step"]))
        if kind == "booking_confirmed" and (summary["booked_order"] is None or order < summary["booked_order"]):
            summary["booked_order"], summary["booking_reference"] = order, data.get("reference")
        if kind == "out_of_area":
            summary["saw_out_of_area"] = True
        if kind == "session_started" and (summary["attribution_order"] is None or order < summary["attribution_order"]):
            summary["attribution_order"], summary["attribution"] = order, data.get("attribution", {})
        decides, reason = _verdict(event)
        if decides and (summary["reason_order"] is None or order > summary["reason_order"]):
            summary["reason_order"], summary["reason"] = order, reason
    summary["event_count"] += len(ordered)
    summary["version"] += 1
    furthest = summary["furthest_step_index"]
    booked = summary["booked_order"] is not None
    out_of_area = furthest == 0 and summary["saw_out_of_area"]
    summary["furthest_step"] = flow_steps[furthest] if furthest < len(flow_steps) else None
    summary["outcome"] = "booked" if booked else "out_of_area" if out_of_area else "open"
    summary["leave_reason"] = None if booked else "out_of_area" if out_of_area else summary["reason"]
    return summary


def summarize(session_id: str, events: Iterable[dict[str, Any]], flow_steps: list[str]) -> dict[str, Any]:
    """The summary of all of a session's events at once."""
    return merge_summary(session_id, None, events, flow_steps)
