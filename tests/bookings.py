"""Typed bookings for tests that call vendors directly (the flow's tests book through the widget)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from app.domain.booking import Booking, ChosenService, ChosenWindow, Customer, VendorRecord
from app.vendors.base import BookingProgress, BookingRequest

ADA = {
    "first_name": "Ada", "last_name": "Lovelace", "phone": "+15125550100", "email": "ada@example.com",
    "street": "1 Congress Ave", "unit": "", "city": "Austin", "state": "TX", "zip_code": "78701",
}


def _window(day: date, window_id: str, label: str) -> ChosenWindow:
    start, end = time(0), time(0)
    if "-" in window_id and window_id.replace("-", "").isdigit():  # remote vendors' "0800-1100"
        first, last = window_id.split("-")
        start, end = time(int(first[:2]), int(first[2:])), time(int(last[:2]), int(last[2:]))
    return ChosenWindow(day, window_id, label, start, end)


def booking_request(
    *,
    session_id: str = "s-1",
    day: date,
    window_id: str,
    service: dict[str, Any] | None = None,
    customer: dict[str, str] | None = None,
    details: dict[str, Any] | None = None,
    zip_code: str | None = None,
    reference: str = "",
    window: dict[str, str] | None = None,
    progress: BookingProgress | None = None,
) -> BookingRequest:
    """A BookingRequest as the vendor tests wrote it when bookings were dicts."""
    booking = Booking(
        reference=reference,
        session_id=session_id,
        organization_id="demo-plumbing",
        flow_id="residential",
        status="pending",
        service=ChosenService.from_document(service or {"id": "s", "name": "S"}),
        window=_window(day, window_id, (window or {}).get("label", "")),
        customer=Customer.from_document(customer if customer is not None else ADA),
        vendor=VendorRecord("test"),
        created_at=datetime(2030, 1, 1, tzinfo=UTC),
        details=details or {},
        zip_code=zip_code,
    )
    return BookingRequest(booking, progress or BookingProgress())
