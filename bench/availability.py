"""Computing a month of availability for the built-in vendor.

    .venv/bin/python -m bench.availability [--technicians 50] [--days 365] [--runs 30]

Fills the calendar with a year of bookings (each window's capacity is the number of
technicians; every day of the year is booked to a random level), then times
`get_month_availability` for the busiest month, directly and through the JSON API.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx

from app.db import Database
from app.flows.repository import organization_by_slug
from app.vendors.local import LocalCalendarVendor, slot_document
from bench.report import Targets, percentile
from bench.servers import embedded_mongo, seed_demo, web_process

TARGET_MS = 10.0


async def fill_calendar(db: Database, technicians: int, days: int, today: date) -> int:
    rng = random.Random(7)
    documents = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        for window in ("morning", "midday", "afternoon"):
            booked = [uuid.uuid4().hex for _ in range(rng.randint(0, technicians))]
            documents.append(slot_document("demo-plumbing", day, window, booked))
    for start in range(0, len(documents), 200):
        await db.calendar_slots.insert_many(documents[start : start + 200])
    return sum(len(d["booked"]) for d in documents)


async def time_direct(uri: str, database: str, runs: int, month: tuple[int, int]) -> list[float]:
    db = Database.connect(uri, database)
    organization = await organization_by_slug(db, "demo-plumbing")
    assert organization is not None
    timings = []
    for _ in range(runs + 3):
        started = time.perf_counter()
        vendor = LocalCalendarVendor(db, organization, datetime.now(UTC))
        days = await vendor.get_month_availability(*month)
        timings.append((time.perf_counter() - started) * 1000)
        assert len(days) >= 28
    await db.close()
    return timings[3:]  # the first calls warm the connection


def time_api(url: str, runs: int, month: tuple[int, int]) -> list[float]:
    timings = []
    with httpx.Client(base_url=url, headers={"X-Scheduler-Key": "pk_test_demo"}) as http:
        for _ in range(runs + 3):
            started = time.perf_counter()
            response = http.get(f"/scheduler/month-availability?month={month[0]:04d}-{month[1]:02d}")
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return timings[3:]


def describe(name: str, timings: list[float]) -> str:
    p95 = percentile(timings, 0.95)
    return f"{name:34}{statistics.median(timings):>9.2f} ms p50 {p95:>9.2f} ms p95"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--technicians", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    database = f"bench_{uuid.uuid4().hex[:8]}"
    today = datetime.now(UTC).date()
    month = ((today + timedelta(days=35)).year, (today + timedelta(days=35)).month)
    windows = [{"id": w, "label": w, "start": s, "end": e, "capacity": args.technicians}
               for w, s, e in (("morning", "08:00", "11:00"), ("midday", "11:00", "14:00"), ("afternoon", "14:00", "17:00"))]
    with embedded_mongo() as uri:
        asyncio.run(seed_demo(uri, database, windows=windows, horizon_days=366, closed_dates=[]))

        async def fill() -> int:
            db = Database.connect(uri, database)
            try:
                return await fill_calendar(db, args.technicians, args.days, today)
            finally:
                await db.close()

        bookings = asyncio.run(fill())
        direct = asyncio.run(time_direct(uri, database, args.runs, month))
        with web_process({"MONGODB_URI": uri, "MONGODB_DATABASE": database}) as url:
            api = time_api(url, args.runs, month)
    print(f"command: python -m bench.availability --technicians {args.technicians} --days {args.days} --runs {args.runs}")
    print(f"calendar: {args.technicians} technicians per window, 3 windows a day, {args.days} days, {bookings:,} bookings")
    print(describe(f"month {month[0]}-{month[1]:02d}, vendor call", direct))
    print(describe("month, GET /scheduler/month-availability", api))
    targets = Targets()
    p50 = statistics.median(direct)
    targets.check("month availability", p50 <= TARGET_MS, f"a month of availability ≤ {TARGET_MS:.0f} ms (vendor call, p50): {p50:.2f} ms")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
