"""The server's own cost, measured with a load generator that is not the bottleneck.

    .venv/bin/python -m bench.capacity [--seconds 8] [--connections 50] [--threads 2] [--sessions 400]

wrk (C; Debian's, `make bench` installs it) loads one route at a time with a Lua script
(bench/wrk/route.lua) that rotates prepared session tokens. Per route it reports requests
per second, p50 and p99, and what the server spent on each request: the web process's CPU
and the database's (nx-27017, on this machine) from /proc, counted until both are quiet
again (the events a step records are stored after it answers, and are part of its cost),
and the database round trips (the app's scheduler_db_commands_total, from /metrics): those
the request waited on, and those the process spent after it answered storing the events
it recorded ("after": the in-process queue's bulk writes, a share of each batch).

The load generator proves itself in each run: the same wrk against a bare Quart route must
exceed 2,000 req/s, else every figure measures the client and the run says MISSED. The bare
route is served by Hypercorn and by Granian in every run, whichever serves the steps: the
step throughput is compared with the best of them. Targets (issue #20) are checked and
printed; a missed one exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from app import ROOT
from app.embedded_db import start_embedded_mongo
from bench.report import Targets
from bench.servers import flow_requests, process_tree, seed_demo, web_process

SCRIPT = ROOT / "bench" / "wrk" / "route.lua"
LOAD_GENERATOR_FLOOR = 2000.0  # req/s the client must drive a bare route at, or it is the bottleneck
STEP_CPU_TARGET_MS = 1.5
STEP_ROUND_TRIPS_TARGET = 2.0
# The events a step records are stored in bulk afterwards: a fraction of a round trip per step.
STEP_STORING_TARGET = 0.25
STEP_RATIO_TARGET = 0.05
ORIGIN = "http://localhost:8000"
HEADERS = {"X-Scheduler-Key": "pk_test_demo", "Origin": ORIGIN}
# The background pollers would add database work no request asked for.
QUIET_POLLERS = {"OUTBOX_POLL_SECONDS": "300", "MAIL_POLL_SECONDS": "300", "ABANDONED_POLL_SECONDS": "3600", "WEBHOOK_POLL_SECONDS": "300"}
# The rate limits at their production values (route.lua spreads the load over many visitors'
# addresses, as a load balancer's X-Forwarded-For says them): they cost what they cost there.
PRODUCTION_LIMITS = {
    "TRUSTED_PROXY_HOPS": "1", "RATE_LIMIT_SESSIONS_PER_IP": "30", "RATE_LIMIT_STEPS_PER_SESSION": "120",
    "RATE_LIMIT_STEPS_PER_IP": "600", "RATE_LIMIT_CONFIRMS_PER_SESSION": "10",
}
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    tokens: Path | None = None
    body: str = ""
    step: bool = False  # a step request: the per-step targets apply


@dataclass(frozen=True)
class Result:
    route: Route
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    web_cpu_ms: float
    db_cpu_ms: float | None
    round_trips: float | None  # what the request waited on
    commands: dict[str, float]  # those per request, by command
    after: float | None  # round trips per request spent storing its events after it answered

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (/proc/PID/stat), in seconds."""
    total = 0.0
    for one in process_tree(pid):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)
    return total


def wait_until_quiet(pids: list[int], limit: float = 30.0) -> None:
    """Until none of the processes used CPU for half a second (queued work stored)."""
    deadline = time.monotonic() + limit
    last = [cpu_seconds(p) for p in pids]
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = [cpu_seconds(p) for p in pids]
        if all(b - a < 0.02 for a, b in zip(last, now)):
            return
        last = now


def round_trips(url: str) -> dict[tuple[str, str], float]:
    """scheduler_db_commands_total of the web process, by command and work (request, events…),
    and the requests it began (("requests", route)), answered or not."""
    text = httpx.get(url + "/metrics", timeout=10).text
    found: dict[tuple[str, str], float] = {}
    for name, labels, value in re.findall(r"^(scheduler_db_commands_total|scheduler_requests_started_total)\{([^}]*)\} (\S+)$", text, re.M):
        label = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        key = (label["command"], label["work"]) if name == "scheduler_db_commands_total" else ("requests", label["route"])
        found[key] = found.get(key, 0.0) + float(value)
    return found


def run_wrk(url: str, route: Route, seconds: int, connections: int, threads: int) -> dict[str, int]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: `make bench` installs Debian's (apt-get install wrk)")
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(SCRIPT), url, "--",
               route.method, route.path, str(route.tokens or "-"), route.body or "", str(threads)]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK "))
    found: dict[str, int] = json.loads(line[4:])
    return found


