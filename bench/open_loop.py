"""An open loop: visitors arrive at a constant rate and walk the flow with think time between
steps, as real visitors do (seconds, not zero), so the figures are what a visitor waits.

    .venv/bin/python -m bench.open_loop [--visitors 200] [--think 5] [--seconds 120]

Arrivals are paced so that, in the steady state, `--visitors` are in the flow at once
(arrival rate = visitors ÷ a visit's length: ten requests, each after a think time drawn
uniformly from half to one and a half `--think` seconds). Each visitor comes from its own
address, at the production rate limits, and books at the end (five visitors walk first to warm the
process; their figures are dropped). One Hypercorn process, the
database (nx-27017) on this machine. The client shows it kept up: how late each request
left against when it was due (p99). Reported: p50/p99 per step and over all, the most
visitors in the flow at once, and the web process's CPU use. Target (issue #20): p99 ≤ 50 ms
at 200 concurrent visitors.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import httpx

from bench.capacity import PRODUCTION_LIMITS, QUIET_POLLERS, cpu_seconds, database
from bench.report import Targets, percentile
from bench.servers import flow_requests, seed_demo, web_process

P99_TARGET_MS = 50.0
REQUESTS_PER_VISIT = 1 + len(flow_requests(""))  # the session's start, then the flow
WARM_UP_VISITORS = 5
ORIGIN = "http://localhost:8000"


class Load:
    def __init__(self) -> None:
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.lateness: list[float] = []  # ms a request left after it was due
        self.in_flow = 0
        self.most_in_flow = 0
        self.failures: list[str] = []


async def visitor(http: httpx.AsyncClient, number: int, day: str, think: float, load: Load) -> None:
    headers = {"X-Scheduler-Key": "pk_test_demo", "Origin": ORIGIN, "X-Forwarded-For": f"10.{number // 62500 % 250}.{number // 250 % 250}.{number % 250}"}
    due = time.perf_counter()

    async def step(name: str, method: str, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        nonlocal due
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        started = time.perf_counter()
        load.lateness.append((started - due) * 1000)
        response = await http.request(method, path, data=data, headers=headers)
        ended = time.perf_counter()
        load.timings[name].append((ended - started) * 1000)
        if response.status_code != 200:
            raise AssertionError(f"{name}: HTTP {response.status_code}")
        due = ended + random.uniform(0.5 * think, 1.5 * think)  # the visitor reads, then acts
        return response

    load.in_flow += 1
    load.most_in_flow = max(load.most_in_flow, load.in_flow)
    try:
        response = await step("start session", "POST", "/sessions", {"page_url": ORIGIN + "/"})
        headers["X-Scheduler-Session"] = response.headers["X-Scheduler-Session"]
        for name, method, path, form in flow_requests(day, email=f"ada{number}@example.com"):
            response = await step(name, method, path, form)
        if 'data-step="Confirmation"' not in response.text:
            load.failures.append("not booked")
    except (AssertionError, httpx.HTTPError) as exc:
        load.failures.append(str(exc)[:100])
    finally:
        load.in_flow -= 1


async def arrivals(url: str, visitors: int, think: float, seconds: float, day: str) -> Load:
    load = Load()
    rate = visitors / (REQUESTS_PER_VISIT * think)  # visitors per second for `visitors` in the flow
    limits = httpx.Limits(max_connections=visitors * 2, max_keepalive_connections=visitors * 2)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        # A few visitors first, their figures dropped: a process that has served none yet
        # compiles its templates and indexes the ZIP data (production's are warm).
        for warm in range(WARM_UP_VISITORS):
            await visitor(http, 10_000_000 + warm, day, 0.0, Load())
        started = time.perf_counter()
        walking: list[asyncio.Task[None]] = []
        number = 0
        while time.perf_counter() - started < seconds:
            walking.append(asyncio.create_task(visitor(http, number, day, think, load)))
            number += 1
            await asyncio.sleep(max(0.0, started + number / rate - time.perf_counter()))
        await asyncio.gather(*walking)
    return load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=200, help="visitors in the flow at once, in the steady state")
    parser.add_argument("--think", type=float, default=5.0, help="mean seconds between a visitor's steps")
    parser.add_argument("--seconds", type=float, default=120.0, help="how long visitors keep arriving")
    args = parser.parse_args(argv)
    print(f"command: python -m bench.open_loop --visitors {args.visitors} --think {args.think:g} --seconds {args.seconds:g}")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()  # clock-ok: a benchmark, not a test
    capacity = int(args.visitors * args.seconds / (REQUESTS_PER_VISIT * args.think)) + args.visitors
    big_window = [{"id": "morning", "label": "8 – 11 am", "start": "08:00", "end": "11:00", "capacity": capacity}]
    with database() as (uri, database_pid):
        asyncio.run(seed_demo(uri, name, windows=big_window, closed_weekdays=[], closed_dates=[], minimum_notice_hours=0, hold_minutes=0))
        with web_process({"MONGODB_URI": uri, "MONGODB_DATABASE": name} | QUIET_POLLERS | PRODUCTION_LIMITS) as url:
            cpu_before, db_before, wall_before = cpu_seconds(url.pid), cpu_seconds(database_pid), time.perf_counter()
            load = asyncio.run(arrivals(url, args.visitors, args.think, args.seconds, day))
            wall = time.perf_counter() - wall_before
            cpu_used = (cpu_seconds(url.pid) - cpu_before) / wall
            db_used = (cpu_seconds(database_pid) - db_before) / wall
    every = [t for values in load.timings.values() for t in values]
    print(f"one Hypercorn process, database nx-27017 on this machine; {sum(len(v) for v in load.timings.values()):,} requests; "
          f"at most {load.most_in_flow} visitors in the flow at once; web process CPU {cpu_used:.0%} of a core, "
          f"database {db_used:.0%}")
    print(f"{'step':24}{'requests':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for step, values in load.timings.items():
        print(f"{step:24}{len(values):>10,}{statistics.median(values):>9.1f}{percentile(values, 0.99):>9.1f}")
    p99 = percentile(every, 0.99) if every else float("inf")
    print(f"{'all':24}{len(every):>10,}{statistics.median(every) if every else 0:>9.1f}{p99:>9.1f}")
    late = percentile(load.lateness, 0.99) if load.lateness else 0.0
    print(f"the client kept up: p99 {late:.1f} ms late against when a request was due; {len(load.failures)} visitors failed"
          + (f" ({load.failures[0]})" if load.failures else ""))
    targets = Targets()
    targets.check("client", late <= 20.0, f"the load generator sends each request within 20 ms of when it is due (p99): {late:.1f} ms")
    targets.check("p99", p99 <= P99_TARGET_MS and load.most_in_flow >= args.visitors * 0.9 and not load.failures,
                  f"p99 ≤ {P99_TARGET_MS:.0f} ms with {args.visitors} visitors in the flow at once: {p99:.1f} ms, at most {load.most_in_flow} at once")
    return targets.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
