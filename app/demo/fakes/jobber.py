"""A fake Jobber: OAuth2 with rotating refresh tokens and a GraphQL API.

Our queries and mutations are parsed, validated and executed by graphql-core against a
schema written from Jobber's documented types (the part we use), so a misspelt field
fails here as it would there. Every call needs the bearer token and
`X-JOBBER-GRAPHQL-VERSION`; answers carry `extensions.cost.throttleStatus`, and a query
that costs more than is left gets the THROTTLED error in a 200.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from graphql import build_schema, graphql
from quart import Quart, Response, jsonify, request
from quart.typing import ResponseReturnValue

from app.demo.fakes.server import FakeVendor

SCHEMA = build_schema("""
scalar ISO8601DateTime
scalar EncodedId

type Query {
  scheduledItems(filter: ScheduledItemsFilterAttributes, first: Int, after: String): ScheduledItemConnection!
  clients(searchTerm: String, first: Int): ClientConnection!
  request(id: EncodedId!): Request
  job(id: EncodedId!): Job
}

type Mutation {
  clientCreate(input: ClientCreateInput!): ClientCreatePayload!
  propertyCreate(clientId: EncodedId!, input: PropertyCreateInput!): PropertyCreatePayload!
  requestCreate(input: RequestCreateInput!): RequestCreatePayload!
  jobCreate(input: JobCreateAttributes!): JobCreatePayload!
  assessmentEdit(id: EncodedId!, input: AssessmentEditInput!): AssessmentEditPayload!
  visitEditSchedule(id: EncodedId!, input: VisitEditScheduleInput!): VisitEditSchedulePayload!
  jobClose(jobId: EncodedId!, input: JobCloseInput!): JobClosePayload!
}

input ScheduledItemsFilterAttributes { occursWithin: DateRange }
input DateRange { startAt: ISO8601DateTime!, endAt: ISO8601DateTime! }

union ScheduledItem = Visit | Assessment | Event
type Visit { id: EncodedId!, startAt: ISO8601DateTime, endAt: ISO8601DateTime, isComplete: Boolean! }
type VisitConnection { nodes: [Visit!]! }
type Assessment { id: EncodedId!, startAt: ISO8601DateTime, endAt: ISO8601DateTime }
type Event { id: EncodedId!, startAt: ISO8601DateTime, endAt: ISO8601DateTime }
type ScheduledItemConnection { nodes: [ScheduledItem!]!, pageInfo: PageInfo! }
type PageInfo { hasNextPage: Boolean!, endCursor: String }

type Client {
  id: EncodedId!
  firstName: String
  lastName: String
  emails: [Email!]!
  phones: [ClientPhoneNumber!]!
  properties: [Property!]!
  requests(first: Int): RequestConnection!
  jobs(first: Int): JobConnection!
}
type ClientConnection { nodes: [Client!]! }
type Property { id: EncodedId!, address: PropertyAddress }
type PropertyAddress { street1: String, street2: String, city: String, province: String, postalCode: String, country: String }
type Email { address: String! }
type ClientPhoneNumber { number: String! }
type Request { id: EncodedId!, title: String, assessment: Assessment }
type RequestConnection { nodes: [Request!]! }
type Job { id: EncodedId!, title: String, jobStatus: String!, visits(first: Int): VisitConnection! }
type JobConnection { nodes: [Job!]! }
type UserError { message: String!, path: [String!]! }

enum EmailDescription { MAIN WORK PERSONAL OTHER }
enum PhoneNumberDescription { MAIN WORK MOBILE HOME FAX OTHER }
input EmailCreateAttributes { description: EmailDescription, primary: Boolean, address: String! }
input PhoneNumberCreateAttributes { description: PhoneNumberDescription, primary: Boolean, number: String! }
input ClientCreateInput { firstName: String, lastName: String, emails: [EmailCreateAttributes!], phones: [PhoneNumberCreateAttributes!] }
type ClientCreatePayload { client: Client, userErrors: [UserError!]! }

input AddressAttributes { street1: String, street2: String, city: String, province: String, postalCode: String, country: String }
input PropertyAttributes { address: AddressAttributes! }
input PropertyCreateInput { properties: [PropertyAttributes!]! }
type PropertyCreatePayload { properties: [Property!], userErrors: [UserError!]! }

input ScheduleAttributes { startAt: ISO8601DateTime!, endAt: ISO8601DateTime }
input AssessmentAttributes { instructions: String, schedule: ScheduleAttributes }
input RequestCreateInput { clientId: EncodedId!, propertyId: EncodedId, title: String, assessment: AssessmentAttributes }
type RequestCreatePayload { request: Request, userErrors: [UserError!]! }

