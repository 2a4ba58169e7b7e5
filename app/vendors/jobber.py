"""Jobber: GraphQL with an OAuth2 bearer token whose refresh token rotates on every use.

Jobber has no availability query. Availability is the company's own working days and
arrival windows (the same rules as the built-in calendar) minus the visits, assessments
and events already in `scheduledItems`. A booking is a client, a property, then a
request with an assessment in the window, or a job scheduled in it.

Every answer is read for `errors` (THROTTLED among them) and each mutation's
`userErrors`: a 200 that carries either is an error, not a success.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import StringConstraints
from pymongo.errors import DuplicateKeyError

from app.domain.booking import Booking, ChosenWindow
from app.domain.config import Credential, HttpsUrl
from app.domain.place import KnownPlace
from app.vendors.base import (
    ArrivalWindow,
    BookingRequest,
    VendorRejected,
    VendorUnauthorized,
    VendorUnavailable,
)
from app.vendors.calendar_rules import ArrivalWindowConfig, CalendarRules, LocalCalendar
from app.vendors.credentials import fingerprint, reveal
from app.vendors.remote import (
    AddressFields,
    RemoteVendor,
    RemoteVendorStrategy,
    booking_summary,
    parse_time,
    same_contact,
    search_terms,
    utc_text,
    vendor_place,
    window_id_for,
)

PAGE_SIZE = 100
MAX_PAGES = 50
THROTTLE_ATTEMPTS = 3
ACCESS_TOKEN_SECONDS = 3600.0  # when the token answer does not say

SCHEDULED_ITEMS = """
query ScheduledItems($startAt: ISO8601DateTime!, $endAt: ISO8601DateTime!, $after: String) {
  scheduledItems(filter: {occursWithin: {startAt: $startAt, endAt: $endAt}}, first: %d, after: $after) {
    nodes { __typename ... on Visit { startAt endAt } ... on Assessment { startAt endAt } ... on Event { startAt endAt } }
    pageInfo { hasNextPage endCursor }
  }
}
""" % PAGE_SIZE

CLIENT_CREATE = """
mutation ClientCreate($input: ClientCreateInput!) {
  clientCreate(input: $input) { client { id } userErrors { message path } }
}
"""

PROPERTY_CREATE = """
mutation PropertyCreate($clientId: EncodedId!, $input: PropertyCreateInput!) {
  propertyCreate(clientId: $clientId, input: $input) { properties { id } userErrors { message path } }
}
"""

REQUEST_CREATE = """
mutation RequestCreate($input: RequestCreateInput!) {
  requestCreate(input: $input) { request { id } userErrors { message path } }
}
"""

JOB_CREATE = """
mutation JobCreate($input: JobCreateAttributes!) {
  jobCreate(input: $input) { job { id } userErrors { message path } }
}
"""

# A returning customer: the clients with this email or phone, and their properties' addresses.
CLIENT_PLACES = """
query ClientPlaces($searchTerm: String!) {
  clients(searchTerm: $searchTerm, first: 5) {
    nodes {
      id
      emails { address }
      phones { number }
      properties { id address { street1 street2 city province postalCode } }
    }
  }
}
"""

JOBBER_ADDRESS = AddressFields(street="street1", unit="street2", state="province", zip_code="postalCode")

EARLIER_BOOKINGS = """
query EarlierBookings($searchTerm: String!) {
  clients(searchTerm: $searchTerm, first: 10) {
    nodes {
      id
      firstName
      lastName
      properties { id }
      requests(first: 20) { nodes { id title } }
      jobs(first: 20) { nodes { id title } }
    }
  }
}
"""


REQUEST_ASSESSMENT = """
query RequestAssessment($id: EncodedId!) {
  request(id: $id) { id assessment { id } }
}
"""

JOB_VISITS = """
query JobVisits($id: EncodedId!) {
  job(id: $id) { id visits(first: 20) { nodes { id startAt isComplete } } }
}
"""

# Jobber takes a new time as a local date, time and zone (LocalDateTimeAttributes).
ASSESSMENT_EDIT = """
mutation AssessmentEdit($id: EncodedId!, $input: AssessmentEditInput!) {
  assessmentEdit(id: $id, input: $input) { assessment { id } userErrors { message path } }
}
"""

VISIT_EDIT_SCHEDULE = """
mutation VisitEditSchedule($id: EncodedId!, $input: VisitEditScheduleInput!) {
  visitEditSchedule(id: $id, input: $input) { visit { id } userErrors { message path } }
}
"""

JOB_CLOSE = """
mutation JobClose($jobId: EncodedId!, $input: JobCloseInput!) {
  jobClose(jobId: $jobId, input: $input) { job { id } userErrors { message path } }
}
"""


def _overlaps(items: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> int:
    return sum(1 for s, e in items if s < end and start < e)


class JobberVendor(RemoteVendor):
    type: Literal["jobber"]
    api_url: HttpsUrl = "https://api.getjobber.com"
    client_id: Credential
    client_secret: Credential
    # The first refresh token; Jobber rotates it on every use and we keep the newest.
    refresh_token: Credential
    graphql_version: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")] = "2025-04-16"
    # Jobber has no availability query: working days and arrival windows are ours.
    calendar: LocalCalendar
    # "request": a request with an assessment in the window; "job": a job scheduled in it.
    booking_mode: Literal["request", "job"] = "request"


class JobberStrategy(RemoteVendorStrategy):
    vendor_type = "jobber"
    settings_model = JobberVendor
    config: JobberVendor

    @property
    def account(self) -> str:
        return fingerprint(self.config.api_url, reveal(self.config.client_id, self.vendor_type, "client_id"))

    # -- tokens ------------------------------------------------------------------------

    async def _access_token(self) -> str:
        return await self.clients.tokens.get(self.account, self._token_from_store)

    async def _token_from_store(self) -> tuple[str, float]:
        """A valid access token: the one another process stored, or a new one by refreshing.

        The refresh token rotates: each use returns the next one and retires the last, so
        the newest is kept in the database with a version, and a process that loses the
        race (its refresh token was just used) takes the token the winner stored.
        """
        seed = reveal(self.config.refresh_token, self.vendor_type, "refresh_token")
        seed_id = fingerprint(seed)
        doc = await self.db.vendor_tokens.find_one({"_id": self.account})
        if doc is not None and doc.get("seed") != seed_id:
            doc = None  # the company connected again: start from the new refresh token
        if doc is not None and doc.get("access_expires_at", 0) - 60 > time.time():
            return doc["access_token"], doc["access_expires_at"] - time.time()
        refresh_token = doc["refresh_token"] if doc is not None else seed
        try:
            body = await self._send(
                "POST",
                f"{self.config.api_url}/api/oauth/token",
                data={
                    "client_id": reveal(self.config.client_id, self.vendor_type, "client_id"),
                    "client_secret": reveal(self.config.client_secret, self.vendor_type, "client_secret"),
                    "grant_type": "refresh_token",
                    "refresh_token": refresh_token,
                },
            )
        except VendorUnauthorized:
            newer = await self.db.vendor_tokens.find_one({"_id": self.account})
            if newer is not None and newer.get("version") != (doc or {}).get("version") and newer.get("access_expires_at", 0) > time.time():
                return newer["access_token"], newer["access_expires_at"] - time.time()
            raise
        lifetime = float(body.get("expires_in") or ACCESS_TOKEN_SECONDS)
        new_doc = {
            "_id": self.account,
            "vendor": self.vendor_type,
            "organization_id": self.organization.slug,
            "seed": seed_id,
            "refresh_token": body.get("refresh_token") or refresh_token,
            "access_token": body["access_token"],
            "access_expires_at": time.time() + lifetime,
            "version": (doc or {}).get("version", 0) + 1,
        }
        if doc is None:
            try:
                await self.db.vendor_tokens.delete_many({"_id": self.account, "seed": {"$ne": seed_id}})
                await self.db.vendor_tokens.insert_one(new_doc)
            except DuplicateKeyError:
                await self.db.vendor_tokens.replace_one({"_id": self.account}, new_doc)
        else:
            await self.db.vendor_tokens.replace_one({"_id": self.account, "version": doc["version"]}, new_doc)
        return new_doc["access_token"], lifetime

    # -- GraphQL -----------------------------------------------------------------------

    async def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(1, THROTTLE_ATTEMPTS + 1):
            headers = {
                "Authorization": f"Bearer {await self._access_token()}",
                "X-JOBBER-GRAPHQL-VERSION": self.config.graphql_version,
            }
            try:
                body = await self._send(
                    "POST", f"{self.config.api_url}/api/graphql", headers=headers,
                    json={"query": query, "variables": variables},
                    safe_to_repeat=query.lstrip().startswith("query"),
                )
            except VendorUnauthorized as exc:
                if attempt > 1 or exc.status != 401:
                    raise
                self.clients.tokens.forget(self.account)
                await self.db.vendor_tokens.update_one({"_id": self.account}, {"$set": {"access_expires_at": 0}})
                continue
            errors = body.get("errors") or []
            throttled = [e for e in errors if (e.get("extensions") or {}).get("code") == "THROTTLED"]
            if throttled:
                wait = self._throttle_wait(body)
                if attempt < THROTTLE_ATTEMPTS and wait <= self.clients.http.retry.longest_wait:
                    await asyncio.sleep(wait)
                    continue
                raise VendorUnavailable(self.vendor_type, "THROTTLED: the query cost budget is spent", retry_after=wait)
            if errors:
                raise VendorRejected(self.vendor_type, "; ".join(str(e.get("message")) for e in errors)[:500])
            return body.get("data") or {}
        raise VendorUnavailable(self.vendor_type, "THROTTLED after retries")

    @staticmethod
    def _throttle_wait(body: dict[str, Any]) -> float:
        """How long until the cost budget has restored enough for the query again."""
        cost = (body.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            missing = float(cost.get("requestedQueryCost", 0)) - float(status.get("currentlyAvailable", 0))
            return max(missing / float(status.get("restoreRate") or 1), 0.0) + 0.05
        except (TypeError, ValueError):
            return 1.0

    async def _mutate(self, query: str, field: str, variables: dict[str, Any]) -> dict[str, Any]:
        payload = (await self._graphql(query, variables)).get(field) or {}
        user_errors = payload.get("userErrors") or []
        if user_errors:
            messages = "; ".join(f"{e.get('message')} ({'.'.join(str(p) for p in e.get('path') or [])})" for e in user_errors)
            raise VendorRejected(self.vendor_type, f"{field}: {messages}"[:500])
        return payload

    # -- availability ------------------------------------------------------------------

    @property
    def last_bookable_day(self) -> date | None:
        return self.today + timedelta(days=self.config.calendar.horizon_days)

    def _rules(self) -> CalendarRules:
        return CalendarRules(self.config.calendar, self.zone, self.now)

    async def _scheduled_items(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        items: list[tuple[datetime, datetime]] = []
        after = None
        for _ in range(MAX_PAGES):
            data = await self._graphql(SCHEDULED_ITEMS, {"startAt": utc_text(start), "endAt": utc_text(end), "after": after})
            page = data.get("scheduledItems") or {}
            for node in page.get("nodes") or []:
                if node.get("startAt") and node.get("endAt"):
                    items.append((parse_time(node["startAt"]), parse_time(node["endAt"])))
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                break
            after = info.get("endCursor")
        return items

    async def _windows_between(self, first: date, last: date) -> list[ArrivalWindow]:
        rules = self._rules()
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        open_days = [d for d in days if rules.day_is_open(d)]
        if not open_days:
            return []
        items = await self._scheduled_items(
            rules.starts_at(open_days[0], min(self.config.calendar.windows, key=lambda w: w.start)),
            rules.ends_at(open_days[-1], max(self.config.calendar.windows, key=lambda w: w.end)),
        )

        def taken(day: date, window: ArrivalWindowConfig) -> int:
            return _overlaps(items, rules.starts_at(day, window), rules.ends_at(day, window))

        # Named by their times like every remote window, so a booking needs no lookup.
        windows: list[ArrivalWindow] = []
        for day in open_days:
            for w in rules.arrival_windows(day, taken):
                windows.append(replace(w, window_id=window_id_for(w.start, w.end)))
        return windows

    # -- booking -----------------------------------------------------------------------

    def _title(self, request: BookingRequest) -> str:
        return f"{request.booking.service.name} — {request.booking.reference}"

    async def _earlier(self, request: BookingRequest) -> None:
        """After a try that may have gone through: take what it made instead of making it again."""
        term = request.booking.customer.email or request.booking.customer.phone
        if not term:
            return
        data = await self._graphql(EARLIER_BOOKINGS, {"searchTerm": term})
        title = self._title(request)
        progress, c = request.progress, request.booking.customer
        clients = (data.get("clients") or {}).get("nodes") or []
        for client in clients:
            made = [n for kind in ("requests", "jobs") for n in (client.get(kind) or {}).get("nodes") or [] if n.get("title") == title]
            if made:
                await progress.remember("client_id", client["id"])
                await progress.remember("booking_id", made[0]["id"])
                return
        # No booking yet, but the last try may have made the client (and its property):
        # Jobber keeps no reference of ours on them, so the newest one with this name is it.
        if progress.get("client_sent") and progress.get("client_id") is None:
            named = [k for k in clients if (k.get("firstName"), k.get("lastName")) == (c.first_name, c.last_name)]
            if named:
                await progress.remember("client_id", named[-1]["id"])
        if progress.get("property_sent") and progress.get("property_id") is None:
            client = next((k for k in clients if k["id"] == progress.get("client_id")), None)
            if client is not None and client.get("properties"):
                await progress.remember("property_id", client["properties"][-1]["id"])

    async def customer_places(self, phone: str | None, email: str | None) -> list[KnownPlace]:
        """Clients found by `searchTerm` (it matches names too): only those with exactly the
        visitor's email or phone number count."""
        places: list[KnownPlace] = []
        seen: set[str] = set()
        for term in search_terms(phone, email):
            data = await self._graphql(CLIENT_PLACES, {"searchTerm": term})
            for client in (data.get("clients") or {}).get("nodes") or []:
                numbers = [p.get("number") for p in client.get("phones") or []]
                emails = [e.get("address") for e in client.get("emails") or []]
                if client["id"] in seen or not same_contact(phone, email, numbers, emails):
                    continue
                seen.add(client["id"])
                places += [vendor_place(client["id"], p["id"], p.get("address") or {}, JOBBER_ADDRESS) for p in client.get("properties") or []]
        return places

    async def _book(self, request: BookingRequest) -> str:
        progress = request.progress
        await self.book_against_known_place(request, "client_id", "property_id")
        if progress.retried and progress.get("booking_id") is None:
            await self._earlier(request)
        c = request.booking.customer
        if progress.get("booking_id") is None and progress.get("client_id") is None:
            emails = [{"description": "MAIN", "primary": True, "address": c.email}] if c.email else []
            phones = [{"description": "MOBILE", "primary": True, "number": c.phone}] if c.phone else []
            await progress.remember("client_sent", True)
            payload = await self._mutate(CLIENT_CREATE, "clientCreate", {
                "input": {"firstName": c.first_name, "lastName": c.last_name, "emails": emails, "phones": phones}
            })
            await progress.remember("client_id", payload["client"]["id"])
        if progress.get("booking_id") is None and progress.get("property_id") is None:
            await progress.remember("property_sent", True)
            payload = await self._mutate(PROPERTY_CREATE, "propertyCreate", {
                "clientId": progress.get("client_id"),
                "input": {"properties": [{"address": {
                    "street1": c.street, "street2": c.unit or None, "city": c.city,
                    "province": c.state, "postalCode": c.zip_code or request.booking.zip_code or "", "country": "US",
                }}]},
            })
            await progress.remember("property_id", payload["properties"][0]["id"])
        if progress.get("booking_id") is None:
            start, end = self.window_bounds(request.day, request.window_id)
            if self.config.booking_mode == "request":
                payload = await self._mutate(REQUEST_CREATE, "requestCreate", {"input": {
                    "clientId": progress.get("client_id"),
                    "propertyId": progress.get("property_id"),
                    "title": self._title(request),
                    "assessment": {"instructions": booking_summary(request), "schedule": {"startAt": utc_text(start), "endAt": utc_text(end)}},
                }})
                await progress.remember("booking_id", payload["request"]["id"])
            else:
                payload = await self._mutate(JOB_CREATE, "jobCreate", {"input": {
                    "propertyId": progress.get("property_id"),
                    "title": self._title(request),
                    "instructions": booking_summary(request),
                    "scheduling": {"startAt": utc_text(start), "endAt": utc_text(end), "createVisits": True},
                }})
                await progress.remember("booking_id", payload["job"]["id"])
        return str(progress.get("booking_id"))

    # -- changes after booking ---------------------------------------------------------
    # A request's assessment and a job's visit move to the new window; a job is closed
    # with its visits removed. A request has no documented cancel: the office archives it.

    @property
    def can_reschedule(self) -> bool:
        return True

    @property
    def can_cancel(self) -> bool:
        return self.config.booking_mode == "job"

    def _made(self, booking: Booking) -> str:
        if not booking.vendor.external_id:
            raise VendorRejected(self.vendor_type, f"booking {booking.reference} has no Jobber {self.config.booking_mode} yet")
        return booking.vendor.external_id

    def _local(self, moment: datetime) -> dict[str, str]:
        here = moment.astimezone(self.zone)
        return {"date": here.date().isoformat(), "time": here.strftime("%H:%M:%S"), "timezone": self.zone.key}

    async def reschedule_booking(self, booking: Booking, window: ChosenWindow) -> None:
        start, end = self.window_bounds(window.day, window.window_id)
        schedule = {"startAt": self._local(start), "endAt": self._local(end)}
        if self.config.booking_mode == "request":
            data = await self._graphql(REQUEST_ASSESSMENT, {"id": self._made(booking)})
            assessment = ((data.get("request") or {}).get("assessment") or {}).get("id")
            if not assessment:
                raise VendorRejected(self.vendor_type, f"request {self._made(booking)} has no assessment to move")
            await self._mutate(ASSESSMENT_EDIT, "assessmentEdit", {"id": assessment, "input": {"schedule": schedule}})
            return
        data = await self._graphql(JOB_VISITS, {"id": self._made(booking)})
        visits = [v for v in ((data.get("job") or {}).get("visits") or {}).get("nodes") or [] if not v.get("isComplete")]
        if not visits:
            raise VendorRejected(self.vendor_type, f"job {self._made(booking)} has no visit to move")
        await self._mutate(VISIT_EDIT_SCHEDULE, "visitEditSchedule", {"id": visits[0]["id"], "input": schedule})

    async def cancel_booking(self, booking: Booking) -> None:
        if self.config.booking_mode != "job":
            raise VendorRejected(self.vendor_type, "a Jobber request is cancelled by the office")
        await self._mutate(JOB_CLOSE, "jobClose", {"jobId": self._made(booking), "input": {"modifyIncompleteVisitsBy": "DESTROY_ALL"}})
