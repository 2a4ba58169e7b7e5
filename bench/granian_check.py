"""Does the app work under Granian (a Rust ASGI server) as it does under Hypercorn?

    .venv/bin/python -m bench.granian_check [--server granian|hypercorn]

Serves the app with the server asked for (one worker, nx-27017 on this machine) and checks
what issue #20 lists before a switch: the lifespan (the database is connected when serving
starts, /readyz), a booking session and its event WebSocket (hello, ready, events acked and
stored), /metrics, and a graceful SIGTERM (the process exits 0 and the events it had queued
are stored). Prints one line per check; exits 1 when one fails. The figures are
`bench.capacity --servers hypercorn,granian`; the keep-alive behind a load balancer is in
docs/PERFORMANCE.md (Granian's idle limit is at most 60 s: not past an ALB's 60 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import aiohttp
import httpx
from pymongo import MongoClient

from app import ROOT
from app.embedded_db import free_port
from bench.capacity import QUIET_POLLERS
from bench.servers import UNLIMITED, embedded_mongo, seed_demo, server_command, wait_until_ready

ORIGIN = "http://localhost:8000"
HEADERS = {"X-Scheduler-Key": "pk_test_demo", "Origin": ORIGIN}


async def socket_round(url: str, session_id: str, token: str) -> str:
    """hello → ready → one event → ack; what the server answered."""
    ws_url = url.replace("http", "ws", 1) + f"/ws/sessions/{session_id}?key=pk_test_demo"
    async with aiohttp.ClientSession() as client, client.ws_connect(ws_url, headers={"Origin": ORIGIN}) as socket:
        await socket.send_str(json.dumps({"type": "hello", "token": token}))
        ready = json.loads((await socket.receive(timeout=10)).data)
        at = datetime.now(UTC).isoformat()  # clock-ok: a benchmark, not a test
        await socket.send_str(json.dumps({"type": "events", "events": [{"seq": 1, "type": "step_time", "at": at, "step": "ZipCode", "data": {"ms": 5}}]}))
        ack = json.loads((await socket.receive(timeout=10)).data)
        return f"{ready.get('type')} / {ack.get('type')} {ack.get('seqs')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="granian", choices=["granian", "hypercorn"])
    args = parser.parse_args(argv)
    print(f"command: python -m bench.granian_check --server {args.server}")
    failures = []

    def check(name: str, ok: bool, detail: str) -> None:
        print(f"{name:40}{'ok' if ok else 'FAILED'}  {detail}")
        if not ok:
            failures.append(name)

    database = f"bench_{uuid.uuid4().hex[:8]}"
    with embedded_mongo() as uri:
        asyncio.run(seed_demo(uri, database))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = os.environ | UNLIMITED | QUIET_POLLERS | {"MONGODB_URI": uri, "MONGODB_DATABASE": database}
        process = subprocess.Popen(server_command(args.server, port, "app:create_app()"), cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_until_ready(url + "/readyz", process)
            ready = httpx.get(url + "/readyz")
            check("lifespan: the database at start", ready.status_code == 200, f"/readyz {ready.status_code}")
            started = httpx.post(url + "/sessions", data={"page_url": ORIGIN + "/"}, headers=HEADERS)
            token, session_id = started.headers.get("X-Scheduler-Session", ""), started.headers.get("X-Scheduler-Session-Id", "")
            check("a booking session", started.status_code == 200 and bool(token), f"POST /sessions {started.status_code}")
            answered = asyncio.run(socket_round(url, session_id, token))
            check("the session's event WebSocket", answered == "ready / ack [1]", answered)
            metrics = httpx.get(url + "/metrics")
            check("/metrics", metrics.status_code == 200 and "scheduler_requests_total" in metrics.text, f"{metrics.status_code}")
            # Sessions started just before SIGTERM: their events wait in the process's queue.
            for _ in range(20):
                httpx.post(url + "/sessions", data={"page_url": ORIGIN + "/"}, headers=HEADERS)
            stopping = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)
            check("graceful SIGTERM", code == 0, f"exit {code} after {time.monotonic() - stopping:.1f} s")
        finally:
            if process.poll() is None:
                process.kill()
        with MongoClient(uri) as client:
            stored = client[database].session_events.count_documents({"source": "server", "type": "session_started"})
        check("events queued at SIGTERM are stored", stored == 21, f"{stored} of 21 sessions' session_started")
    if failures:
        print("FAILED: " + ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
