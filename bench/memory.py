"""Resident memory of one web process before and after many sessions.

    .venv/bin/python -m bench.memory [--sessions 10000] [--concurrency 20]

Starts one Hypercorn process on the embedded database, reads its resident memory
(/proc VmRSS), opens the sessions (each one a POST /sessions rendering the first step),
and reads it again. A stateless web process should grow by its caches, not by session.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid

import httpx

from bench.servers import embedded_mongo, resident_kib, seed_demo, web_process

ORIGIN = "http://localhost:8000"


async def open_sessions(url: str, count: int, concurrency: int) -> float:
    headers = {"X-Scheduler-Key": "pk_test_demo", "Origin": ORIGIN}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        remaining = iter(range(count))

        async def worker() -> None:
            for _ in remaining:
                response = await http.post("/sessions", data={"page_url": ORIGIN + "/"}, headers=headers)
                assert response.status_code == 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args(argv)
    database = f"bench_{uuid.uuid4().hex[:8]}"
    with embedded_mongo() as uri:
        asyncio.run(seed_demo(uri, database))
        with web_process({"MONGODB_URI": uri, "MONGODB_DATABASE": database}) as url:
            asyncio.run(open_sessions(url, 50, args.concurrency))  # warm: imports, templates, pools
            before = resident_kib(url.pid)
            elapsed = asyncio.run(open_sessions(url, args.sessions, args.concurrency))
            after = resident_kib(url.pid)
    print(f"command: python -m bench.memory --sessions {args.sessions} --concurrency {args.concurrency}")
    print(f"{'resident memory, warm':34}{before / 1024:>10.1f} MiB")
    print(f"{f'after {args.sessions:,} sessions':34}{after / 1024:>10.1f} MiB")
    print(f"{'growth':34}{(after - before) / 1024:>10.1f} MiB ({(after - before) * 1024 / args.sessions:,.0f} bytes per session)")
    print(f"{'sessions opened':34}{args.sessions / elapsed:>10.0f} per second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
