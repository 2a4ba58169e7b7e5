"""A month of availability from each remote vendor: asked of the vendor, and from the cache.

    .venv/bin/python -m bench.vendor_availability [--latency-ms 150] [--runs 20]

Starts the fakes of ServiceTitan, Housecall Pro and Jobber (app/demo/fakes/) with a network
latency added to every answer, and times `get_month_availability` for next month: fresh
(what the first visitor of a minute waits for: ServiceTitan needs a token, the zones and
three 14-day capacity calls the first time) and cached (every other visitor). It counts
the vendor calls each takes, which is what the vendors' rate limits count.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from app.db import Database
from app.demo import vendor_demo
from app.demo.fakes.housecallpro import FakeHousecallPro
from app.demo.fakes.jobber import FakeJobber
from app.demo.fakes.server import FakeVendor
from app.demo.fakes.servicetitan import FakeServiceTitan
from app.domain.booking import ChosenService
from app.vendors.base import AvailabilityScope
from app.vendors.registry import vendor_for
from app.vendors.remote import VendorClients
from bench.report import Targets, percentile
from bench.servers import embedded_mongo

FAKES: dict[str, type[FakeVendor]] = {"servicetitan": FakeServiceTitan, "housecallpro": FakeHousecallPro, "jobber": FakeJobber}
LEAK = {"id": "leak-repair", "name": "Leak repair", "duration_minutes": 90}
CACHED_TARGET_MS = 1.0


async def measure(vendor_type: str, fake: FakeVendor, uri: str, runs: int) -> tuple[float, int, list[float], int, list[float]]:
    """First fresh month (ms, calls), later fresh months (ms each), calls each, cached months (ms each)."""
    db = Database.connect(uri, f"bench_{uuid.uuid4().hex[:8]}")
    clients = VendorClients.create()
    organization = vendor_demo(vendor_type, fake.url).organization
    now = datetime.now(UTC)
    month_start = (now + timedelta(days=32)).replace(day=1)
    month = (month_start.year, month_start.month)

    def strategy():  # type: ignore[no-untyped-def]
        return vendor_for(db, organization, now, clients=clients, scope=AvailabilityScope.of_booking(ChosenService.from_document(LEAK), "78701"))

    async def timed(forget: bool) -> float:
        vendor = strategy()
        if forget:
            vendor.forget_availability()  # type: ignore[attr-defined]
        started = time.perf_counter()
        days = await vendor.get_month_availability(*month)
        assert len(days) >= 28
        return (time.perf_counter() - started) * 1000

    calls_before = len(fake.state.requests)
    first = await timed(forget=True)
    first_calls = len(fake.state.requests) - calls_before
    fresh = []
    calls_before = len(fake.state.requests)
    for _ in range(runs):
        fresh.append(await timed(forget=True))
    fresh_calls = (len(fake.state.requests) - calls_before) // runs
    await timed(forget=True)
    cached = [await timed(forget=False) for _ in range(runs * 10)]
    await clients.close()
    await db.close()
    return first, first_calls, fresh, fresh_calls, cached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=150)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    print(f"command: python -m bench.vendor_availability --latency-ms {args.latency_ms:g} --runs {args.runs}")
    print(f"{'vendor':14}{'first ask':>12}{'calls':>7}{'fresh p50':>12}{'p95':>10}{'calls':>7}{'cached p50':>12}{'p95':>10}")
    targets = Targets()
    with embedded_mongo() as uri:
        for vendor_type, fake_class in FAKES.items():
            fake = fake_class().start()
            fake.rate_limit.per_second = 10_000
            fake.latency_seconds = args.latency_ms / 1000
            try:
                first, first_calls, fresh, fresh_calls, cached = asyncio.run(measure(vendor_type, fake, uri, args.runs))
            finally:
                fake.stop()
            print(
                f"{vendor_type:14}{first:>10.1f}ms{first_calls:>7}{statistics.median(fresh):>10.1f}ms{percentile(fresh, 0.95):>8.1f}ms"
                f"{fresh_calls:>7}{statistics.median(cached):>10.3f}ms{percentile(cached, 0.95):>8.3f}ms"
            )
            p50 = statistics.median(cached)
            targets.check(f"{vendor_type} cached", p50 <= CACHED_TARGET_MS,
                          f"{vendor_type}: a cached month ≤ {CACHED_TARGET_MS:g} ms (p50): {p50:.3f} ms, {statistics.median(fresh) / p50:,.0f}× faster than asking")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
