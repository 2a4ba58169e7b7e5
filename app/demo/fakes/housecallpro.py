"""A fake Housecall Pro: booking windows, service zones, customers, jobs and leads.

`Authorization: Token <api key>`; lists page with `page`, `page_size` and answer
`total_pages` and `total_items`. The company works two arrival windows a day (8–11 and
12–3, Monday to Friday) with one crew; a job fills its window's booking windows.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

from quart import Quart, Response, jsonify, request
from quart.typing import ResponseReturnValue

from app.demo.fakes.server import FakeVendor

ARRIVAL_WINDOWS = ((clock(8), clock(11)), (clock(12), clock(15)))
MAX_DAYS = 31


class FakeHousecallPro(FakeVendor):
    name = "housecallpro"

    def __init__(self, api_key: str = "hcp-fake-key", timezone_name: str = "America/Chicago", rate_limit_per_second: int = 20, port: int | None = None) -> None:
        self.api_key = api_key
        self.zone = ZoneInfo(timezone_name)
        self.zips = {"78701", "78702", "78703", "78704"}
        self.customers: list[dict[str, Any]] = []
        self.jobs: list[dict[str, Any]] = []
        self.leads: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        super().__init__(rate_limit_per_second, port)

    def error(self, status: int, message: str) -> Response:
        response = jsonify({"error": {"code": {401: "unauthorized", 404: "not_found", 409: "conflict", 422: "unprocessable_entity", 429: "rate_limited"}.get(status, "error"), "message": message}})
        response.status_code = status
        return response

    def authorize(self) -> Response | None:
        if request.headers.get("Authorization") != f"Token {self.api_key}":
            return self.error(401, "Invalid API key")
        return None

    def _page(self, key: str, rows: list[dict[str, Any]]) -> Response:
        page, size = int(request.args.get("page", 1)), int(request.args.get("page_size", 10))
        total_pages = max((len(rows) + size - 1) // size, 1)
        return jsonify({key: rows[(page - 1) * size: page * size], "page": page, "page_size": size, "total_pages": total_pages, "total_items": len(rows)})

    def _booked(self, start: datetime) -> bool:
        return any(
            j["schedule"].get("scheduled_start") and datetime.fromisoformat(j["schedule"]["scheduled_start"]) == start
            for j in self.jobs
        )

    def book_externally(self, day: date, index: int) -> None:
        start = datetime.combine(day, ARRIVAL_WINDOWS[index][0], tzinfo=self.zone)
        self.jobs.append({"id": f"job_{next(self._ids)}", "tags": [], "schedule": {"scheduled_start": start.isoformat()}})

    def windows_for(self, first: date, days: int, minutes: int) -> list[dict[str, Any]]:
        windows = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for begin, end in ARRIVAL_WINDOWS:
                window_start = datetime.combine(day, begin, tzinfo=self.zone)
                window_end = datetime.combine(day, end, tzinfo=self.zone)
                open_ = not self._booked(window_start)
                at = window_start
                while at + timedelta(minutes=minutes) <= window_end:
                    windows.append({"start_time": at.isoformat(), "end_time": (at + timedelta(minutes=minutes)).isoformat(), "available": open_})
                    at += timedelta(minutes=minutes)
        return windows

    def routes(self, app: Quart) -> None:
        @app.get("/company/schedule_availability/booking_windows")
        async def booking_windows() -> Response:
            try:
                first = date.fromisoformat(request.args["start_date"])
                days = int(request.args.get("show_for_days", 7))
                minutes = int(request.args.get("service_duration", 30))
            except (KeyError, ValueError):
                return self.error(422, "start_date must be YYYY-MM-DD; show_for_days and service_duration are integers")
            if not 1 <= days <= MAX_DAYS or not 15 <= minutes <= 24 * 60:
                return self.error(422, f"show_for_days must be 1–{MAX_DAYS} and service_duration 15–1440")
            return jsonify({"booking_windows": self.windows_for(first, days, 30 if minutes > 180 else 60)})

        @app.get("/service_zones")
        async def service_zones() -> Response:
            zip_code = request.args.get("zip_code", "")
            zones = [{"id": "sz_1", "name": "Austin", "zip_codes": sorted(self.zips)}] if zip_code in self.zips else []
            return self._page("service_zones", zones)

        @app.get("/customers")
        async def customers() -> Response:
            q = request.args.get("q", "").lower()
            rows = [c for c in self.customers if q in f"{c.get('email')} {c.get('mobile_number')} {c.get('first_name')} {c.get('last_name')}".lower()]
            return self._page("customers", rows)

        @app.post("/customers")
        async def create_customer() -> ResponseReturnValue:
            body = await request.get_json(silent=True) or {}
            if not any(body.get(k) for k in ("first_name", "last_name", "email", "mobile_number")):
                return self.error(422, "A customer needs a name, an email or a mobile number")
            customer = body | {"id": f"cus_{next(self._ids)}", "addresses": [a | {"id": f"adr_{next(self._ids)}"} for a in body.get("addresses") or []]}
            self.customers.append(customer)
            return jsonify(customer), 201

        @app.get("/jobs")
        async def jobs() -> Response:
            customer_id = request.args.get("customer_id")
            return self._page("jobs", [j for j in self.jobs if customer_id in (None, j.get("customer_id"))])

        @app.post("/jobs")
        async def create_job() -> ResponseReturnValue:
            body = await request.get_json(silent=True) or {}
            customer = next((c for c in self.customers if c["id"] == body.get("customer_id")), None)
            if customer is None:
                return self.error(422, "customer_id does not name a customer")
            if not any(a["id"] == body.get("address_id") for a in customer["addresses"]):
                return self.error(422, "address_id is not one of the customer's addresses")
            schedule = body.get("schedule") or {}
            try:
                start = datetime.fromisoformat(schedule["scheduled_start"])
                datetime.fromisoformat(schedule["scheduled_end"])
                int(schedule["arrival_window"])
            except (KeyError, TypeError, ValueError):
                return self.error(422, "schedule needs scheduled_start, scheduled_end and arrival_window (minutes)")
            if self._booked(start):
                return self.error(409, "The crew is already booked at that time")
            job = body | {"id": f"job_{next(self._ids)}", "work_status": "scheduled"}
            self.jobs.append(job)
            return jsonify(job), 201

        @app.put("/jobs/<job_id>/schedule")
        async def update_job_schedule(job_id: str) -> ResponseReturnValue:
            """Housecall Pro's "Update job schedule": start_time, end_time, arrival_window_in_minutes."""
            job = next((j for j in self.jobs if j["id"] == job_id), None)
            if job is None:
                return self.error(404, f"Job {job_id} not found")
            body = await request.get_json(silent=True) or {}
            try:
                start = datetime.fromisoformat(body["start_time"])
                datetime.fromisoformat(body["end_time"])
                window = int(body.get("arrival_window_in_minutes") or 0)
            except (KeyError, TypeError, ValueError):
                return self.error(422, "start_time and end_time are required (ISO 8601)")
            if start != datetime.fromisoformat(job["schedule"].get("scheduled_start") or "1970-01-01T00:00:00+00:00") and self._booked(start):
                return self.error(409, "The crew is already booked at that time")
            job["schedule"] = {"scheduled_start": body["start_time"], "scheduled_end": body["end_time"], "arrival_window": window}
            return jsonify(job)

        @app.delete("/jobs/<job_id>/schedule")
        async def delete_job_schedule(job_id: str) -> ResponseReturnValue:
            """Housecall Pro's "Delete job schedule": the job stays, unscheduled, its time free."""
            job = next((j for j in self.jobs if j["id"] == job_id), None)
            if job is None:
                return self.error(404, f"Job {job_id} not found")
            job["schedule"] = {"scheduled_start": None, "scheduled_end": None, "arrival_window": 0}
            job["work_status"] = "unscheduled"
            return "", 204

        @app.post("/jobs/<job_id>/notes")
        async def create_job_note(job_id: str) -> ResponseReturnValue:
            """Housecall Pro's "Create job note": {content}."""
            job = next((j for j in self.jobs if j["id"] == job_id), None)
            if job is None:
                return self.error(404, f"Job {job_id} not found")
            content = (await request.get_json(silent=True) or {}).get("content")
            if not isinstance(content, str) or not content.strip():
                return self.error(422, "content is required")
            note = {"id": f"nte_{next(self._ids)}", "content": content}
            job.setdefault("notes_added", []).append(note)
            return jsonify(note), 201

        @app.post("/leads")
        async def create_lead() -> ResponseReturnValue:
            body = await request.get_json(silent=True) or {}
            customer = body.get("customer") or {}
            if not (customer.get("email") or customer.get("mobile_number")):
                return self.error(422, "A lead needs the customer's email or mobile number")
            lead = body | {"id": f"lea_{next(self._ids)}"}
            self.leads.append(lead)
            return jsonify(lead), 201