def measure(url: str, route: Route, web_pid: int, db_pid: int | None, args: argparse.Namespace, counts: bool) -> Result:
    pids = [web_pid] + ([db_pid] if db_pid else [])
    wait_until_quiet(pids)
    web_before, db_before = cpu_seconds(web_pid), cpu_seconds(db_pid) if db_pid else 0.0
    trips_before = round_trips(url) if counts else {}
    found = run_wrk(url, route, args.seconds, args.connections, args.threads)
    wait_until_quiet(pids)
    web_after, db_after = cpu_seconds(web_pid), cpu_seconds(db_pid) if db_pid else 0.0
    trips_after = round_trips(url) if counts else {}
    # Per request the server began: wrk counts those answered before it stopped, but the
    # server also works through the (up to `connections`) still in flight then.
    begun = sum(v - trips_before.get(k, 0.0) for k, v in trips_after.items() if k[0] == "requests" and k[1] != "/metrics")
    n = max(int(begun) if counts and begun else found["requests"], 1)  # /healthz is answered before any hook counts it
    spent = {key: (trips_after[key] - trips_before.get(key, 0.0)) / n for key in trips_after if key[0] != "requests"}
    commands = {name: per for (name, work), per in spent.items() if work == "request" and per >= 0.005}
    after = sum(per for (_, work), per in spent.items() if work == "events")
    return Result(
        route, found["requests"], found["duration_us"] / 1e6, found["non_2xx"], found["socket_errors"],
        found["p50_us"] / 1000, found["p99_us"] / 1000, (web_after - web_before) * 1000 / n,
        (db_after - db_before) * 1000 / n if db_pid else None, sum(commands.values()) if counts else None, commands,
        after if counts else None,
    )


async def prepare_sessions(url: str, count: int, folder: Path, day: str) -> tuple[Path, Path]:
    """`count` sessions at ZipCode and `count` walked to Timeslot; their tokens, one per line."""
    limits = asyncio.Semaphore(16)

    async def one(http: httpx.AsyncClient, walk: bool, index: int) -> str:
        address = {"X-Forwarded-For": f"10.{250 + walk}.{index // 250}.{index % 250}"}  # a visitor each
        async with limits:
            started = await http.post("/sessions", data={"page_url": ORIGIN + "/"}, headers=HEADERS | address)
            token = started.headers["X-Scheduler-Session"]
            if walk:
                for step, _, path, form in flow_requests(day)[:5]:  # ZipCode … AdditionalDetails
                    answer = await http.post(path, data=form, headers=HEADERS | address | {"X-Scheduler-Session": token})
                    assert answer.status_code == 200, (step, answer.status_code)
                assert 'data-step="Timeslot"' in answer.text
            return token

    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        at_zip = await asyncio.gather(*(one(http, False, i) for i in range(count)))
        at_timeslot = await asyncio.gather(*(one(http, True, i) for i in range(count)))
    zip_file, timeslot_file = folder / "zip.txt", folder / "timeslot.txt"
    zip_file.write_text("\n".join(at_zip) + "\n")
    timeslot_file.write_text("\n".join(at_timeslot) + "\n")
    return zip_file, timeslot_file


@contextmanager
def database() -> Iterator[tuple[str, int]]:
    with tempfile.TemporaryDirectory(prefix="bench-mongo-") as folder:
        server = start_embedded_mongo(Path(folder))
        try:
            yield server.uri, server.process.pid
        finally:
            server.stop()


def row(result: Result) -> str:
    db_cpu = f"{result.db_cpu_ms:.2f}" if result.db_cpu_ms is not None else "—"
    trips = f"{result.round_trips:.2f}" if result.round_trips is not None else "—"
    after = f"{result.after:.2f}" if result.after is not None else "—"
    bad = f" ({result.non_2xx} non-2xx)" if result.non_2xx else ""
    return (f"{result.route.name:56}{result.rps:>9,.0f}{result.p50_ms:>8.1f}{result.p99_ms:>9.1f}"
            f"{result.web_cpu_ms:>10.2f}{db_cpu:>9}{trips:>8}{after:>8}{bad}")