input JobSchedulingAttributes { startAt: ISO8601DateTime!, endAt: ISO8601DateTime, createVisits: Boolean }
input JobCreateAttributes { propertyId: EncodedId!, title: String, instructions: String, scheduling: JobSchedulingAttributes }
type JobCreatePayload { job: Job, userErrors: [UserError!]! }

input LocalDateTimeAttributes { date: String!, time: String, timezone: String }
input AssessmentScheduleAttributes { startAt: LocalDateTimeAttributes!, endAt: LocalDateTimeAttributes }
input AssessmentEditInput { instructions: String, schedule: AssessmentScheduleAttributes }
type AssessmentEditPayload { assessment: Assessment, userErrors: [UserError!]! }
input VisitEditScheduleInput { startAt: LocalDateTimeAttributes!, endAt: LocalDateTimeAttributes }
type VisitEditSchedulePayload { visit: Visit, userErrors: [UserError!]! }
enum IncompleteVisitDecisionEnum { DESTROY_ALL COMPLETE_PAST_DESTROY_FUTURE }
input JobCloseInput { modifyIncompleteVisitsBy: IncompleteVisitDecisionEnum!, completedOn: ISO8601DateTime }
type JobClosePayload { job: Job, userErrors: [UserError!]! }
""")

MAXIMUM_AVAILABLE = 10_000
RESTORE_RATE = 500
QUERY_COST = 50


def parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local(at: dict[str, Any]) -> datetime:
    """A LocalDateTimeAttributes value: a date, a time (midnight if none) and a zone."""
    zone = ZoneInfo(at.get("timezone") or "UTC")
    return datetime.combine(date.fromisoformat(at["date"]), clock_time.fromisoformat(at.get("time") or "00:00:00"), tzinfo=zone)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeJobber(FakeVendor):
    name = "jobber"
    version = "2025-04-16"

    def __init__(self, client_id: str = "jobber-client", client_secret: str = "jobber-secret", refresh_token: str = "rt-initial", port: int | None = None) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.refresh_tokens = {refresh_token}
        self.used_refresh_tokens: list[str] = []
        self.access_tokens: dict[str, float] = {}
        self.scheduled: list[dict[str, Any]] = []  # {__typename, id, startAt, endAt}
        self.clients: list[dict[str, Any]] = []
        self.properties: dict[str, str] = {}  # property id -> client id
        self.property_addresses: dict[str, dict[str, Any]] = {}  # property id -> its address as created
        self.requests: list[dict[str, Any]] = []
        self.jobs: list[dict[str, Any]] = []
        self.available = float(MAXIMUM_AVAILABLE)
        self._restored_at = time.monotonic()
        self.late_mutations: dict[str, float] = {}
        self._ids = itertools.count(1)
        super().__init__(100, port)

    def _id(self, kind: str) -> str:
        # Jobber's ids are base64 of a global id; any opaque string does here.
        return f"Z2lkOi8v{kind}/{next(self._ids)}"

    def schedule(self, start: datetime, end: datetime, kind: str = "Visit") -> dict[str, Any]:
        item = {"__typename": kind, "id": self._id(kind), "startAt": utc(start), "endAt": utc(end), "isComplete": False}
        self.scheduled.append(item)
        return item

    def item(self, item_id: str | None) -> dict[str, Any] | None:
        return next((i for i in self.scheduled if i["id"] == item_id), None)

    def fail_graphql_late(self, mutation: str, seconds: float = 2.5) -> None:
        """The next call of `mutation` is carried out, but answered only after `seconds`."""
        self.late_mutations[mutation] = seconds

    def spend_budget(self, seconds: float = 0.5) -> None:
        """As if the account had overspent: a query can run again in `seconds`."""
        self.available, self._restored_at = QUERY_COST - seconds * RESTORE_RATE, time.monotonic()

    def _restore(self) -> None:
        now = time.monotonic()
        self.available = min(MAXIMUM_AVAILABLE, self.available + (now - self._restored_at) * RESTORE_RATE)
        self._restored_at = now

    def authorize(self) -> Response | None:
        if request.path != "/api/graphql":  # the token endpoint checks the client itself
            return None
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.access_tokens.get(token, 0) < time.time():
            return self.error(401, "Unauthorized")
        return None

    def cost_extension(self, cost: float) -> dict[str, Any]:
        return {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost, "throttleStatus": {
            "maximumAvailable": MAXIMUM_AVAILABLE, "currentlyAvailable": self.available, "restoreRate": RESTORE_RATE}}}

    # -- resolvers --------------------------------------------------------------------------

    def _scheduled_items(self, info: Any, filter: dict[str, Any] | None = None, first: int = 100, after: str | None = None) -> dict[str, Any]:
        within = (filter or {}).get("occursWithin") or {}
        start, end = parse(within["startAt"]), parse(within["endAt"])
        rows = [i for i in self.scheduled if parse(i["startAt"]) < end and start < parse(i["endAt"])]
        offset = int(after or 0)
        page = rows[offset: offset + first]
        more = offset + first < len(rows)
        return {"nodes": page, "pageInfo": {"hasNextPage": more, "endCursor": str(offset + first) if more else None}}

    def _client_view(self, client: dict[str, Any]) -> dict[str, Any]:
        return client | {
            "properties": [{"id": p, "address": self.property_addresses.get(p)} for p, c in self.properties.items() if c == client["id"]],
            "emails": [{"address": e["address"]} for e in client["input"].get("emails") or []],
            "phones": [{"number": p["number"]} for p in client["input"].get("phones") or []],
            "requests": lambda info, first=20: {"nodes": [r for r in self.requests if r["clientId"] == client["id"]][:first]},
            "jobs": lambda info, first=20: {"nodes": [j for j in self.jobs if self.properties.get(j["propertyId"]) == client["id"]][:first]},
        }

    def _clients(self, info: Any, searchTerm: str = "", first: int = 10) -> dict[str, Any]:
        term = searchTerm.lower()
        found = [c for c in self.clients if term in " ".join([c.get("firstName") or "", c.get("lastName") or "", *c["search"]]).lower()]
        return {"nodes": [self._client_view(c) for c in found[:first]]}

    def _client_create(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        if not (input.get("firstName") or input.get("lastName")):
            return {"client": None, "userErrors": [{"message": "First name or last name is required", "path": ["clientCreate", "input", "firstName"]}]}
        search = [e["address"] for e in input.get("emails") or []] + [p["number"] for p in input.get("phones") or []]
        client = {"id": self._id("Client"), "firstName": input.get("firstName"), "lastName": input.get("lastName"), "search": search, "input": input}
        self.clients.append(client)
        return {"client": self._client_view(client), "userErrors": []}

    def _property_create(self, info: Any, clientId: str, input: dict[str, Any]) -> dict[str, Any]:
        if not any(c["id"] == clientId for c in self.clients):
            return {"properties": None, "userErrors": [{"message": "Client not found", "path": ["propertyCreate", "clientId"]}]}
        made = []
        for attributes in input["properties"]:
            property_id = self._id("Property")
            self.properties[property_id] = clientId
            self.property_addresses[property_id] = attributes.get("address") or {}
            made.append({"id": property_id})
        return {"properties": made, "userErrors": []}

    def _request_create(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        if self.properties.get(str(input.get("propertyId"))) != input["clientId"]:
            return {"request": None, "userErrors": [{"message": "Property does not belong to the client", "path": ["requestCreate", "input", "propertyId"]}]}
        created = {"id": self._id("Request"), "title": input.get("title"), "clientId": input["clientId"], "input": input, "assessment_id": None}
        self.requests.append(created)
        schedule = (input.get("assessment") or {}).get("schedule")
        if schedule:
            item = self.schedule(parse(schedule["startAt"]), parse(schedule.get("endAt") or schedule["startAt"]), "Assessment")
            created["assessment_id"] = item["id"]
        return {"request": self._request_view(created), "userErrors": []}

    def _job_create(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        if input["propertyId"] not in self.properties:
            return {"job": None, "userErrors": [{"message": "Property not found", "path": ["jobCreate", "input", "propertyId"]}]}
        created = {"id": self._id("Job"), "title": input.get("title"), "propertyId": input["propertyId"], "input": input,
                   "jobStatus": "upcoming", "visit_ids": []}
        self.jobs.append(created)
        scheduling = input.get("scheduling")
        if scheduling:
            item = self.schedule(parse(scheduling["startAt"]), parse(scheduling.get("endAt") or scheduling["startAt"]))
            created["visit_ids"].append(item["id"])
        return {"job": self._job_view(created), "userErrors": []}

    def _request_view(self, made: dict[str, Any]) -> dict[str, Any]:
        return made | {"assessment": self.item(made.get("assessment_id"))}

    def _job_view(self, made: dict[str, Any]) -> dict[str, Any]:
        visits = [v for v in (self.item(i) for i in made.get("visit_ids") or []) if v is not None]
        return made | {"visits": lambda info, first=20: {"nodes": visits[:first]}}

    def _request(self, info: Any, id: str) -> dict[str, Any] | None:
        made = next((r for r in self.requests if r["id"] == id), None)
        return None if made is None else self._request_view(made)

    def _job(self, info: Any, id: str) -> dict[str, Any] | None:
        made = next((j for j in self.jobs if j["id"] == id), None)
        return None if made is None else self._job_view(made)

    def _move(self, item: dict[str, Any] | None, schedule: dict[str, Any], path: list[str]) -> list[dict[str, Any]]:
        """Move a scheduled item as Jobber does; its userErrors when it can't be."""
        if item is None:
            return [{"message": "Not found", "path": path}]
        try:
            start = local(schedule["startAt"])
            end = local(schedule["endAt"]) if schedule.get("endAt") else start
        except (KeyError, ValueError, ZoneInfoNotFoundError):
            return [{"message": "startAt needs a date, a time and a valid timezone", "path": [*path, "startAt"]}]
        if end < start:
            return [{"message": "End must be after start", "path": [*path, "endAt"]}]
        item["startAt"], item["endAt"] = utc(start), utc(end)
        return []

    def _assessment_edit(self, info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
        item = self.item(id)
        if item is not None and item["__typename"] != "Assessment":
            item = None
        errors = self._move(item, input.get("schedule") or {}, ["assessmentEdit", "input", "schedule"]) if input.get("schedule") else []
        return {"assessment": None if errors else item, "userErrors": errors}

    def _visit_edit_schedule(self, info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
        item = self.item(id)
        if item is not None and (item["__typename"] != "Visit" or item["isComplete"]):
            item = None
        errors = self._move(item, input, ["visitEditSchedule", "input"])
        return {"visit": None if errors else item, "userErrors": errors}

    def _job_close(self, info: Any, jobId: str, input: dict[str, Any]) -> dict[str, Any]:
        made = next((j for j in self.jobs if j["id"] == jobId), None)
        if made is None:
            return {"job": None, "userErrors": [{"message": "Job not found", "path": ["jobClose", "jobId"]}]}
        if made["jobStatus"] == "archived":
            return {"job": None, "userErrors": [{"message": "Job is already closed", "path": ["jobClose", "jobId"]}]}
        # DESTROY_ALL removes every incomplete visit; the other keeps past ones (none here are past).
        self.scheduled = [i for i in self.scheduled if i["id"] not in made["visit_ids"] or i["isComplete"]]
        made["jobStatus"], made["closed_with"] = "archived", input["modifyIncompleteVisitsBy"]
        return {"job": self._job_view(made), "userErrors": []}

    # -- routes ------------------------------------------------------------------------------

    def routes(self, app: Quart) -> None:
        @app.post("/api/oauth/token")
        async def token() -> Response:
            form = await request.form
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return self.error(401, "invalid_client")
            if form.get("grant_type") != "refresh_token":
                return self.error(400, "unsupported_grant_type")
            used = form.get("refresh_token", "")
            if used not in self.refresh_tokens:
                return self.error(401, "invalid_grant")
            self.refresh_tokens.discard(used)  # rotation: each refresh token works once
            self.used_refresh_tokens.append(used)
            fresh_refresh = "rt-" + secrets.token_urlsafe(12)
            self.refresh_tokens.add(fresh_refresh)
            access = "at-" + secrets.token_urlsafe(16)
            self.access_tokens[access] = time.time() + 3600
            return jsonify({"access_token": access, "refresh_token": fresh_refresh})

        @app.post("/api/graphql")
        async def graphql_endpoint() -> ResponseReturnValue:
            if request.headers.get("X-JOBBER-GRAPHQL-VERSION") != self.version:
                return jsonify({"errors": [{"message": f"X-JOBBER-GRAPHQL-VERSION must be {self.version}"}]}), 400
            body = await request.get_json(silent=True) or {}
            self._restore()
            if self.available < QUERY_COST:
                return jsonify({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}], "extensions": self.cost_extension(QUERY_COST)})
            self.available -= QUERY_COST
            root = {
                "scheduledItems": self._scheduled_items, "clients": self._clients,
                "clientCreate": self._client_create, "propertyCreate": self._property_create,
                "requestCreate": self._request_create, "jobCreate": self._job_create,
                "request": self._request, "job": self._job, "assessmentEdit": self._assessment_edit,
                "visitEditSchedule": self._visit_edit_schedule, "jobClose": self._job_close,
            }
            result = await graphql(SCHEMA, body.get("query", ""), root_value=root, variable_values=body.get("variables"))
            late = next((m for m in self.late_mutations if f"{m}(" in body.get("query", "")), None)
            if late is not None:
                await asyncio.sleep(self.late_mutations.pop(late))
            answer: dict[str, Any] = {"data": result.data, "extensions": self.cost_extension(QUERY_COST)}
            if result.errors:
                answer["errors"] = [{"message": e.message, "locations": [loc._asdict() for loc in e.locations or []]} for e in result.errors]
            return jsonify(answer)
