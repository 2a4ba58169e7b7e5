"""Prometheus metrics for /metrics: requests, latency, open sockets, queue lag, bookings.

With several Hypercorn workers in one container, each worker answers /metrics for
itself; scrape each task (ECS) and sum by route.
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from quart import Blueprint, Quart, Response, g, request

REGISTRY = CollectorRegistry()
REQUESTS = Counter("scheduler_requests_total", "HTTP requests answered", ["route", "method", "status"], registry=REGISTRY)
# Begun, answered or not (the client hung up meanwhile): what the server's work is divided by.
REQUESTS_STARTED = Counter("scheduler_requests_started_total", "HTTP requests begun", ["route", "method"], registry=REGISTRY)
LATENCY = Histogram(
    "scheduler_request_seconds", "Time to answer an HTTP request", ["route"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OPEN_SOCKETS = Gauge("scheduler_open_sockets", "Session-event WebSockets open", registry=REGISTRY)
EVENT_QUEUE_DEPTH = Gauge("scheduler_event_queue_events", "Events waiting in this process to be stored or sent", registry=REGISTRY)
EVENTS_SHED = Counter(
    "scheduler_events_shed_total", "Events not taken because the queue was full (widget events are sent again)",
    ["source"], registry=REGISTRY,
)
EVENTS_SET_ASIDE = Counter(
    "scheduler_events_set_aside_total", "Events the database refused, kept in the dead-letter collection", registry=REGISTRY,
)
EVENT_LAG = Histogram(
    "scheduler_event_lag_seconds", "From an event happening to it being stored", registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300),
)
# Every command sent to MongoDB is one round trip: per request, their count is what a step
# costs the database (bench/capacity.py reads it; app/db.py counts them). `work`: what sent
# it — "request" (while a request waits on it), or a background job: "events" (storing
# what requests recorded, after they answered), or a poller's name.
DB_COMMANDS = Counter(
    "scheduler_db_commands_total", "Commands sent to the database (round trips)", ["command", "work"], registry=REGISTRY
)
BOOKINGS = Counter("scheduler_bookings_total", "Confirm attempts by outcome", ["outcome"], registry=REGISTRY)
VENDOR_CALLS = Counter(
    "scheduler_vendor_calls_total", "Calls to field-service systems by answer (2xx, 4xx, 429, 5xx, timeout, unreachable)",
    ["vendor", "outcome"], registry=REGISTRY,
)
VENDOR_LATENCY = Histogram(
    "scheduler_vendor_call_seconds", "Time a field-service system took to answer", ["vendor"], registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
MAIL_SENDS = Counter(
    "scheduler_mail_sends_total", "Tries to send queued mail by result (sent, deferred, refused, gave_up)",
    ["result"], registry=REGISTRY,
)
VENDOR_PUSHES = Counter(
    "scheduler_vendor_pushes_total", "Outbox pushes by result (confirmed, pending, slot_taken, rejected)",
    ["vendor", "result"], registry=REGISTRY,
)

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def init_metrics(app: Quart) -> None:
    app.register_blueprint(bp)

    @app.before_request
    async def start_timer() -> None:
        g.metrics_started = time.perf_counter()
        REQUESTS_STARTED.labels(request.url_rule.rule if request.url_rule else "unmatched", request.method).inc()

    @app.after_request
    async def count(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        LATENCY.labels(route).observe(time.perf_counter() - g.get("metrics_started", time.perf_counter()))
        return response
