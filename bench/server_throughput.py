"""Saturation: concurrent clients walking the whole flow, with no think time, against one
Hypercorn process.

    .venv/bin/python -m bench.server_throughput [--visitors 200] [--hello-requests 4000]

The database (the embedded nx-27017 server) runs on the same machine. The client is httpx
in this one Python process, which saturates near 200 requests per second here: the "ratio"
to a bare Quart route it prints measures the client as much as the server, and the p99 of
clients firing with no think time measures a queue, not a visitor's wait. Both are kept as
saturation figures only, with no target; the server's capacity is `bench.capacity` (wrk).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import httpx

from bench.report import percentile
from bench.servers import embedded_mongo, flow_requests, seed_demo, web_process

ORIGIN = "http://localhost:8000"
KEY = "pk_test_demo"


async def one_visitor(http: httpx.AsyncClient, day: str, timings: dict[str, list[float]]) -> None:
    headers = {"X-Scheduler-Key": KEY, "Origin": ORIGIN}

    async def step(name: str, method: str, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        started = time.perf_counter()
        response = await http.request(method, path, data=data, params=None, headers=headers)
        timings[name].append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (name, response.status_code, response.text[:200])
        return response

    response = await step("start session", "POST", "/sessions", {"page_url": ORIGIN + "/"})
    headers["X-Scheduler-Session"] = response.headers["X-Scheduler-Session"]
    for name, method, path, form in flow_requests(day):
        response = await step(name, method, path, form)
    assert 'data-step="Confirmation"' in response.text


async def visitors(url: str, count: int, day: str) -> tuple[dict[str, list[float]], float, int]:
    timings: dict[str, list[float]] = defaultdict(list)
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(one_visitor(http, day, timings) for _ in range(count)))
        elapsed = time.perf_counter() - started
    return timings, elapsed, sum(len(v) for v in timings.values())


async def hello(url: str, concurrency: int, total: int) -> tuple[list[float], float]:
    timings: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        async def worker(n: int) -> None:
            for _ in range(n):
                started = time.perf_counter()
                assert (await http.get("/")).status_code == 200
                timings.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker(total // concurrency) for _ in range(concurrency)))
        return timings, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=200, help="concurrent visitors, each walking the whole flow")
    parser.add_argument("--hello-requests", type=int, default=4000)
    args = parser.parse_args(argv)
    database = f"bench_{uuid.uuid4().hex[:8]}"
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    big_window = [{"id": "morning", "label": "8 – 11 am", "start": "08:00", "end": "11:00", "capacity": args.visitors}]
    with embedded_mongo() as uri:
        asyncio.run(seed_demo(uri, database, windows=big_window, closed_weekdays=[], closed_dates=[], minimum_notice_hours=0, hold_minutes=0))
        with web_process({}, application="bench.hello_app:app", ready_path="/") as url:
            hello_timings, hello_elapsed = asyncio.run(hello(url, args.visitors, args.hello_requests))
        with web_process({"MONGODB_URI": uri, "MONGODB_DATABASE": database}) as url:
            timings, elapsed, requests = asyncio.run(visitors(url, args.visitors, day))
    hello_rps = len(hello_timings) / hello_elapsed
    steps_rps = requests / elapsed
    print(f"command: python -m bench.server_throughput --visitors {args.visitors} --hello-requests {args.hello_requests}")
    print(f"one Hypercorn process, {args.visitors} concurrent clients; database: nx-27017 on this machine")
    print(f"{'route':26}{'requests':>10}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'hello (bare Quart)':26}{len(hello_timings):>10,}{statistics.median(hello_timings):>10.1f}{percentile(hello_timings, 0.99):>10.1f}")
    all_steps: list[float] = []
    for name, values in timings.items():
        all_steps += values
        print(f"{name:26}{len(values):>10,}{statistics.median(values):>10.1f}{percentile(values, 0.99):>10.1f}")
    p99 = percentile(all_steps, 0.99)
    print(f"{'all step routes':26}{len(all_steps):>10,}{statistics.median(all_steps):>10.1f}{p99:>10.1f}")
    print(f"throughput: hello {hello_rps:,.0f} req/s; step routes {steps_rps:,.0f} req/s; ratio {steps_rps / hello_rps:.3f}")
    print("saturation figures of a closed loop with a Python client (no targets): capacity is python -m bench.capacity")
    return 0


if __name__ == "__main__":
    sys.exit(main())
