"""A fake ServiceTitan: OAuth client credentials, Dispatch zones and capacity, CRM
booking-provider bookings, customers, locations and JPM jobs.

Paths, headers, paging (`page`, `pageSize`, `hasMore`, `data`) and the ApiErrorResponse
error shape follow developer.servicetitan.io. Capacity is three arrival frames a day,
Monday to Saturday, in the company's time zone; every booking or job takes a place.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

from quart import Quart, Response, jsonify, request

from app.demo.fakes.server import FakeVendor

FRAMES = ((clock(8), clock(11)), (clock(11), clock(14)), (clock(14), clock(17)))
MAX_CAPACITY_DAYS = 14


def api_error(status: int, title: str, errors: dict[str, list[str]] | None = None) -> Response:
    response = jsonify({
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": title,
        "status": status,
        "traceId": secrets.token_hex(8),
        "errors": errors or {},
    })
    response.status_code = status
    return response


def parse_utc(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class FakeServiceTitan(FakeVendor):
    name = "servicetitan"

    def __init__(
        self,
        tenant: int = 1234567,
        client_id: str = "cid.fake",
        client_secret: str = "cs.fake",
        app_key: str = "ak1.fake",
        timezone_name: str = "America/Chicago",
        capacity: int = 2,
        rate_limit_per_second: int = 60,
        port: int | None = None,
    ) -> None:
        self.tenant = tenant
        self.client_id, self.client_secret, self.app_key = client_id, client_secret, app_key
        self.zone = ZoneInfo(timezone_name)
        self.capacity = capacity
        self.tokens: dict[str, float] = {}
        self.token_lifetime = 900
        self.zones = [
            {"id": 1, "active": True, "name": "Central Austin", "zips": ["78701", "78702", "78703"], "businessUnits": [11]},
            {"id": 2, "active": True, "name": "South Austin", "zips": ["78704", "78745"], "businessUnits": [12]},
        ] + [
            {"id": 10 + i, "active": True, "name": f"Zone {i}", "zips": [f"79{i:03d}"], "businessUnits": [20 + i]}
            for i in range(60)  # enough zones that finding one takes more than one page
        ]
        self.job_types = {501, 502}
        self.booked: dict[datetime, int] = {}
        self.bookings: list[dict[str, Any]] = []
        self.customers: list[dict[str, Any]] = []
        self.locations: list[dict[str, Any]] = []
        self.jobs: list[dict[str, Any]] = []
        self.appointments: list[dict[str, Any]] = []
        self.attachments: list[dict[str, Any]] = []  # the Forms API's job attachments (photos), bytes kept
        self.cancel_reasons = {71: "Customer cancelled"}
        self._ids = itertools.count(900001)
        super().__init__(rate_limit_per_second, port)

    def error(self, status: int, message: str) -> Response:
        if request.path == "/connect/token":  # the identity server answers OAuth errors
            return super().error(status, message)
        return api_error(status, message)

    # -- auth ---------------------------------------------------------------------------

    def caller(self) -> str:
        return request.headers.get("ST-App-Key", "none")

    def authorize(self) -> Response | None:
        tenant = (request.view_args or {}).get("tenant")
        if tenant is None:  # the token endpoint, or no route at all
            return None
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or self.tokens.get(token, 0) < time.time():
            return api_error(401, "Unauthorized: the access token is missing, unknown or expired")
        if request.headers.get("ST-App-Key") != self.app_key:
            return api_error(401, "Unauthorized: ST-App-Key is missing or wrong")
        if tenant != self.tenant:
            return api_error(404, f"Tenant {tenant} was not found")
        return None

    def expire_tokens(self) -> None:
        self.tokens = {t: 0 for t in self.tokens}

    # -- capacity -------------------------------------------------------------------------

    def frame_start(self, day: date, index: int) -> datetime:
        return datetime.combine(day, FRAMES[index][0], tzinfo=self.zone).astimezone(UTC)

    def take(self, start: datetime) -> None:
        self.booked[start] = self.booked.get(start, 0) + 1

    def give_back(self, start: datetime) -> None:
        self.booked[start] = max(self.booked.get(start, 0) - 1, 0)

    def frames_between(self, first: datetime, last: datetime) -> list[dict[str, Any]]:
        frames = []
        day = first.astimezone(self.zone).date()
        while datetime.combine(day, clock(0), tzinfo=self.zone) < last:
            if day.weekday() != 6:
                for start_at, end_at in FRAMES:
                    start = datetime.combine(day, start_at, tzinfo=self.zone).astimezone(UTC)
                    end = datetime.combine(day, end_at, tzinfo=self.zone).astimezone(UTC)
                    if first <= start and end <= last:
                        left = max(self.capacity - self.booked.get(start, 0), 0)
                        frames.append({
                            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "businessUnitIds": [11],
                            "totalAvailability": float(self.capacity),
                            "openAvailability": float(left),
                            "isAvailable": left > 0,
                            "technicians": [],
                            "isExceedingIdealBookingPercentage": False,
                        })
            day += timedelta(days=1)
        return frames

    # -- routes ---------------------------------------------------------------------------

    def routes(self, app: Quart) -> None:
        @app.post("/connect/token")
        async def token() -> Response:
            form = await request.form
            if form.get("grant_type") != "client_credentials":
                return self.error(400, "unsupported_grant_type")
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return self.error(400, "invalid_client")
            access = secrets.token_urlsafe(24)
            self.tokens[access] = time.time() + self.token_lifetime
            return jsonify({"access_token": access, "token_type": "Bearer", "expires_in": self.token_lifetime, "scope": "tn.dis.capacity tn.crm.bookings"})

        @app.get("/dispatch/v2/tenant/<int:tenant>/zones")
        async def zones(tenant: int) -> Response:
            try:
                page = int(request.args.get("page", 1))
                size = min(int(request.args.get("pageSize", 50)), 5000)
            except ValueError:
                return api_error(400, "One or more validation errors occurred.", {"page": ["The value is not valid."]})
            rows = self.zones[(page - 1) * size: page * size]
            return jsonify({"page": page, "pageSize": size, "hasMore": page * size < len(self.zones), "totalCount": None, "data": rows})

        @app.post("/dispatch/v2/tenant/<int:tenant>/capacity")
        async def capacity(tenant: int) -> Response:
            body = await request.get_json(silent=True) or {}
            first, last = parse_utc(body.get("startsOnOrAfter")), parse_utc(body.get("endsOnOrBefore"))
            errors: dict[str, list[str]] = {}
            if first is None:
                errors["startsOnOrAfter"] = ["The startsOnOrAfter field is required."]
            if last is None:
                errors["endsOnOrBefore"] = ["The endsOnOrBefore field is required."]
            if first and last and last - first > timedelta(days=MAX_CAPACITY_DAYS):
                errors["endsOnOrBefore"] = [f"The requested range cannot exceed {MAX_CAPACITY_DAYS} days."]
            if body.get("jobTypeId") not in self.job_types:
                errors["jobTypeId"] = [f"Job type {body.get('jobTypeId')} was not found."]
            if not isinstance(body.get("skillBasedAvailability"), bool):
                errors["skillBasedAvailability"] = ["The skillBasedAvailability field is required."]
            if errors:
                return api_error(400, "One or more validation errors occurred.", errors)
            assert first is not None and last is not None
            return jsonify({"startsOnOrAfter": body["startsOnOrAfter"], "endsOnOrBefore": body["endsOnOrBefore"], "availabilities": self.frames_between(first, last)})

        @app.get("/crm/v2/tenant/<int:tenant>/booking-provider/<int:provider>/bookings")
        async def list_bookings(tenant: int, provider: int) -> Response:
            rows = [b for b in self.bookings if b["bookingProviderId"] == provider and request.args.get("externalId") in (None, b["externalId"])]
            return jsonify({"page": 1, "pageSize": 50, "hasMore": False, "data": rows[:50]})

        @app.post("/crm/v2/tenant/<int:tenant>/booking-provider/<int:provider>/bookings")
        async def create_booking(tenant: int, provider: int) -> Response:
            body = await request.get_json(silent=True) or {}
            errors = {f: [f"The {f} field is required."] for f in ("source", "name", "summary", "externalId") if not body.get(f)}
            start = parse_utc(body.get("start"))
            if start is None:
                errors["start"] = ["The start field is required."]
            if errors:
                return api_error(400, "One or more validation errors occurred.", errors)
            assert start is not None
            if self.booked.get(start, 0) >= self.capacity:
                return api_error(409, "The requested time is no longer available")
            booking = body | {"id": next(self._ids), "bookingProviderId": provider, "status": "Pending", "createdOn": datetime.now(UTC).isoformat()}
            self.bookings.append(booking)
            self.take(start)
            return jsonify(booking)

        def with_external_data(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            key, values = request.args.get("externalDataKey"), (request.args.get("externalDataValues") or "").split(",")
            if key is None:
                return rows
            return [r for r in rows if any(d["key"] == key and d["value"] in values for d in r.get("externalData", []))]

        def page_of(rows: list[dict[str, Any]]) -> Response:
            size = int(request.args.get("pageSize", 50))
            return jsonify({"page": 1, "pageSize": size, "hasMore": len(rows) > size, "data": rows[:size]})

        @app.get("/crm/v2/tenant/<int:tenant>/customers")
        async def list_customers(tenant: int) -> Response:
            # `phone`: customers with a phone contact ending in these digits (the docs' phone filter).
            phone = re.sub(r"\D", "", request.args.get("phone", ""))
            rows = with_external_data(self.customers)
            if phone:
                rows = [c for c in rows if any(c_["type"] in {"Phone", "MobilePhone"} and re.sub(r"\D", "", c_["value"]).endswith(phone)
                                               for c_ in c.get("contacts") or [])]
            return page_of(rows)

        @app.get("/crm/v2/tenant/<int:tenant>/locations")
        async def list_locations(tenant: int) -> Response:
            customer = request.args.get("customerId")
            return page_of([loc for loc in self.locations if customer is None or str(loc["customerId"]) == customer])

        @app.post("/crm/v2/tenant/<int:tenant>/customers")
        async def create_customer(tenant: int) -> Response:
            body = await request.get_json(silent=True) or {}
            if not body.get("name"):
                return api_error(400, "One or more validation errors occurred.", {"Name": ["The Name field is required."]})
            customer = body | {"id": next(self._ids)}
            self.customers.append(customer)
            return jsonify(customer)

        @app.post("/crm/v2/tenant/<int:tenant>/locations")
        async def create_location(tenant: int) -> Response:
            body = await request.get_json(silent=True) or {}
            if not any(c["id"] == body.get("customerId") for c in self.customers):
                return api_error(400, "One or more validation errors occurred.", {"CustomerId": ["Customer was not found."]})
            location = body | {"id": next(self._ids)}
            self.locations.append(location)
            return jsonify(location)

        @app.get("/jpm/v2/tenant/<int:tenant>/jobs")
        async def list_jobs(tenant: int) -> Response:
            return page_of(with_external_data(self.jobs))

        @app.post("/jpm/v2/tenant/<int:tenant>/jobs")
        async def create_job(tenant: int) -> Response:
            body = await request.get_json(silent=True) or {}
            errors = {f: [f"The {f} field is required."] for f in ("customerId", "locationId", "businessUnitId", "jobTypeId", "priority", "campaignId") if not body.get(f)}
            appointments = body.get("appointments") or []
            if not appointments:
                errors["appointments"] = ["At least one appointment is required."]
            if errors:
                return api_error(400, "One or more validation errors occurred.", errors)
            start = parse_utc(appointments[0].get("arrivalWindowStart") or appointments[0].get("start"))
            if start is None:
                return api_error(400, "One or more validation errors occurred.", {"appointments[0].start": ["The start field is required."]})
            if self.booked.get(start, 0) >= self.capacity:
                return api_error(409, "The requested time is no longer available")
            job = body | {"id": next(self._ids), "jobNumber": str(next(self._ids)), "jobStatus": "Scheduled"}
            appointment = {k: appointments[0].get(k) for k in ("start", "end", "arrivalWindowStart", "arrivalWindowEnd")}
            appointment |= {"id": next(self._ids), "jobId": job["id"], "status": "Scheduled", "active": True}
            job["firstAppointmentId"] = appointment["id"]
            self.jobs.append(job)
            self.appointments.append(appointment)
            self.take(start)
            return jsonify(job)

        # Job Planning and Management: an appointment moved to another arrival window, and
        # a job cancelled with one of the tenant's cancel reasons (as ServiceTitan documents them).
        @app.get("/jpm/v2/tenant/<int:tenant>/appointments")
        async def list_appointments(tenant: int) -> Response:
            job_id = request.args.get("jobId")
            return page_of([a for a in self.appointments if job_id is None or str(a["jobId"]) == job_id])

        @app.patch("/jpm/v2/tenant/<int:tenant>/appointments/<int:appointment_id>/reschedule")
        async def reschedule_appointment(tenant: int, appointment_id: int) -> Response:
            appointment = next((a for a in self.appointments if a["id"] == appointment_id), None)
            if appointment is None:
                return api_error(404, f"Appointment with ID {appointment_id} not found")
            body = await request.get_json(silent=True) or {}
            start = parse_utc(body.get("arrivalWindowStart") or body.get("start"))
            if start is None:
                return api_error(400, "One or more validation errors occurred.", {"start": ["The start field is required."]})
            old = parse_utc(appointment["arrivalWindowStart"] or appointment["start"])
            if start != old and self.booked.get(start, 0) >= self.capacity:
                return api_error(409, "The requested time is no longer available")
            appointment.update({k: body.get(k, appointment.get(k)) for k in ("start", "end", "arrivalWindowStart", "arrivalWindowEnd")})
            if start != old:
                self.take(start)
                if old is not None:
                    self.give_back(old)
            return jsonify(appointment)

        # Forms API: a job's attachments, a file each (multipart/form-data, field "file").
        @app.get("/forms/v2/tenant/<int:tenant>/jobs/<int:job_id>/attachments")
        async def job_attachments(tenant: int, job_id: int) -> Response:
            return page_of([{k: v for k, v in a.items() if k != "data"} for a in self.attachments if a["jobId"] == job_id])

        @app.post("/forms/v2/tenant/<int:tenant>/jobs/<int:job_id>/attachments")
        async def attach_to_job(tenant: int, job_id: int) -> Response:
            if not any(j["id"] == job_id for j in self.jobs):
                return api_error(404, f"Job with ID {job_id} not found")
            upload = (await request.files).get("file")
            if upload is None:
                return api_error(400, "One or more validation errors occurred.", {"file": ["The file field is required."]})
            data = upload.read()
            attachment = {"id": next(self._ids), "jobId": job_id, "fileName": upload.filename, "contentType": upload.content_type,
                          "size": len(data), "data": data}
            self.attachments.append(attachment)
            return jsonify({k: v for k, v in attachment.items() if k != "data"})

        @app.put("/jpm/v2/tenant/<int:tenant>/jobs/<int:job_id>/cancel")
        async def cancel_job(tenant: int, job_id: int) -> Response:
            job = next((j for j in self.jobs if j["id"] == job_id), None)
            if job is None:
                return api_error(404, f"Job with ID {job_id} not found")
            body = await request.get_json(silent=True) or {}
            if body.get("reasonId") not in self.cancel_reasons:
                return api_error(400, "One or more validation errors occurred.", {"reasonId": ["Cancel reason not found."]})
            if job["jobStatus"] != "Canceled":
                job |= {"jobStatus": "Canceled", "cancelReasonId": body["reasonId"], "cancelMemo": body.get("memo")}
                for appointment in self.appointments:
                    if appointment["jobId"] == job_id and appointment["active"]:
                        appointment |= {"active": False, "status": "Canceled"}
                        start = parse_utc(appointment["arrivalWindowStart"] or appointment["start"])
                        if start is not None:
                            self.give_back(start)
            return Response(status=200)