def bare_route(server: str, args: argparse.Namespace) -> Result:
    """A bare Quart route served by `server`, loaded like the others."""
    with web_process({}, application="bench.hello_app:app", ready_path="/", server=server) as url:
        return measure(url, Route(f"bare Quart on {server.capitalize()}", "GET", "/"), url.pid, None, args, counts=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    # Enough that a session comes round again only long after its last request answered.
    parser.add_argument("--sessions", type=int, default=400)
    parser.add_argument("--servers", default="hypercorn", help="hypercorn (what `python -m app serve` runs), granian, or both: hypercorn,granian")
    args = parser.parse_args(argv)
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    print(f"command: python -m bench.capacity --seconds {args.seconds} --connections {args.connections} "
          f"--threads {args.threads} --sessions {args.sessions} --servers {','.join(servers)}")
    day = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()  # clock-ok: a benchmark, not a test
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as scratch, database() as (uri, db_pid):
        folder = Path(scratch)
        for server in servers:
            name = f"bench_{uuid.uuid4().hex[:8]}"  # a fresh database for each server
            asyncio.run(seed_demo(uri, name))
            on = f" [{server}]" if len(servers) > 1 else ""
            results.append(bare_route(server, args))
            env = {"MONGODB_URI": uri, "MONGODB_DATABASE": name} | QUIET_POLLERS | PRODUCTION_LIMITS
            with web_process(env, server=server) as url:
                zip_tokens, timeslot_tokens = asyncio.run(prepare_sessions(url, args.sessions, folder, day))
                routes = [
                    Route("GET /healthz" + on, "GET", "/healthz"),
                    Route("POST /session/steps/ZipCode (malformed ZIP)" + on, "POST", "/session/steps/ZipCode", zip_tokens, "zip_code=1", step=True),
                    Route("GET /session/steps/Timeslot?date= (calendar)" + on, "GET", "/session/steps/Timeslot?date=", timeslot_tokens, step=True),
                    Route("POST /sessions" + on, "POST", "/sessions", None, "page_url=http%3A%2F%2Flocalhost%3A8000%2F"),
                ]
                for route in routes:
                    results.append(measure(url, route, url.pid, db_pid, args, counts=True))
        # The step ratio is against the best bare Quart route there is, whichever server serves
        # the steps: Granian's (about 1.7 times Hypercorn's here), as issue #20 measured it.
        for server in [s for s in ("granian",) if s not in servers]:
            results.append(bare_route(server, args))

    print(f"wrk: {args.threads} threads, {args.connections} connections, {args.seconds} s per route; "
          f"{args.sessions} prepared sessions per step route, rotated, from as many addresses; production rate limits; the database on this machine")
    print(f"{'route':56}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>9}{'web CPU':>10}{'DB CPU':>9}{'trips':>8}{'after':>8}")
    print(f"{'':56}{'':>9}{'':>8}{'':>9}{'ms/req':>10}{'ms/req':>9}{'/req':>8}{'/req':>8}")
    for result in results:
        print(row(result))
    for result in results:
        if result.commands:
            listed = ", ".join(f"{name} {per:.2f}" for name, per in sorted(result.commands.items(), key=lambda c: -c[1]))
            print(f"round trips of {result.route.name}: {listed}")
    steps = [r for r in results if r.route.step]
    hello = max((r for r in results if r.route.name.startswith("bare Quart")), key=lambda r: r.rps)  # the best bare route
    targets = Targets()
    targets.check("load generator", hello.rps > LOAD_GENERATOR_FLOOR,
                  f"wrk drives a bare Quart route above {LOAD_GENERATOR_FLOOR:,.0f} req/s (else it measures itself): {hello.rps:,.0f}")
    # The machine's speed moves a third between runs, every route's CPU with it; a step's CPU
    # in bare routes' CPU on the same server (the issue's 1.5 ms was 3.6 of its 0.42 ms) does not.
    for server in servers:
        bare = next(r for r in results if r.route.name == f"bare Quart on {server.capitalize()}")  # measured for each
        for result in (r for r in steps if r.route.name.endswith(f"[{server}]") or len(servers) == 1):
            print(f"web CPU of {result.route.name} ÷ the bare route's on {server.capitalize()}: "
                  f"{result.web_cpu_ms / bare.web_cpu_ms:.1f}× (the 1.5 ms target was 3.6× the issue's bare 0.42 ms)")
    worst_cpu = max(r.web_cpu_ms for r in steps)
    targets.check("web CPU per step", worst_cpu <= STEP_CPU_TARGET_MS, f"web CPU per step request ≤ {STEP_CPU_TARGET_MS} ms: {worst_cpu:.2f} ms")
    worst_trips = max(r.round_trips or 0.0 for r in steps)
    # At the precision printed: the configuration read again every few seconds (a round trip
    # per process and 5 s) is real, and adds less than 0.005 a request at these rates.
    targets.check("round trips per step", round(worst_trips, 2) <= STEP_ROUND_TRIPS_TARGET,
                  f"database round trips per step request ≤ {STEP_ROUND_TRIPS_TARGET:g}: {worst_trips:.2f}")
    worst_after = max(r.after or 0.0 for r in steps)
    targets.check("storing events", worst_after <= STEP_STORING_TARGET,
                  f"round trips storing a step's events after it answered ≤ {STEP_STORING_TARGET:g}: {worst_after:.2f}")
    ratio = min(r.rps for r in steps if r.route.name.endswith(f"[{servers[0]}]") or len(servers) == 1) / hello.rps
    targets.check("step throughput", ratio >= STEP_RATIO_TARGET,
                  f"step throughput ({servers[0]}) ≥ {STEP_RATIO_TARGET} of the best bare route's in the same run: {ratio:.3f}")
    return targets.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
